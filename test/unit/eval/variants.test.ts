import { describe, expect, it } from 'vitest';
import { estimateDualEnergyRatio, normaliseLowEnergy } from '../../../core/dual-energy-scale.js';
import { applyVariant, boxesIn, withLinesApart } from '../../../eval/variants.js';
import { scanImage } from '../../helpers/inference.js';

describe('robustness variants', () => {
  const img = scanImage(120, 40, 5, [{ x: 30, y: 10, w: 20, h: 20, a: 3 }], true);

  it('8-bit: every sample a multiple of 257, within half a step of the original', () => {
    const v = applyVariant(img, '8-bit', 1, 50_000);
    expect(v.high.every((x) => x % 257 === 0)).toBe(true);
    expect(v.low!.every((x) => x % 257 === 0)).toBe(true);
    expect(v.high.every((x, i) => Math.abs(x - img.high[i]) <= 129)).toBe(true);
  });

  it('dead channels: 8 rows read 0 in both energies', () => {
    const v = applyVariant(img, 'dead-channels', 1, 50_000);
    const dead = [];
    for (let r = 0; r < img.height; r++)
      if (v.high.subarray(r * 120, (r + 1) * 120).every((x) => x === 0)) dead.push(r);
    expect(dead.length).toBe(8);
    for (const r of dead) expect(v.low!.subarray(r * 120, (r + 1) * 120).every((x) => x === 0)).toBe(true);
  });

  it('missing lines: 40 lines flagged and filled between their neighbours', () => {
    const v = applyVariant(img, 'missing-lines', 3, 50_000);
    const flagged = [...v.missing!].reduce((a, b) => a + b, 0);
    expect(flagged).toBe(40);
    const x = v.missing!.findIndex((m, i) => m === 1 && v.missing![i - 1] === 0);
    expect(x).toBeGreaterThan(0);
    // a filled value lies between the present neighbours' values
    let b = x;
    while (v.missing![b]) b++;
    for (let r = 0; r < img.height; r++) {
      const lo = Math.min(img.high[r * 120 + x - 1], img.high[r * 120 + b]);
      const hi = Math.max(img.high[r * 120 + x - 1], img.high[r * 120 + b]);
      expect(v.high[r * 120 + x]).toBeGreaterThanOrEqual(lo);
      expect(v.high[r * 120 + x]).toBeLessThanOrEqual(hi);
    }
  });

  it('extra noise: deterministic per seed, zero mean, larger where there is more signal', () => {
    const a = applyVariant(img, 'extra-noise', 5, 50_000);
    const b = applyVariant(img, 'extra-noise', 5, 50_000);
    expect(a.high).toEqual(b.high);
    let sum = 0,
      n = 0;
    for (let i = 0; i < img.high.length; i++) {
      if (img.high[i] < 65535) {
        sum += a.high[i] - img.high[i];
        n++;
      }
    }
    expect(Math.abs(sum / n)).toBeLessThan(30);
    expect(a.high.some((x, i) => x !== img.high[i])).toBe(true);
  });

  it('open beam at 60 %: written at 0.6 of full scale and read back to within a step of the original', () => {
    // large enough for the border estimate (core/open-beam.ts: at least 2,000 border pixels)
    const big = scanImage(300, 100, 5, [{ x: 100, y: 40, w: 30, h: 30, a: 3 }], true);
    const v = applyVariant(big, 'open-beam-60', 1, 50_000);
    expect(v.high).not.toBe(big.high);
    // air is drawn noisy (1 %) before it is written; everything else comes back within 1 %
    for (const [out, orig] of [
      [v.high, big.high],
      [v.low!, big.low!],
    ]) {
      let checked = 0;
      for (let i = 0; i < orig.length; i++) {
        if (orig[i] >= 60000 || orig[i] < 100) continue;
        expect(Math.abs(out[i] / orig[i] - 1)).toBeLessThan(0.01);
        checked++;
      }
      expect(checked).toBeGreaterThan(10_000);
    }
  });

  it('attenuation x1.3 / x0.8: the log attenuation scales, open beam stays open beam', () => {
    const up = applyVariant(img, 'attenuation-x1.3', 1, 50_000);
    const down = applyVariant(img, 'attenuation-x0.8', 1, 50_000);
    const att = (x: number) => -Math.log(x / 65535);
    let checked = 0;
    for (let i = 0; i < img.high.length; i++) {
      const a = att(img.high[i]);
      if (a < 0.5) continue;
      expect(att(up.high[i]) / a).toBeCloseTo(1.3, 2);
      expect(att(down.low![i]) / att(img.low![i])).toBeCloseTo(0.8, 2);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
    const air = img.high.indexOf(65535);
    expect(air).toBeGreaterThanOrEqual(0);
    expect(up.high[air]).toBe(65535);
  });

  it('low energy x1.15 / x0.9: written with another ratio and read back as the runtime reads the pair', () => {
    const big = scanImage(300, 100, 5, [{ x: 100, y: 40, w: 30, h: 30, a: 3 }], true);
    const asRead = normaliseLowEnergy(big.high, big.low!).low;
    for (const name of ['low-energy-x1.15', 'low-energy-x0.9'] as const) {
      const v = applyVariant(big, name, 1, 50_000);
      expect(v.high).toBe(big.high);
      const r = estimateDualEnergyRatio(v.high, v.low!)!.ratio;
      expect(r).toBeCloseTo(estimateDualEnergyRatio(big.high, asRead)!.ratio, 2);
    }
  });

  it('lines 2x apart: half the lines, named or read as square', () => {
    const named = applyVariant(img, 'lines-2x-apart', 1, 50_000);
    const square = applyVariant(img, 'lines-2x-apart-square', 1, 50_000);
    expect([named.width, named.lineMm, square.width, square.lineMm]).toEqual([
      img.width / 2,
      2 * img.pixelMm,
      img.width / 2,
      undefined,
    ]);
    expect(square.high).toEqual(named.high);
    // the people's boxes follow the lines
    const box = { x: 10, y: 4, w: 6, h: 4 };
    expect(boxesIn([box], img, named)).toEqual([{ x: 5, y: 4, w: 3, h: 4 }]);
    expect(boxesIn([box], img, applyVariant(img, '8-bit', 1, 50_000))).toEqual([box]);
  });

  it('high energy only drops the low plane', () => {
    const v = applyVariant(img, 'high-energy-only', 1, 50_000);
    expect(v.low).toBeUndefined();
    expect(v.high).toBe(img.high);
  });

  it('resampled lines: a vehicle twice as fast averages line pairs, half as fast splits each line in two; named or square', () => {
    const img = scanImage(40, 12, 5, [{ x: 10, y: 4, w: 6, h: 4, a: 3 }], true);
    const fast = withLinesApart(img, 2, true);
    expect([fast.width, fast.height, fast.pixelMm, fast.lineMm]).toEqual([20, 12, 5, 10]);
    expect(fast.high[5 * 20 + 3]).toBe(Math.round((img.high[5 * 40 + 6]! + img.high[5 * 40 + 7]!) / 2));
    expect(fast.low![5 * 20 + 3]).toBe(Math.round((img.low![5 * 40 + 6]! + img.low![5 * 40 + 7]!) / 2));
    const slow = withLinesApart(img, 0.5, false);
    expect([slow.width, slow.lineMm]).toEqual([80, undefined]);
    for (let x = 0; x < 80; x++) expect(slow.high[6 * 80 + x]).toBe(img.high[6 * 40 + (x >> 1)]);
  });
});
