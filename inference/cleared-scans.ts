/**
 * A lane's own alert threshold, read from scans it knows hold no people (cleared after a search, or
 * by the operators): the threshold at which a new cleared scan like them alarms with probability at
 * most a given share. The model's operating point was chosen on synthetic scans; a lane's vehicles,
 * loads, scanner and export differ, and its cleared scans say how often the model alarms on them.
 *
 * The threshold sits just above the (k + 1)-th highest of n cleared scores with k = floor(share (n + 1)) - 1.
 * If the cleared scans and the new one are alike (exchangeable), the new one scores above it with
 * probability at most (k + 1) / (n + 1) <= share (the split-conformal bound; Vovk, Gammerman and Shafer,
 * "Algorithmic Learning in a Random World", 2005). Fewer than ceil(1 / share) - 1 scans bound nothing:
 * the threshold must then lie above the highest of them at the least.
 */

/** What `alertForCleared` found. */
export interface ClearedThreshold {
  /** Cleared scans read. */
  readonly scans: number;
  /** Fewest cleared scans that can bound the share: ceil(1 / share) - 1. */
  readonly scansNeeded: number;
  /** scans >= scansNeeded: the threshold bounds the share; otherwise it is only a lower bound for one. */
  readonly enough: boolean;
  /** Just above the (k + 1)-th highest score (the highest when too few), on a grid of 1e-4, at most 1. */
  readonly alert: number;
  /** Cleared scans scoring at or above `alert`. */
  readonly flagged: number;
  /** (k + 1) / (scans + 1): the bound on a new cleared scan alarming at `alert`; null when too few or saturated. */
  readonly bound: number | null;
  /** The scores to stay below reach the top of the grid (>= 0.9999): no threshold does so. */
  readonly saturated: boolean;
}

const GRID = 1e4;

/** The smallest grid value strictly above s (s in [0, 1]); above 1 when none is. */
function gridAbove(s: number): number {
  let g = Math.floor(s * GRID);
  while (g / GRID <= s) g++;
  return g / GRID;
}

/**
 * A lane's alert threshold from the calibrated scan scores (in [0, 1], as lanes[].thresholds.alert
 * compares) of its cleared scans, for at most `share` (0 < share < 1) false alarms.
 */
export function alertForCleared(scores: readonly number[], share: number): ClearedThreshold {
  if (!(share > 0 && share < 1))
    throw new RangeError(`cleared scans: the false-alarm share must be in (0, 1), got ${share}`);
  if (scores.length === 0) throw new RangeError('cleared scans: no scores');
  const bad = scores.findIndex((s) => !(s >= 0 && s <= 1));
  if (bad >= 0) throw new RangeError(`cleared scans: score ${bad} is ${scores[bad]}, not in [0, 1]`);
  const sorted = [...scores].sort((a, b) => b - a);
  const n = sorted.length;
  const scansNeeded = Math.max(1, Math.ceil(1 / share - 1e-9) - 1);
  const k = Math.floor(share * (n + 1) + 1e-9) - 1;
  const enough = k >= 0;
  const edge = sorted[Math.max(0, k)]; // the score to stay above: the (k + 1)-th highest, or the highest
  const above = gridAbove(edge);
  const alert = Math.min(1, above);
  const saturated = above > 1 || edge >= 1 - 1 / GRID;
  return {
    scans: n,
    scansNeeded,
    enough,
    alert,
    flagged: sorted.filter((s) => s >= alert).length,
    bound: enough && !saturated ? (k + 1) / (n + 1) : null,
    saturated,
  };
}
