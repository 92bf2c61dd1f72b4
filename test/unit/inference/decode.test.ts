import { describe, expect, it } from 'vitest';
import { type DecodeParams, decodeRegions } from '../../../inference/decode.js';

// Cells of 80 mm (stride 4 at 20 mm), boxes in 20 mm input pixels (4 per cell); the smallest region
// is 40,000 mm2 = 6.25 cells, so 7 cells.
const W = 40,
  H = 12;
const params = (splitProminence: number): DecodeParams => ({
  peakThreshold: 0.3,
  minRegionMm2: 40000,
  splitProminence,
  stride: 4,
  modelMm: 20,
  inMm: 20,
  inWidth: W * 4,
  inHeight: H * 4,
});

/** Round blobs of radius 3 cells (the peak over the inner 9 cells, 0.35 at the rim) joined along row 6 by a bridge of `saddle`. */
function heatmap(peaks: { x: number; peak: number }[], saddle: number | null): Float32Array {
  const heat = new Float32Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let v = 0;
      for (const p of peaks) {
        const d = Math.hypot(x - p.x, y - 6);
        if (d <= 3) v = Math.max(v, d <= 1.5 ? p.peak : p.peak - ((p.peak - 0.35) * (d - 1.5)) / 1.5);
      }
      if (saddle !== null && y === 6 && x >= peaks[0].x && x <= peaks[peaks.length - 1].x) v = Math.max(v, saddle);
      heat[y * W + x] = v;
    }
  return heat;
}

const cellsOf = (r: { x: number; w: number }) => [r.x / 4, (r.x + r.w) / 4 - 1];
/** First and last cell column of each region, left to right. */
const columns = (regions: { x: number; w: number }[]) => regions.map(cellsOf).sort((a, b) => a[0] - b[0]);
const decode = (heat: Float32Array, splitProminence: number) => decodeRegions(heat, W, H, params(splitProminence));
/** Two people at columns 8 and 22 with the peaks given, joined by a bridge of `saddle`. */
const twoPeople = (peaks: [number, number], saddle: number) =>
  heatmap(
    [
      { x: 8, peak: peaks[0] },
      { x: 22, peak: peaks[1] },
    ],
    saddle,
  );

describe('decodeRegions', () => {
  it('keeps two people joined by a low bridge as one region when splitting is off', () => {
    const regions = decode(twoPeople([0.9, 0.8], 0.45), 0);
    expect(regions).toHaveLength(1);
    expect(cellsOf(regions[0])).toEqual([5, 25]);
    expect(regions[0].score).toBeCloseTo(0.9, 5);
  });

  it('splits them into one region per person, covering the whole component, each with its own peak as score', () => {
    const regions = decode(twoPeople([0.9, 0.8], 0.45), 0.1);
    expect(regions).toHaveLength(2);
    expect(regions.map((r) => r.score)).toEqual([expect.closeTo(0.9, 5), expect.closeTo(0.8, 5)]);
    const [left, right] = [...regions].sort((a, b) => a.x - b.x);
    expect(cellsOf(left)[0]).toBe(5);
    expect(cellsOf(right)[1]).toBe(25);
    // Every bridge cell went to one of the two: together they span the component without a gap.
    expect(cellsOf(right)[0]).toBe(cellsOf(left)[1] + 1);
    expect(left.y).toBe(3 * 4);
    expect(left.h).toBe(7 * 4);
  });

  it('splits three people in a row into three', () => {
    const heat = heatmap(
      [
        { x: 6, peak: 0.9 },
        { x: 18, peak: 0.7 },
        { x: 30, peak: 0.95 },
      ],
      0.4,
    );
    expect(decode(heat, 0.1)).toHaveLength(3);
    expect(decode(heat, 0)).toHaveLength(1);
  });

  it('compares cells with the levels in double precision: a bridge at float32(0.45) lies below the level 0.3 + 3 x 0.05', () => {
    // training/evaluate.py decodes the same heatmap to the same two regions (test_training.py).
    expect(columns(decode(twoPeople([0.9, 0.56], Math.fround(0.45)), 0.1))).toEqual([
      [5, 18],
      [19, 25],
    ]);
  });

  it('floods a bridge of equal heat in index order (row-major), as training/evaluate.py does', () => {
    expect(columns(decode(twoPeople([0.9, 0.9], 0.5), 0.1))).toEqual([
      [5, 18],
      [19, 25],
    ]);
  });

  it('does not split where the peaks rise less than the prominence above the bridge', () => {
    const heat = twoPeople([0.9, 0.85], 0.75);
    expect(decode(heat, 0.1)).toHaveLength(1);
    expect(decode(heat, 0.01)).toHaveLength(2);
  });

  it('does not split off a peak smaller than the smallest region', () => {
    const heat = heatmap([{ x: 8, peak: 0.9 }], 0.45);
    // A one-cell spike on the bridge, far above it: a peak, but of one cell.
    for (let x = 9; x <= 24; x++) heat[6 * W + x] = 0.45;
    heat[6 * W + 22] = 0.95;
    const regions = decode(heat, 0.1);
    expect(regions).toHaveLength(1);
    expect(regions[0].score).toBeCloseTo(0.95, 5);
  });

  it('still drops a component smaller than the smallest region', () => {
    const heat = new Float32Array(W * H);
    for (let x = 10; x < 16; x++) heat[6 * W + x] = 0.9; // 6 cells: 38,400 mm2
    expect(decode(heat, 0.1)).toEqual([]);
    heat[6 * W + 16] = 0.9;
    expect(decode(heat, 0.1)).toHaveLength(1);
  });

  it("maps cells to input pixels at each axis's pitch: lines (lineMm) along x, channels (inMm) up y", () => {
    const heat = heatmap([{ x: 8, peak: 0.9 }], null);
    const square = decodeRegions(heat, W, H, params(0));
    // lines 40 mm apart: a cell of 80 mm is 2 lines wide and still 4 channels high
    const wide = decodeRegions(heat, W, H, { ...params(0), lineMm: 40, inWidth: W * 2 });
    expect(wide).toHaveLength(1);
    expect(wide[0]).toEqual({ ...square[0], x: square[0].x / 2, w: square[0].w / 2 });
  });
});
