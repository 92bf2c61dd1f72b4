import { describe, expect, it } from 'vitest';
import { type ResolvedDetector, exposeProjection } from '../../../../sim/xray/detector-array.js';
import { Rng } from '../../../../sim/xray/prng.js';
import { Projection, v3, X, Z } from '../../../../sim/xray/projection.js';
import { scanLines, synthesizeScan } from '../../../../sim/xray/index.js';

// NIST XCOM mass attenuation coefficients (cm^2/g), written out here rather than read from the
// module under test: water 0.02770 @ 6 MeV, 0.03403 @ 4 MeV; iron 0.03105 @ 6 MeV, 0.03316 @ 4 MeV.
const WATER = { high: 0.0277, low: 0.03403, rho: 1.0 };
const IRON = { high: 0.03105, low: 0.03316, rho: 7.87 };

function ideal(over: Partial<ResolvedDetector> = {}): ResolvedDetector {
  return {
    photonsHigh: 50_000,
    photonsLow: 30_000,
    noise: false,
    gainSigma: 0,
    deadChannels: [],
    flickerSigma: 0,
    blur: 0,
    missingLines: [],
    readNoise: 0,
    scatter: 0,
    cabDose: 1,
    cabLines: 0,
    ...over,
  };
}

function slab(material: 'water' | 'steel', mm: number, size = 120): Projection {
  const p = new Projection(size, size, 5, new Rng(1));
  p.box(100, (size - 20) * 5, 100, (size - 20) * 5, mm, { material });
  return p;
}

describe('Beer-Lambert transmission', () => {
  for (const [material, mm, coef] of [
    ['water', 300, WATER],
    ['water', 1000, WATER],
    ['steel', 50, IRON],
    ['steel', 200, IRON],
  ] as const) {
    it(`${mm} mm of ${material} at both energies matches I0 exp(-mu t) within 1 %`, () => {
      const out = exposeProjection(slab(material, mm), ideal(), true, new Rng(2));
      const centre = 60 * 120 + 60;
      for (const [img, mu] of [
        [out.high, coef.high],
        [out.low!, coef.low],
      ] as const) {
        const expected = 65535 * Math.exp(-mu * coef.rho * (mm / 10));
        expect(Math.abs(img[centre] - expected) / expected).toBeLessThan(0.01);
      }
      // Open beam outside the slab.
      expect(out.high[5 * 120 + 5]).toBe(65535);
    });
  }

  it('adds path lengths of stacked materials (water behind steel)', () => {
    const p = new Projection(60, 60, 5, new Rng(1));
    p.box(50, 250, 50, 250, 400, { material: 'water' });
    p.box(50, 250, 50, 250, 30, { material: 'steel' });
    const out = exposeProjection(p, ideal(), false, new Rng(3));
    const expected = 65535 * Math.exp(-(WATER.high * 40 + IRON.high * IRON.rho * 3));
    expect(Math.abs(out.high[30 * 60 + 30] - expected) / expected).toBeLessThan(0.01);
  });

  it('gives the exact chord through a cylinder and an ellipsoid', () => {
    const p = new Projection(200, 200, 5, new Rng(1));
    // Upright water cylinder of radius 300 mm centred at x = 500: chord 2*sqrt(r^2 - dx^2).
    p.rod(v3(502.5, 0, 100), v3(502.5, 0, 900), 300, { material: 'water' });
    const muPerMm = (WATER.high * WATER.rho) / 10;
    const row = 200 - 100; // z = 497.5 mm
    for (const dx of [0, 100, 250]) {
      const i = 100 + dx / 5; // pixel centre x = 502.5 + dx
      expect(p.attHigh[row * 200 + i] / muPerMm).toBeCloseTo(2 * Math.sqrt(300 ** 2 - dx ** 2), 1);
    }
    const q = new Projection(200, 200, 5, new Rng(1));
    q.ellipsoid(v3(502.5, 0, 502.5), [X, v3(0, 1, 0), Z], [400, 150, 250], { material: 'water' });
    const r0 = 200 - 101; // z = 502.5
    expect(q.attHigh[r0 * 200 + 100] / muPerMm).toBeCloseTo(300, 1);
    // At x offset 200 mm: 2 * 150 * sqrt(1 - (200/400)^2).
    expect(q.attHigh[r0 * 200 + 140] / muPerMm).toBeCloseTo(300 * Math.sqrt(0.75), 1);
  });
});

describe('photon noise', () => {
  it('has the variance of Poisson statistics at the stated dose', () => {
    const photons = 20_000;
    const p = slab('water', 200, 260);
    const out = exposeProjection(p, ideal({ noise: true, photonsHigh: photons }), false, new Rng(9));
    const T = Math.exp(-WATER.high * 20);
    const vals: number[] = [];
    for (let r = 40; r < 220; r++) for (let i = 40; i < 220; i++) vals.push(out.high[r * 260 + i]);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / (vals.length - 1);
    // out = 65535 * n / I0 with n ~ Poisson(I0 T): mean 65535 T, variance 65535^2 T / I0.
    expect(Math.abs(mean - 65535 * T) / (65535 * T)).toBeLessThan(0.002);
    const expectedVar = (65535 ** 2 * T) / photons;
    expect(Math.abs(variance - expectedVar) / expectedVar).toBeLessThan(0.04);
  });

  it('is exact Poisson at low counts (variance equals mean in photon units)', () => {
    const photons = 24;
    const p = slab('water', 250, 260);
    const out = exposeProjection(p, ideal({ noise: true, photonsHigh: photons }), false, new Rng(10));
    const lambda = photons * Math.exp(-WATER.high * 25);
    const counts: number[] = [];
    for (let r = 40; r < 220; r++)
      for (let i = 40; i < 220; i++) counts.push((out.high[r * 260 + i] * photons) / 65535);
    for (const c of counts.slice(0, 200)) expect(Math.abs(c - Math.round(c))).toBeLessThan(0.01); // whole photons
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    const variance = counts.reduce((a, b) => a + (b - mean) ** 2, 0) / (counts.length - 1);
    expect(Math.abs(mean - lambda) / lambda).toBeLessThan(0.02);
    expect(Math.abs(variance - lambda) / lambda).toBeLessThan(0.05);
  });
});

describe('readout noise and scatter', () => {
  it('readout noise adds its variance to the photon noise', () => {
    const photons = 200;
    const p = slab('water', 200, 260);
    const T = Math.exp(-WATER.high * 20);
    const variance = (readNoise: number) => {
      const out = exposeProjection(p, ideal({ noise: true, photonsHigh: photons, readNoise }), false, new Rng(31));
      const c: number[] = [];
      for (let r = 40; r < 220; r++) for (let i = 40; i < 220; i++) c.push((out.high[r * 260 + i] * photons) / 65535);
      const m = c.reduce((a, b) => a + b, 0) / c.length;
      return c.reduce((a, b) => a + (b - m) ** 2, 0) / (c.length - 1);
    };
    const lambda = photons * T;
    expect(Math.abs(variance(0) - lambda) / lambda).toBeLessThan(0.04);
    expect(Math.abs(variance(5) - (lambda + 25)) / (lambda + 25)).toBeLessThan(0.04);
  });

  it('scatter lifts an opaque region by a fraction of the surrounding transmission', () => {
    const p = new Projection(256, 256, 5, new Rng(1));
    p.box(0, 640, 0, 1280, 600, { material: 'steel' }); // left half opaque (T ~ 1e-6)
    const none = exposeProjection(p, ideal(), false, new Rng(4)).high;
    const some = exposeProjection(p, ideal({ scatter: 0.02 }), false, new Rng(4)).high;
    const at = (img: Uint16Array, i: number) => img[128 * 256 + i];
    expect(at(none, 120)).toBeLessThanOrEqual(1);
    // Near the edge the 64-pixel cells average open beam and steel: about 0.02 * 0.5 * 65535.
    expect(at(some, 120)).toBeGreaterThan(200);
    expect(at(some, 120)).toBeLessThan(0.02 * 65535);
    expect(at(some, 10)).toBeLessThan(at(some, 120));
  });
});

describe('detector defects', () => {
  const base = { seed: 5, pixelMm: 10, vehicleClass: 'box-truck' as const };

  it('dead channels read zero on every line, and only there', () => {
    const scan = synthesizeScan({ ...base, dual: true, detector: { deadChannels: [7, 250] } });
    for (const img of [scan.high, scan.low!]) {
      for (let r = 0; r < scan.height; r++) {
        let max = 0;
        for (let i = 0; i < scan.width; i++) max = Math.max(max, img[r * scan.width + i]);
        if (r === 7 || r === 250) expect(max).toBe(0);
        else expect(max).toBeGreaterThan(0);
      }
    }
    expect(scan.truth.detector.deadChannels).toEqual([7, 250]);
  });

  it('missing lines are flagged and filled by interpolation between their neighbours', () => {
    const missing = [100, 101, 102, 300];
    const scan = synthesizeScan({ ...base, detector: { missingLines: missing } });
    const flagged = [...scan.missing.keys()].filter((i) => scan.missing[i]);
    expect(flagged).toEqual(missing);
    expect(scan.truth.detector.missingLines).toEqual(missing);
    const W = scan.width;
    for (let r = 0; r < scan.height; r += 7) {
      const a = scan.high[r * W + 99],
        b = scan.high[r * W + 103];
      for (const i of [100, 101, 102])
        expect(Math.abs(scan.high[r * W + i] - (a + ((b - a) * (i - 99)) / 4))).toBeLessThanOrEqual(1);
    }
    // A count draws that many random lines.
    const random = synthesizeScan({ ...base, detector: { missingLines: 12 } });
    expect(random.missing.reduce((a, b) => a + b, 0)).toBe(12);
    // Without the option no line is missing.
    expect(synthesizeScan(base).missing.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('cab-avoidance mode scans the cab lines at reduced dose: same mean, more noise', () => {
    const opts = {
      seed: 8,
      pixelMm: 10,
      vehicleClass: 'articulated' as const,
      detector: { cabDose: 0.05, photonsHigh: 20_000, gainSigma: 0, flickerSigma: 0, deadChannels: 0 },
    };
    const scan = synthesizeScan(opts);
    const cabLines = scan.truth.detector.cabLines;
    expect(cabLines).toBe(Math.ceil(scan.truth.scene.cabRearMm! / 10));
    const full = synthesizeScan({ ...opts, detector: { ...opts.detector, cabDose: 1 } });
    expect(full.truth.detector.cabLines).toBe(0);
    // Same scene; compare line-to-line differences in the air above the cab (rows 20..100, 4.8 m to
    // 4.0 m), where only noise differs: its variance scales with 1 / dose (about 20x here).
    const W = scan.width;
    const noise = (img: Uint16Array) => {
      let d2 = 0,
        n = 0;
      for (let r = 20; r < 100; r++)
        for (let i = 2; i < cabLines - 2; i++, n++) d2 += (img[r * W + i] - img[r * W + i - 1]) ** 2;
      return d2 / n;
    };
    expect(noise(scan.high)).toBeGreaterThan(5 * noise(full.high));
    expect(() => synthesizeScan({ ...opts, detector: { cabDose: 0 } })).toThrow(/cabDose/);
  });

  it('rejects out-of-range defect positions with the field named', () => {
    expect(() => synthesizeScan({ ...base, detector: { deadChannels: [9999] } })).toThrow(/deadChannels/);
  });
});

describe('detector response', () => {
  const open = (over: Partial<ResolvedDetector>) =>
    exposeProjection(new Projection(400, 300, 5, new Rng(1)), ideal({ ...over }), false, new Rng(21));
  const sd = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) / m;
  };

  it('line-to-line source flicker scales whole lines by the configured spread', () => {
    // Half the open beam, so that the flicker is not clipped at 65535.
    const p = new Projection(400, 300, 5, new Rng(1));
    p.box(0, 2000, 0, 1500, 250, { material: 'water' });
    const out = exposeProjection(p, ideal({ flickerSigma: 0.02 }), false, new Rng(22));
    const lineMeans = Array.from({ length: 400 }, (_, i) => {
      let s = 0;
      for (let r = 0; r < 300; r++) s += out.high[r * 400 + i];
      return s / 300;
    });
    expect(sd(lineMeans)).toBeGreaterThan(0.016);
    expect(sd(lineMeans)).toBeLessThan(0.024);
    // Within a line every channel is scaled alike: no flicker without the option.
    const flat = exposeProjection(p, ideal(), false, new Rng(22));
    expect(flat.high[100 * 400 + 7]).toBe(flat.high[100 * 400 + 300]);
  });

  it('channel gain error scales whole channels by the configured spread', () => {
    const p = new Projection(300, 400, 5, new Rng(1));
    p.box(0, 1500, 0, 2000, 250, { material: 'water' });
    const out = exposeProjection(p, ideal({ gainSigma: 0.01 }), false, new Rng(23));
    const rowMeans = Array.from({ length: 400 }, (_, r) => out.high[r * 300 + 150]);
    expect(sd(rowMeans)).toBeGreaterThan(0.008);
    expect(sd(rowMeans)).toBeLessThan(0.012);
    expect(open({}).high[5]).toBe(65535);
  });

  it('blur spreads a sharp edge over the neighbouring pixels and keeps flat regions flat', () => {
    const p = new Projection(100, 100, 5, new Rng(1));
    p.box(250, 500, 0, 500, 100, { material: 'steel' }); // edge between lines 49 and 50
    const sharp = exposeProjection(p, ideal(), false, new Rng(2)).high;
    const soft = exposeProjection(p, ideal({ blur: 0.2 }), false, new Rng(2)).high;
    const at = (img: Uint16Array, i: number) => img[50 * 100 + i];
    expect(at(sharp, 49)).toBe(65535);
    expect(at(soft, 49)).toBeLessThan(65535 * 0.9);
    expect(at(soft, 50)).toBeGreaterThan(at(sharp, 50));
    expect(Math.abs(at(soft, 70) - at(sharp, 70))).toBeLessThanOrEqual(1);
  });
});

describe('line access', () => {
  it('scanLines returns lines in scanner order (line-major) with both energies', () => {
    const scan = synthesizeScan({ seed: 3, pixelMm: 15, dual: true });
    const b = scanLines(scan, 'id-3', 10, 5);
    expect([b.firstIndex, b.count, b.channels, b.scanId]).toEqual([10, 5, scan.height, 'id-3']);
    for (const [i, c] of [
      [0, 0],
      [2, 17],
      [4, scan.height - 1],
    ]) {
      expect(b.high[i * scan.height + c]).toBe(scan.high[c * scan.width + 10 + i]);
      expect(b.low![i * scan.height + c]).toBe(scan.low![c * scan.width + 10 + i]);
    }
    expect(() => scanLines(scan, 'x', scan.width - 2, 5)).toThrow(/outside/);
  });
});
