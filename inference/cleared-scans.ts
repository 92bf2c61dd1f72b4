/**
 * A site's own alert threshold, read from scans it knows hold no people (cleared after a search, or
 * by the operator): the lowest scan score at which at most a given share of them would alarm. The
 * model's operating point was chosen on synthetic scans; a site's vehicles, loads and scanner differ,
 * and its cleared scans say how often the model alarms on them.
 */

/** What `alertForCleared` found. */
export interface ClearedThreshold {
  /** Cleared scans read. */
  readonly scans: number;
  /** Alarms that the share allows among them (floor(share × scans)). */
  readonly allowed: number;
  /** The lowest alert threshold (4 decimals) at which at most `allowed` of the scans score at or above it. */
  readonly alert: number;
  /** Cleared scans that score at or above `alert`: at most `allowed`, unless scores of 1 leave no higher threshold. */
  readonly flagged: number;
}

/**
 * The lowest alert threshold, on a grid of 1e-4, at which at most floor(maxShare × n) of the cleared
 * scans' scores are at or above it. Scores are the lane's calibrated scan scores in [0, 1]
 * (lanes[].thresholds.alert compares the same number).
 */
export function alertForCleared(scores: readonly number[], maxShare: number): ClearedThreshold {
  if (!(maxShare >= 0 && maxShare < 1))
    throw new RangeError(`cleared scans: the false-alarm share must be in [0, 1), got ${maxShare}`);
  const bad = scores.findIndex((s) => !(s >= 0 && s <= 1));
  if (bad >= 0) throw new RangeError(`cleared scans: score ${bad} is ${scores[bad]}, not in [0, 1]`);
  const sorted = [...scores].sort((a, b) => b - a);
  const allowed = Math.floor(maxShare * sorted.length + 1e-9);
  // Above the (allowed + 1)-th highest score: it and every score tied with it stay below the threshold.
  const alert = allowed >= sorted.length ? 0 : Math.min(1, (Math.floor(sorted[allowed] * 1e4) + 1) / 1e4);
  const flagged = sorted.filter((s) => s >= alert).length;
  return { scans: sorted.length, allowed, alert, flagged };
}
