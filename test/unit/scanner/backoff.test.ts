import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../firmware-bridge/scanner/transport/backoff.js';

describe('Backoff', () => {
  it('doubles up to the maximum, jittered within [d/2, d], and starts over on reset', () => {
    let r = 0;
    const b = new Backoff(100, 1000, () => r);
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([50, 100, 200, 400, 500, 500]);
    r = 0.999999;
    b.reset();
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000]);
  });

  it('spreads delays with real randomness', () => {
    const b = new Backoff(1000, 1000);
    const ds = Array.from({ length: 50 }, () => b.next());
    expect(Math.min(...ds)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...ds)).toBeLessThanOrEqual(1000);
    expect(new Set(ds).size).toBeGreaterThan(10);
  });
});
