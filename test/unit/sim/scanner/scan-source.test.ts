import { describe, expect, it } from 'vitest';
import { DUAL_ENERGY_REFERENCE, estimateDualEnergyRatio } from '../../../../core/dual-energy-scale.js';
import { arraySource, withLinePitch, withLowEnergyScale, type SimScan } from '../../../../sim/scanner/scan-source.js';

describe('withLowEnergyScale: a scanner of another energy pair', () => {
  // Steel-like attenuation 1.2-3.8 with the training scanner's low/high ratio (the reference) on every pixel.
  const w = 200;
  const h = 60;
  const high = new Uint16Array(w * h);
  const low = new Uint16Array(w * h);
  for (let i = 0; i < w * h; i++) {
    const a = 1.2 + (2.6 * ((i * 7) % 97)) / 96;
    high[i] = Math.round(65535 * Math.exp(-a));
    low[i] = Math.round(65535 * Math.exp(-a * DUAL_ENERGY_REFERENCE));
  }
  const scan: SimScan = { width: w, height: h, pixelMm: 5, high, low, origin: 'steel' };

  it('multiplies the low-energy attenuation by k, leaves the high energy and single-energy scans alone', async () => {
    const src = withLowEnergyScale(arraySource([scan, { ...scan, low: undefined }]), 1.15);
    expect(src.describe).toMatch(/low-energy attenuation x1\.15$/);
    const s = await src.next(0);
    expect(s.high).toBe(high);
    expect(estimateDualEnergyRatio(s.high, s.low!)!.ratio).toBeCloseTo(DUAL_ENERGY_REFERENCE * 1.15, 2);
    expect((await src.next(1)).low).toBeUndefined();
    await src.close();
  });
});

describe('withLinePitch: a scanner with a fixed line rate', () => {
  it('resamples each scan along the scan to the pitch asked, says it in lineMm, and keeps the channels', async () => {
    const w = 12;
    const h = 3;
    const high = Uint16Array.from({ length: w * h }, (_, i) => 1000 * (i % w) + 7 * Math.floor(i / w));
    const scan: SimScan = { width: w, height: h, pixelMm: 5, high, low: high.map((v) => v + 1), origin: 'ramp' };
    const src = withLinePitch(arraySource([scan]), 10);
    expect(src.describe).toMatch(/lines 10 mm apart$/);
    const s = await src.next(0);
    expect([s.width, s.height, s.pixelMm, s.lineMm, s.origin]).toEqual([6, 3, 5, 10, 'ramp']);
    // line j of the new scan averages lines 2j and 2j + 1
    expect(s.high[1 * 6 + 2]).toBe(Math.round((high[1 * w + 4]! + high[1 * w + 5]!) / 2));
    expect(s.low![2 * 6 + 5]).toBe(Math.round((high[2 * w + 10]! + high[2 * w + 11]! + 2) / 2));
    await src.close();
  });
});
