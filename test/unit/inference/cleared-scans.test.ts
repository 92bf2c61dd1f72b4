import { describe, expect, it } from 'vitest';
import { alertForCleared } from '../../../inference/cleared-scans.js';

describe('alertForCleared', () => {
  it('with too few scans gives only a lower bound: just above the highest of them', () => {
    const r = alertForCleared([0.2, 0.91, 0.5], 0.02);
    expect(r).toEqual({
      scans: 3,
      scansNeeded: 49,
      enough: false,
      alert: 0.9101,
      flagged: 0,
      bound: null,
      saturated: false,
    });
  });

  it('leaves floor(share (n + 1)) - 1 scans above it, so a new one alarms with probability at most the share', () => {
    const scores = Array.from({ length: 99 }, (_, i) => i / 100); // 0 .. 0.98
    scores.push(0.97); // a tie with the second highest
    const r = alertForCleared(scores, 0.02); // n = 100: k = floor(2.02) - 1 = 1
    expect(r.enough).toBe(true);
    expect(r.alert).toBe(0.9701); // above the second highest and the score tied with it
    expect(r.flagged).toBe(1);
    expect(r.bound).toBeCloseTo(2 / 101, 12);
    expect(r.bound).toBeLessThanOrEqual(0.02);
    // 49 scans bound 2 % with none above; 48 do not.
    expect(alertForCleared(Array(49).fill(0.1), 0.02)).toMatchObject({
      enough: true,
      alert: 0.1001,
      flagged: 0,
      bound: 0.02,
    });
    expect(alertForCleared(Array(48).fill(0.1), 0.02).enough).toBe(false);
  });

  it('lies strictly above a score that is itself on the grid', () => {
    // 0.57 * 1e4 is 5699.999… in binary floating point
    for (const s of [0.57, 0.0003, 0.0006, 0.69, 0.5]) {
      const r = alertForCleared([s], 0.5); // n = 1: k = floor(1) - 1 = 0
      expect(r.alert).toBeGreaterThan(s);
      expect(r.alert).toBeLessThanOrEqual(s + 1e-4 + 1e-12);
      expect(r.flagged).toBe(0);
    }
  });

  it('says when the scores to stay below reach the top of the scale', () => {
    expect(alertForCleared([1, 1], 0.4)).toMatchObject({ alert: 1, flagged: 2, saturated: true, bound: null });
    expect(alertForCleared([0.99995], 0.5)).toMatchObject({ alert: 1, flagged: 0, saturated: true });
    expect(alertForCleared([0.9], 0.5).saturated).toBe(false);
  });

  it('refuses a share outside (0, 1), no scores, and a score outside [0, 1], saying which', () => {
    expect(() => alertForCleared([0.5], 1)).toThrow(/share must be in \(0, 1\), got 1/);
    expect(() => alertForCleared([0.5], 0)).toThrow(/share must be in \(0, 1\), got 0/);
    expect(() => alertForCleared([], 0.02)).toThrow(/no scores/);
    expect(() => alertForCleared([0.5, Number.NaN], 0.02)).toThrow(/score 1 is NaN/);
  });
});
