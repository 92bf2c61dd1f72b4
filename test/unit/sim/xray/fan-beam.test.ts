import { describe, expect, it } from 'vitest';
import { FAN_BEAM_RANGES, synthesizeScan } from '../../../../sim/xray/index.js';
import { linearMuPerMm } from '../../../../sim/xray/materials.js';
import { Rng } from '../../../../sim/xray/prng.js';
import { type FanBeam, Projection, v3, X, Z } from '../../../../sim/xray/projection.js';

// The geometry, written out here rather than read from the module under test: a ray from a source
// S mm before the lane's centre line at height zs, through image height z' on the centre line,
// crosses y (mm across the lane, away from the source) at zs + (z' - zs) (S + y) / S. What lies at
// y is drawn (S / (S + y)) times its height above the source, about the source's height.
const FAN: FanBeam = { sourceMm: 5000, sourceZMm: 1000 };
const P = 5;
const H = 800; // 4 m of channels at 5 mm
const W = 200;
const magnification = (y: number) => FAN.sourceMm / (FAN.sourceMm + y);
const imageZ = (z: number, y: number) => FAN.sourceZMm + (z - FAN.sourceZMm) * magnification(y);
const rowOf = (z: number) => Math.floor(H - z / P);
const STEEL_HIGH = linearMuPerMm('steel').high;

const fanProjection = () => new Projection(W, H, P, new Rng(1), FAN);
/** Attenuation summed over the rows of one line. */
const column = (p: Projection, line: number) => Array.from({ length: H }, (_, r) => p.attHigh[r * W + line]);

describe('fan-beam projection', () => {
  it('draws a thin sheet near the source taller and one far from it shorter, about the source height', () => {
    for (const y of [-1200, 0, 1200]) {
      const p = fanProjection();
      p.across(y, () => p.box(200, 800, 2998, 3002, 10, { material: 'steel' }));
      const col = column(p, 100);
      const peak = col.indexOf(Math.max(...col));
      expect(Math.abs(peak - rowOf(imageZ(3000, y)))).toBeLessThanOrEqual(1);
    }
    // Near the source the sheet lies higher than the far one by the magnifications' ratio.
    expect(imageZ(3000, -1200) - imageZ(3000, 1200)).toBeGreaterThan(900);
  });

  it('leaves a sheet at the source height where a parallel beam puts it', () => {
    const par = new Projection(W, H, P, new Rng(1));
    const fan = fanProjection();
    for (const p of [par, fan]) p.across(800, () => p.box(200, 800, 990, 1010, 50, { material: 'steel' }));
    const rows = [rowOf(1002.5), rowOf(997.5)];
    for (const r of rows) expect(fan.attHigh[r * W + 100]).toBeCloseTo(par.attHigh[r * W + 100], 3);
  });

  it('spreads the top edge of a box deep along the beam between its near and far images', () => {
    const p = fanProjection();
    p.box(200, 800, 0, 3000, 2400, { material: 'water' });
    const col = column(p, 100);
    const near = rowOf(imageZ(3000, -1200));
    const far = rowOf(imageZ(3000, 1200));
    // Above the near image: nothing; below the far image: the whole depth; in between a ramp.
    expect(col[near - 2]).toBe(0);
    const mid = Math.round((near + far) / 2);
    expect(col[mid]).toBeGreaterThan(0.2 * col[far + 5]);
    expect(col[mid]).toBeLessThan(0.8 * col[far + 5]);
    for (let r = near; r < far; r++) expect(col[r + 1]).toBeGreaterThanOrEqual(col[r] - 1e-9);
  });

  it('lengthens the path of a rising ray by its secant', () => {
    // A box taller than its images at any depth: every ray through the middle rows crosses its whole depth.
    const p = fanProjection();
    p.box(200, 800, 0, 10_000, 1000, { material: 'steel' });
    for (const z of [FAN.sourceZMm, FAN.sourceZMm + 1500, FAN.sourceZMm + 2500]) {
      const r = rowOf(z);
      const slope = ((H - r - 0.5) * P - FAN.sourceZMm) / FAN.sourceMm;
      expect(p.attHigh[r * W + 100]).toBeCloseTo(1000 * Math.sqrt(1 + slope * slope) * STEEL_HIGH, 4);
    }
  });

  it('draws a sphere near the source with more image area and the same path through it, in proportion', () => {
    // The image of a small body at y has k(y) times its area (heights only), the same chords.
    const sum = (y: number) => {
      const p = fanProjection();
      p.across(y, () => p.sphere(v3(500, 0, FAN.sourceZMm), 150, { material: 'water' }));
      return p.attHigh.reduce((a, v) => a + v, 0) * P * P;
    };
    const mu = linearMuPerMm('water').high;
    const volume = (4 / 3) * Math.PI * 150 ** 3;
    for (const y of [-1000, 0, 1000]) expect(sum(y) / (mu * volume * magnification(y))).toBeCloseTo(1, 2);
  });

  it('draws a cylinder along the beam with its chord along the tilted ray', () => {
    // A wheel-like disc well above the source: rows through it see its depth times the secant.
    const p = fanProjection();
    const z = FAN.sourceZMm + 2000;
    p.cylinder(v3(500, 0, z), v3(500, 300, z), X, 200, Z, 200, { material: 'steel' });
    const r = rowOf(imageZ(z, 0));
    const slope = ((H - r - 0.5) * P - FAN.sourceZMm) / FAN.sourceMm;
    expect(p.attHigh[r * W + 100]).toBeCloseTo(300 * Math.sqrt(1 + slope * slope) * STEEL_HIGH, 3);
  });

  it('draws a vertical rod off the centre line from the near edge of its top to the far edge of its foot', () => {
    // A rod 1 m tall, 100 mm thick, 1 m nearer the source: its image spans the rays that graze it.
    const p = fanProjection();
    const [z0, z1, y] = [FAN.sourceZMm + 1000, FAN.sourceZMm + 2000, -1000];
    p.across(y, () => p.rod(v3(500, 0, z0), v3(500, 0, z1), 50, { material: 'steel' }));
    const col = column(p, 100);
    const drawn = col.flatMap((v, r) => (v > 0 ? [r] : []));
    // (Quadrics are read at each row's centre: within a row of the grazing rays.)
    expect(Math.abs(drawn[0]! - rowOf(imageZ(z1, y - 50)))).toBeLessThanOrEqual(1);
    expect(Math.abs(drawn.at(-1)! - rowOf(imageZ(z0, y + 50)))).toBeLessThanOrEqual(1);
    // Mid-rod, a ray crosses its whole 100 mm diameter, rising through it.
    const r = rowOf(imageZ((z0 + z1) / 2, y));
    const slope = ((H - r - 0.5) * P - FAN.sourceZMm) / FAN.sourceMm;
    expect(col[r]).toBeCloseTo(100 * Math.sqrt(1 + slope * slope) * STEEL_HIGH, 2);
  });

  it('draws a prism as it draws the box of the same outline', () => {
    const box = fanProjection();
    const prism = fanProjection();
    box.across(-600, () => box.box(200, 800, 1500, 3200, 900, { material: 'water' }));
    prism.across(-600, () =>
      prism.polygon(
        [
          [200, 1500],
          [800, 1500],
          [800, 3200],
          [200, 3200],
        ],
        900,
        { material: 'water' },
      ),
    );
    const a = column(box, 100);
    const b = column(prism, 100);
    for (let r = 0; r < H; r++) expect(b[r]).toBeCloseTo(a[r], 4);
    expect(Math.max(...a)).toBeGreaterThan(0);
  });

  it('draws running gear once on each side, half of it on each, at each side magnification', () => {
    const p = fanProjection();
    const z = FAN.sourceZMm + 2000;
    p.bothSides(1000, () => p.box(400, 600, z - 2, z + 2, 200, { material: 'steel' }));
    const col = column(p, 100);
    const near = rowOf(imageZ(z, -1000));
    const far = rowOf(imageZ(z, 1000));
    expect(near).toBeLessThan(far - 50);
    const one = new Projection(W, H, P, new Rng(1));
    one.box(400, 600, z - 2, z + 2, 200, { material: 'steel' });
    const whole = column(one, 100).reduce((a, v) => a + v, 0);
    // Each side: half the material, its image k times as tall, each ray's path times its secant.
    const mid = Math.round((near + far) / 2);
    const side = (rows: number[], y: number) => {
      const slope = (imageZ(z, y) - FAN.sourceZMm) / FAN.sourceMm;
      return rows.reduce((a, r) => a + col[r], 0) / (whole * 0.5 * magnification(y) * Math.sqrt(1 + slope * slope));
    };
    const rows = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);
    expect(side(rows(0, mid), -1000)).toBeCloseTo(1, 1);
    expect(side(rows(mid, H), 1000)).toBeCloseTo(1, 1);
    // Each side is half as deep as the pair: its image spreads over its own 100 mm, not the pair's 200.
    for (const y of [-1000, 1000]) {
      const top = rowOf(imageZ(z + 2, y - 50)) - 1;
      const bottom = rowOf(imageZ(z - 2, y + 50)) + 1;
      const band = rows(top, bottom + 1).reduce((a, r) => a + col[r], 0);
      const all = y < 0 ? rows(0, mid) : rows(mid, H);
      expect(band / all.reduce((a, r) => a + col[r], 0)).toBeGreaterThan(0.999);
    }
    // With a parallel beam bothSides simply draws once.
    const par = new Projection(W, H, P, new Rng(1));
    par.bothSides(1000, () => par.box(400, 600, z - 2, z + 2, 200, { material: 'steel' }));
    expect(Array.from(par.attHigh)).toEqual(Array.from(one.attHigh));
  });

  it('refuses a source nearer the lane than 1 m', () => {
    expect(() => new Projection(10, 10, 5, new Rng(1), { sourceMm: 500, sourceZMm: 1000 })).toThrow(/1,000 mm/);
  });

  it('a plate seen edge-on across the lane spreads between its near and far images', () => {
    const p = fanProjection();
    p.plate(200, 3000, 800, 3000, 4, 2400, { material: 'steel' });
    const col = column(p, 100);
    const near = rowOf(imageZ(3000, -1200));
    const far = rowOf(imageZ(3000, 1200));
    const inside = col.slice(near + 2, far - 1);
    expect(Math.min(...inside)).toBeGreaterThan(0);
    expect(col[near - 3]).toBe(0);
    expect(col[far + 3]).toBe(0);
    // Per line, the path summed over rows is the sheet's image thickness times its ray's secant, over its depth.
    const total = col.reduce((a, v) => a + v, 0) * P;
    let expected = 0;
    for (let y = -1199.5; y < 1200; y += 1) {
      const slope = (imageZ(3000, y) - FAN.sourceZMm) / FAN.sourceMm;
      expected += 4 * magnification(y) * Math.sqrt(1 + slope * slope);
    }
    expect(total / (STEEL_HIGH * expected)).toBeCloseTo(1, 2);
  });
});

describe('synthesizeScan with a fan beam', () => {
  it('projects the same scene, with geometry drawn within its ranges and recorded in the truth', () => {
    for (const seed of [3, 9]) {
      const par = synthesizeScan({ seed, pixelMm: 10, personShare: 1 });
      const fan = synthesizeScan({ seed, pixelMm: 10, personShare: 1, fanBeam: true });
      expect(fan.truth.scene).toEqual(par.truth.scene);
      expect(fan.truth.people.length).toBe(par.truth.people.length);
      expect(par.truth.fanBeam).toBeUndefined();
      const g = fan.truth.fanBeam!;
      for (const key of ['sourceMm', 'sourceZMm', 'offsetMm'] as const) {
        expect(g[key]).toBeGreaterThanOrEqual(FAN_BEAM_RANGES[key][0]);
        expect(g[key]).toBeLessThanOrEqual(FAN_BEAM_RANGES[key][1]);
      }
      for (const p of fan.truth.people) expect(Math.abs(p.acrossMm! - g.offsetMm)).toBeLessThanOrEqual(600);
      expect(fan.high).not.toEqual(par.high);
    }
  });

  it('is the same scan bit for bit for the same seed, and a given value fixes only that value', () => {
    const a = synthesizeScan({ seed: 5, pixelMm: 10, fanBeam: true });
    const b = synthesizeScan({ seed: 5, pixelMm: 10, fanBeam: true });
    expect(Buffer.from(a.high.buffer).equals(Buffer.from(b.high.buffer))).toBe(true);
    const c = synthesizeScan({ seed: 5, pixelMm: 10, fanBeam: { sourceMm: 4500 } });
    expect(c.truth.fanBeam).toEqual({ ...a.truth.fanBeam, sourceMm: 4500 });
  });

  it('as a share, projects about that share of seeds with a fan beam, the same seeds every time', () => {
    const fanned = (seed: number) => synthesizeScan({ seed, pixelMm: 25, fanBeam: 0.5 }).truth.fanBeam !== undefined;
    const seeds = Array.from({ length: 40 }, (_, k) => k);
    const picked = seeds.filter(fanned);
    expect(picked.length).toBeGreaterThan(10);
    expect(picked.length).toBeLessThan(30);
    expect(seeds.filter(fanned)).toEqual(picked);
    // Where a share picks a seed, it gets the geometry that true gives it.
    expect(synthesizeScan({ seed: picked[0], pixelMm: 25, fanBeam: 0.5 }).truth.fanBeam).toEqual(
      synthesizeScan({ seed: picked[0], pixelMm: 25, fanBeam: true }).truth.fanBeam,
    );
    expect(() => synthesizeScan({ seed: 1, pixelMm: 25, fanBeam: 2 })).toThrow(/0\.\.1/);
  });
});
