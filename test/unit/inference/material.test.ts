import { describe, expect, it } from 'vitest';
import type { ScanImage } from '../../../core/domain.js';
import { regionEvidence } from '../../../inference/material.js';
import { bodyEvidenceAllows } from '../../../pipeline/lane-pipeline.js';

// mu/rho (cm^2/g) at 4 and 6 MeV, NIST XCOM: water and iron.
const WATER = { low: 0.03403, high: 0.0277, rho: 1.0 };
const IRON = { low: 0.03316, high: 0.03105, rho: 7.87 };

/** A 120 x 80 dual-energy scan: 4 mm of steel wall everywhere, plus `block` mm of a material in the box 40..80 x 20..60. */
function scan(block: { m: typeof WATER; mm: number } | null): ScanImage {
  const width = 120,
    height = 80;
  const high = new Uint16Array(width * height),
    low = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let aH = (IRON.high * IRON.rho * 4) / 10,
        aL = (IRON.low * IRON.rho * 4) / 10;
      if (block && x >= 40 && x < 80 && y >= 20 && y < 60) {
        aH += (block.m.high * block.m.rho * block.mm) / 10;
        aL += (block.m.low * block.m.rho * block.mm) / 10;
      }
      high[y * width + x] = Math.round(65535 * Math.exp(-aH));
      low[y * width + x] = Math.round(65535 * Math.exp(-aL));
    }
  }
  return { width, height, pixelMm: 5, high, low };
}
const box = { x: 40, y: 20, w: 40, h: 40 };

describe('material evidence of a region', () => {
  it('finds 300 mm of water behind a steel wall: organic, about 300 mm water-equivalent, body-plausible', () => {
    const e = regionEvidence(scan({ m: WATER, mm: 300 }), box)!;
    expect(e.material).toBe('organic');
    expect(e.ratio).toBeCloseTo(1.229, 2);
    expect(e.waterEquivalentMm).toBeGreaterThan(290);
    expect(e.waterEquivalentMm).toBeLessThan(310);
    expect(e.bodyPlausible).toBe(true);
  });

  it('calls 40 mm of steel metal and not a body; a region that adds nothing unknown', () => {
    const steel = regionEvidence(scan({ m: IRON, mm: 40 }), box)!;
    expect(steel.material).toBe('metal');
    expect(steel.bodyPlausible).toBe(false);
    const nothing = regionEvidence(scan(null), box)!;
    expect(nothing.material).toBe('unknown');
    expect(nothing.bodyPlausible).toBe(false);
  });

  it('gives no evidence without a low-energy image', () => {
    const { low: _low, ...single } = scan({ m: WATER, mm: 300 });
    expect(regionEvidence(single, box)).toBeUndefined();
  });

  it('lets a lane that requires body evidence alarm on a dual-energy scan only with a plausible region', () => {
    const plausible = { ...box, score: 0.9, evidence: regionEvidence(scan({ m: WATER, mm: 300 }), box)! };
    const metal = { ...box, score: 0.9, evidence: regionEvidence(scan({ m: IRON, mm: 40 }), box)! };
    expect(bodyEvidenceAllows('require', [metal], true)).toBe(false);
    expect(bodyEvidenceAllows('require', [], true)).toBe(false);
    expect(bodyEvidenceAllows('require', [metal, plausible], true)).toBe(true);
    expect(bodyEvidenceAllows('require', [], false)).toBe(true); // single energy: the score decides
    expect(bodyEvidenceAllows('report', [metal], true)).toBe(true);
  });
});
