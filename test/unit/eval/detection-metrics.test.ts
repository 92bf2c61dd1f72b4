import { describe, expect, it } from 'vitest';
import {
  iou,
  matchPeople,
  operatingThreshold,
  rates,
  regionFinds,
  rocAuc,
  rocCurve,
} from '../../../eval/detection-metrics.js';

describe('eval metrics', () => {
  it('IoU and the found rule (IoU >= 0.1 or the region centre inside the person box)', () => {
    expect(iou({ x: 0, y: 0, w: 10, h: 10 }, { x: 5, y: 0, w: 10, h: 10 })).toBeCloseTo(50 / 150);
    expect(regionFinds({ x: 100, y: 100, w: 10, h: 10 }, { x: 0, y: 0, w: 50, h: 50 })).toBe(false);
    // a small region inside a large person box: IoU 0.04 but its centre is inside
    expect(regionFinds({ x: 10, y: 10, w: 10, h: 10 }, { x: 0, y: 0, w: 50, h: 50 })).toBe(true);
    // a region 9x the area of a child's box around it: IoU 0.11
    expect(regionFinds({ x: 0, y: 0, w: 24, h: 24 }, { x: 8, y: 8, w: 8, h: 8 })).toBe(true);
    // a region covering half the vehicle that merely contains the box does not say where the person is
    expect(regionFinds({ x: 0, y: 0, w: 100, h: 100 }, { x: 70, y: 70, w: 8, h: 8 })).toBe(false);
    const m = matchPeople(
      [
        { x: 0, y: 0, w: 50, h: 50 },
        { x: 500, y: 0, w: 50, h: 50 },
      ],
      [
        { x: 10, y: 10, w: 30, h: 30, score: 0.9 },
        { x: 500, y: 0, w: 50, h: 50, score: 0.2 },
      ],
      0.3,
    );
    expect(m).toEqual([true, false]);
  });

  it('ROC AUC with ties, and the curve', () => {
    expect(rocAuc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(rocAuc([0.1], [0.9])).toBe(0);
    expect(rocAuc([0.5], [0.5])).toBe(0.5);
    expect(rocAuc([0.9, 0.4], [0.5, 0.1])).toBe(0.75);
    const c = rocCurve([0.9, 0.4], [0.5, 0.1]);
    expect(c[0]).toMatchObject({ fpr: 0, tpr: 0 });
    expect(c[c.length - 1]).toMatchObject({ fpr: 1, tpr: 1 });
  });

  it('operating threshold allows at most the given false alarm rate', () => {
    const clear = Array.from({ length: 100 }, (_, i) => i / 100); // 0.00 .. 0.99
    const t = operatingThreshold(clear, 0.02);
    expect(clear.filter((s) => s >= t).length).toBe(2);
    expect(t).toBeGreaterThan(0.97);
    expect(t).toBeLessThan(0.971);
  });

  it('recall counts people found only on flagged scans; false alarms only on clear scans', () => {
    const scans = [
      { score: 0.9, peopleMatched: [true, false] },
      { score: 0.3, peopleMatched: [true] },
      { score: 0.6, peopleMatched: [] },
      { score: 0.1, peopleMatched: [] },
    ];
    const r = rates(scans, 0.5);
    expect(r).toMatchObject({ people: 3, peopleFound: 1, scansWithPeople: 2, clearScans: 2, falseAlarms: 1 });
    expect(r.recall).toBeCloseTo(1 / 3);
    expect(r.scanRecall).toBe(0.5);
    expect(r.falseAlarmRate).toBe(0.5);
  });
});
