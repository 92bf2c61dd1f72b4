import type { Region } from '../core/domain.js';

export interface DecodeParams {
  peakThreshold: number;
  minRegionMm2: number;
  /** Model pixels per heatmap cell. */
  stride: number;
  /** Model pixel pitch (mm). */
  modelMm: number;
  /** Input scan pixel pitch (mm), and its size in pixels. */
  inMm: number;
  inWidth: number;
  inHeight: number;
}

/**
 * Regions of a stitched heatmap (row-major, width x height cells): 8-connected components of
 * cells >= peakThreshold, with their area (cells x cell area) at least minRegionMm2, boxes in
 * the input scan's pixels (x = line, y = channel), score = the component's highest cell.
 */
export function decodeRegions(heat: Float32Array, width: number, height: number, p: DecodeParams): Region[] {
  const label = new Int32Array(width * height);
  const stack: number[] = [];
  const cellMm = p.stride * p.modelMm;
  const cellArea = cellMm * cellMm;
  const toIn = cellMm / p.inMm;
  const regions: Region[] = [];
  let next = 0;
  for (let i = 0; i < heat.length; i++) {
    if (label[i] || !(heat[i] >= p.peakThreshold)) continue;
    next++;
    label[i] = next;
    stack.push(i);
    let minX = width,
      minY = height,
      maxX = -1,
      maxY = -1,
      cells = 0,
      best = 0;
    while (stack.length) {
      const k = stack.pop()!;
      const x = k % width;
      const y = (k - x) / width;
      cells++;
      if (heat[k] > best) best = heat[k];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const n = yy * width + xx;
          if (!label[n] && heat[n] >= p.peakThreshold) {
            label[n] = next;
            stack.push(n);
          }
        }
      }
    }
    if (cells * cellArea < p.minRegionMm2) continue;
    const x0 = Math.min(p.inWidth, Math.floor(minX * toIn));
    const y0 = Math.min(p.inHeight, Math.floor(minY * toIn));
    const x1 = Math.min(p.inWidth, Math.ceil((maxX + 1) * toIn));
    const y1 = Math.min(p.inHeight, Math.ceil((maxY + 1) * toIn));
    if (x1 <= x0 || y1 <= y0) continue; // entirely in the padding
    regions.push({ x: x0, y: y0, w: x1 - x0, h: y1 - y0, score: best });
  }
  return regions.sort((a, b) => b.score - a.score);
}

/** Platt calibration of a probability: sigmoid(a * logit(p) + b). */
export function calibrate(p: number, cal: { type: 'platt'; a: number; b: number } | { type: 'none' }): number {
  if (cal.type === 'none') return p;
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  const z = cal.a * Math.log(q / (1 - q)) + cal.b;
  return 1 / (1 + Math.exp(-z));
}
