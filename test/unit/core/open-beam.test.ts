import { describe, expect, it } from 'vitest';
import { estimateOpenBeam, normaliseOpenBeam } from '../../../core/open-beam.js';
import { Rng } from '../../../sim/xray/prng.js';

/** Uniform noise in -1..1 from a small LCG. */
function uniform(seed = 1): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 2;
  };
}

/**
 * A w x h scan (default 200 x 100): air at `air` in the top `top` rows and the first and last `side`
 * lines (default 30 and 20), a vehicle between; every pixel times (1 + noise()), by default uniform
 * noise of 0.5 %.
 */
function scan(
  air: number,
  o: { w?: number; h?: number; top?: number; side?: number; noise?: () => number } = {},
): Uint16Array {
  const { w = 200, h = 100, top = 30, side = 20 } = o;
  const unit = uniform();
  const noise = o.noise ?? (() => 0.005 * unit());
  const out = new Uint16Array(w * h);
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++) {
      const isAir = r < top || c < side || c >= w - side;
      const t = isAir ? 1 : Math.exp(-(1 + 0.5 * Math.sin(c * 0.1 + r * 0.2)));
      out[r * w + c] = Math.min(65535, Math.max(0, Math.round(air * t * (1 + noise()))));
    }
  return out;
}

/** A w x h image whose every value lo .. lo + span comes equally often, in the border and everywhere. */
function spread(w: number, h: number, lo: number, span: number): Uint16Array {
  const p = new Uint16Array(w * h);
  for (let i = 0; i < p.length; i++) p[i] = lo + ((i * 7919) % (span + 1));
  return p;
}

describe('open beam of 16-bit files', () => {
  it('a file whose air reads 65535 is left as it is, without a note', () => {
    const p = scan(65535);
    const r = normaliseOpenBeam(p, 200, 100);
    expect(r.pixels).toBe(p);
    expect(r.note).toBeUndefined();
  });

  it('air at 60 % of full scale is found at the border and rescaled to 65535, with a note', () => {
    const orig = scan(65535);
    const low = scan(39321);
    const est = estimateOpenBeam(low, 200, 100);
    expect(est!.level).toBeGreaterThan(39321 * 0.99);
    expect(est!.level).toBeLessThan(39321 * 1.01);
    expect(est!.share).toBeGreaterThan(0.5);
    const r = normaliseOpenBeam(low, 200, 100);
    expect(r.level).toBe(est!.level);
    expect(r.note).toMatch(/open beam reads \d+ at the border .* scaled by 1\.6/);
    // The vehicle's intensities come back to within 1.5 % of what a full-scale file holds.
    const i = 60 * 200 + 100;
    expect(Math.abs(r.pixels[i] / orig[i] - 1)).toBeLessThan(0.015);
    expect(Math.max(...r.pixels)).toBeLessThanOrEqual(65535);
  });

  it('finds unclipped air whose noise spreads it over several per cent (2 %)', () => {
    const rng = new Rng(7);
    const p = scan(39321, { w: 300, h: 120, top: 40, side: 30, noise: () => 0.02 * rng.normal() });
    const est = estimateOpenBeam(p, 300, 120)!;
    expect(est).toBeDefined();
    expect(Math.abs(est.level / 39321 - 1)).toBeLessThan(0.01);
  });

  it('a border of values spread evenly (no step up to air) is not air, even where enough of it lies near the top', () => {
    expect(estimateOpenBeam(spread(300, 120, 30000, 20000), 300, 120)).toBeUndefined();
  });

  it('a border without an air plateau is read as it is, and says so', () => {
    const p = spread(200, 100, 5000, 49999);
    expect(estimateOpenBeam(p, 200, 100)).toBeUndefined();
    const r = normaliseOpenBeam(p, 200, 100);
    expect(r.pixels).toBe(p);
    expect(r.note).toMatch(/no air plateau at the border/);
  });

  it('a ramp along the border is not air; an image too small to hold a border is read as it is, silently', () => {
    const w = 200;
    const h = 100;
    const ramp = new Uint16Array(w * h);
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) ramp[r * w + c] = 20000 + c * 100 + r * 250;
    expect(estimateOpenBeam(ramp, w, h)).toBeUndefined();
    const tiny = scan(39321).subarray(0, 37 * 11);
    const r = normaliseOpenBeam(tiny, 37, 11);
    expect(r.pixels).toBe(tiny);
    expect(r.note).toBeUndefined();
  });

  it('a plateau below a quarter of full scale is not taken for open beam; an inverted file has no plateau', () => {
    const dark = scan(10000);
    const r = normaliseOpenBeam(dark, 200, 100);
    expect(r.pixels).toBe(dark);
    expect(r.note).toMatch(/the border reads \d+, below half of full scale: not taken for open beam/);
    const inverted = scan(65535).map((v) => 65535 - v);
    const i = normaliseOpenBeam(inverted, 200, 100);
    expect(i.pixels).toBe(inverted);
    expect(i.note).toMatch(/no air plateau/);
  });

  it("a named level rescales; 'full' and 65535 read the file as it is; a level out of range is refused", () => {
    const p = scan(50000);
    const named = normaliseOpenBeam(p, 200, 100, 50000);
    expect(named.level).toBe(50000);
    expect(named.pixels[0]).toBe(Math.min(65535, Math.round((p[0] * 65535) / 50000)));
    expect(normaliseOpenBeam(p, 200, 100, 'full').pixels).toBe(p);
    expect(normaliseOpenBeam(p, 200, 100, 65535).pixels).toBe(p);
    expect(() => normaliseOpenBeam(p, 200, 100, 10)).toThrow(/1000\.\.65535/);
  });
});
