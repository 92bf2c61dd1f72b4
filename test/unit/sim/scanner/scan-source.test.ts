import { describe, expect, it } from 'vitest';
import { DUAL_ENERGY_REFERENCE, estimateDualEnergyRatio } from '../../../../core/dual-energy-scale.js';
import { arraySource, withLowEnergyScale, type SimScan } from '../../../../sim/scanner/scan-source.js';

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
