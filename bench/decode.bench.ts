import { MAX_SCAN_PIXELS } from '../core/domain.js';
import { type DecodeParams, decodeRegions } from '../inference/decode.js';
import { defineBench, timeRuns } from './harness.js';

/**
 * Region decoding of a stitched heatmap, with and without splitting (decoding.splitProminence), on
 * the largest heatmap a lane makes (MAX_SCAN_PIXELS at 5 mm: 131,072 cells of 80 mm): one
 * person; 3,000 overlapping peaks that make one component of the whole scan; and nested saddles, the
 * worst case found for splitting.
 */
const CELL_PX = 16; // 80 mm cells of 5 mm pixels
const HEIGHT = 256;
const WIDTH = MAX_SCAN_PIXELS / (CELL_PX * CELL_PX) / HEIGHT;

function heatmap(blobs: number, floor: number): Float32Array {
  let s = blobs;
  const rnd = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const heat = new Float32Array(WIDTH * HEIGHT).fill(floor);
  for (let b = 0; b < blobs; b++) {
    const cx = blobs === 1 ? WIDTH / 2 : rnd() * WIDTH;
    const cy = blobs === 1 ? HEIGHT / 2 : rnd() * HEIGHT;
    const r = blobs === 1 ? 8 : 2 + rnd() * 6;
    const peak = blobs === 1 ? 0.95 : 0.45 + rnd() * 0.55;
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(HEIGHT, cy + r); y++)
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(WIDTH, cx + r); x++) {
        const d = Math.hypot(x - cx, y - cy);
        if (d < r) heat[y * WIDTH + x] = Math.max(heat[y * WIDTH + x], peak - (peak - floor) * (d / r));
      }
  }
  return heat;
}

/**
 * Nested saddles: columns alternate between peaks (0.95) and saddles whose height falls with the
 * trailing zeros of their index, so that every level splits every part in two again.
 */
function nestedSaddles(): Float32Array {
  const heat = new Float32Array(WIDTH * HEIGHT);
  for (let x = 0; x < WIDTH; x++) {
    const zeros = 31 - Math.clz32((x + 1) & -(x + 1));
    const v = x % 2 === 0 ? 0.95 : 0.31 + 0.05 * Math.max(0, 12 - zeros);
    for (let y = 0; y < HEIGHT; y++) heat[y * WIDTH + x] = v;
  }
  return heat;
}

const params = (splitProminence: number): DecodeParams => ({
  peakThreshold: 0.3,
  minRegionMm2: 40000,
  splitProminence,
  stride: 4,
  modelMm: 20,
  inMm: 5,
  inWidth: WIDTH * CELL_PX,
  inHeight: HEIGHT * CELL_PX,
});

export default defineBench({
  area: 'decode',
  async run(ctx) {
    const cases = [
      { name: 'one-person', heat: heatmap(1, 0.05), note: 'one person, the rest of the scan clear' },
      { name: 'peaks', heat: heatmap(3000, 0.32), note: '3,000 peaks joined into one component covering the scan' },
      {
        name: 'nested',
        heat: nestedSaddles(),
        note: 'peaks joined by nested saddles: each level splits every part again',
      },
    ];
    for (const c of cases) {
      for (const [mode, prominence] of [
        ['components', 0],
        ['split', 0.1],
      ] as const) {
        const name = `decode.regions-ms.${c.name}.${mode}`;
        if (!ctx.wants(name)) continue;
        let regions = 0;
        const ms = await timeRuns(5, () => {
          regions = decodeRegions(c.heat, WIDTH, HEIGHT, params(prominence)).length;
        });
        ctx.report(name, ms, 'ms', `${WIDTH}x${HEIGHT} cells, ${c.note}: ${regions} region(s)`);
      }
    }
  },
});
