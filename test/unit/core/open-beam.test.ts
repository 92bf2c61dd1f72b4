import { describe, expect, it } from 'vitest';
import { estimateOpenBeam, normaliseOpenBeam } from '../../../core/open-beam.js';

/** A 200 x 100 scan: air (at `air`, with noise of 0.5 %) in the top 30 rows and the first and last 20 lines, a vehicle between. */
function scan(air: number, seed = 1): Uint16Array {
  const w = 200;
  const h = 100;
  const out = new Uint16Array(w * h);
  let s = seed;
  const noise = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 2;
  };
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++) {
      const isAir = r < 30 || c < 20 || c >= w - 20;
      const t = isAir ? 1 : Math.exp(-(1 + 0.5 * Math.sin(c * 0.1 + r * 0.2)));
      out[r * w + c] = Math.min(65535, Math.max(0, Math.round(air * t * (1 + 0.005 * noise()))));
    }
  return out;
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
    const w = 300;
    const h = 120;
    const p = new Uint16Array(w * h);
    let s = 7;
    const gauss = () => {
      // Box-Muller from a small LCG
      s = (s * 1103515245 + 12345) % 2 ** 31;
      const u = (s + 1) / (2 ** 31 + 1);
      s = (s * 1103515245 + 12345) % 2 ** 31;
      const v = s / 2 ** 31;
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        const isAir = r < 40 || c < 30 || c >= w - 30;
        const t = isAir ? 1 : Math.exp(-(1.5 + Math.sin(c * 0.05)));
        p[r * w + c] = Math.min(65535, Math.round(39321 * t * (1 + 0.02 * gauss())));
      }
    const est = estimateOpenBeam(p, w, h)!;
    expect(est).toBeDefined();
    expect(Math.abs(est.level / 39321 - 1)).toBeLessThan(0.01);
  });

  it('a border of values spread evenly (no step up to air) is not air, even where enough of it lies near the top', () => {
    const w = 300;
    const h = 120;
    const p = new Uint16Array(w * h);
    // every value 30000..50000 equally often, in the border and everywhere
    for (let i = 0; i < p.length; i++) p[i] = 30000 + ((i * 7919) % 20001);
    expect(estimateOpenBeam(p, w, h)).toBeUndefined();
  });

  it('a border without an air plateau is read as it is, and says so', () => {
    const w = 200;
    const h = 100;
    const p = new Uint16Array(w * h);
    for (let i = 0; i < p.length; i++) p[i] = 5000 + ((i * 7919) % 50000);
    expect(estimateOpenBeam(p, w, h)).toBeUndefined();
    const r = normaliseOpenBeam(p, w, h);
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
