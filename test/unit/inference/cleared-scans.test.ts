import { describe, expect, it } from 'vitest';
import { alertForCleared } from '../../../inference/cleared-scans.js';

describe('alertForCleared', () => {
  it('puts the threshold just above the highest score when the share allows no alarm', () => {
    const r = alertForCleared([0.2, 0.91, 0.5], 0.02);
    expect(r).toEqual({ scans: 3, allowed: 0, alert: 0.9101, flagged: 0 });
  });

  it('allows floor(share × scans) alarms, and ties with the next score stay below', () => {
    const scores = Array.from({ length: 100 }, (_, i) => i / 100);
    scores.push(0.97); // tied with 0.97 above
    const r = alertForCleared(scores, 0.02); // 101 scans: 2 alarms allowed
    expect(r.allowed).toBe(2);
    expect(r.alert).toBe(0.9701);
    expect(r.flagged).toBe(2); // 0.98 and 0.99; both 0.97s below
    expect(scores.filter((s) => s >= r.alert).length).toBe(r.flagged);
  });

  it('never exceeds 1, and a share that allows every scan needs no threshold', () => {
    expect(alertForCleared([1, 1], 0).alert).toBe(1);
    expect(alertForCleared([1, 1], 0).flagged).toBe(2); // a score of 1 alarms at any threshold
    expect(alertForCleared([0.3], 0.5)).toEqual({ scans: 1, allowed: 0, alert: 0.3001, flagged: 0 });
    expect(alertForCleared([], 0.02)).toEqual({ scans: 0, allowed: 0, alert: 0, flagged: 0 });
  });

  it('refuses a share outside [0, 1) and a score outside [0, 1], saying which', () => {
    expect(() => alertForCleared([0.5], 1)).toThrow(/share must be in \[0, 1\), got 1/);
    expect(() => alertForCleared([0.5, Number.NaN], 0.02)).toThrow(/score 1 is NaN/);
  });
});
