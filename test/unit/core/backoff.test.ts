import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../core/backoff.js';

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs, with the jitter drawn within [d/2, d]', () => {
    const lo = new Backoff(100, 1000, () => 0);
    expect([1, 2, 3, 4, 5, 6].map(() => lo.next())).toEqual([50, 100, 200, 400, 500, 500]);
    const hi = new Backoff(100, 1000, () => 1);
    expect([1, 2, 3, 4, 5].map(() => hi.next())).toEqual([100, 200, 400, 800, 1000]);
  });

  it('starts again from initialMs after reset', () => {
    const b = new Backoff(100, 1000, () => 1);
    b.next();
    b.next();
    expect(b.attempt).toBe(2);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('spreads delays with Math.random', () => {
    const b = new Backoff(1000, 1000);
    const xs = Array.from({ length: 50 }, () => b.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...xs)).toBeLessThanOrEqual(1000);
    expect(new Set(xs).size).toBeGreaterThan(10);
  });

  it('rejects a bad range', () => {
    expect(() => new Backoff(0, 10)).toThrow(/initialMs/);
    expect(() => new Backoff(100, 10)).toThrow(/maxMs/);
  });
});
