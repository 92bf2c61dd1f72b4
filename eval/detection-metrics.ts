import type { Region } from '../core/domain.js';

/** A box in scan pixels. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** IoU of two boxes. */
export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

const inside = (px: number, py: number, b: Box) => px >= b.x && px < b.x + b.w && py >= b.y && py < b.y + b.h;

/**
 * A region finds a person when it overlaps the person's box with IoU >= 0.1, or when the region's
 * centre lies inside the person's box (a small region on a large body). A region more than ten
 * times the box's area that merely contains it does not count: it does not say where the person is.
 */
export function regionFinds(region: Box, person: Box): boolean {
  if (iou(region, person) >= 0.1) return true;
  return inside(region.x + region.w / 2, region.y + region.h / 2, person);
}

/** One scan's outcome, threshold-free: the verdict at any alert threshold follows from score. */
export interface ScanOutcome {
  score: number;
  /** Per person: whether a region (at or above the region threshold) finds it. */
  peopleMatched: boolean[];
}

export function matchPeople(people: Box[], regions: Region[], regionThreshold: number): boolean[] {
  const rs = regions.filter((r) => r.score >= regionThreshold);
  return people.map((p) => rs.some((r) => regionFinds(r, p)));
}

/** ROC AUC of scores (positives vs negatives), ties counted half (Mann-Whitney). NaN if a class is empty. */
export function rocAuc(pos: number[], neg: number[]): number {
  if (!pos.length || !neg.length) return NaN;
  const all = [...pos.map((s) => ({ s, p: 1 })), ...neg.map((s) => ({ s, p: 0 }))].sort((a, b) => a.s - b.s);
  let rankSumPos = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k].p) rankSumPos += avgRank;
    i = j;
  }
  return (rankSumPos - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}

/** ROC points (false positive rate, true positive rate) from the highest threshold down. */
export function rocCurve(pos: number[], neg: number[]): { fpr: number; tpr: number; threshold: number }[] {
  const ts = [...new Set([...pos, ...neg])].sort((a, b) => b - a);
  const pts = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  for (const t of ts) {
    pts.push({
      fpr: neg.filter((s) => s >= t).length / Math.max(1, neg.length),
      tpr: pos.filter((s) => s >= t).length / Math.max(1, pos.length),
      threshold: t,
    });
  }
  return pts;
}

/**
 * The lowest alert threshold at which at most maxRate of the clear scans alarm: just above the
 * (floor(maxRate * n) + 1)-th highest clear score.
 */
export function operatingThreshold(clearScores: number[], maxRate: number): number {
  if (!clearScores.length) return 0.5;
  const sorted = [...clearScores].sort((a, b) => b - a);
  const allowed = Math.floor(maxRate * sorted.length + 1e-9);
  if (allowed >= sorted.length) return 0;
  const v = sorted[allowed];
  return Math.min(1, nextUp(v));
}

function nextUp(v: number): number {
  return v + Math.max(1e-9, Math.abs(v) * 1e-9);
}

export interface Rates {
  scans: number;
  scansWithPeople: number;
  clearScans: number;
  people: number;
  peopleFound: number;
  /** Share of people found: scan verdict person and a region finding them. */
  recall: number;
  /** Share of scans with people whose verdict is person. */
  scanRecall: number;
  falseAlarms: number;
  /** False alarms per scan without people (verdict person on a clear scan). */
  falseAlarmRate: number;
}

export function rates(scans: ScanOutcome[], threshold: number): Rates {
  let people = 0,
    found = 0,
    withPeople = 0,
    flaggedWithPeople = 0,
    clear = 0,
    fa = 0;
  for (const s of scans) {
    const flagged = s.score >= threshold;
    if (s.peopleMatched.length) {
      withPeople++;
      if (flagged) flaggedWithPeople++;
      people += s.peopleMatched.length;
      if (flagged) found += s.peopleMatched.filter(Boolean).length;
    } else {
      clear++;
      if (flagged) fa++;
    }
  }
  return {
    scans: scans.length,
    scansWithPeople: withPeople,
    clearScans: clear,
    people,
    peopleFound: found,
    recall: people ? found / people : NaN,
    scanRecall: withPeople ? flaggedWithPeople / withPeople : NaN,
    falseAlarms: fa,
    falseAlarmRate: clear ? fa / clear : NaN,
  };
}

export function auc(scans: ScanOutcome[]): number {
  return rocAuc(
    scans.filter((s) => s.peopleMatched.length).map((s) => s.score),
    scans.filter((s) => !s.peopleMatched.length).map((s) => s.score),
  );
}
