import type { Region } from '../core/domain.js';
import { Grid } from './region-split.js';

export interface DecodeParams {
  peakThreshold: number;
  minRegionMm2: number;
  /**
   * A region whose heatmap holds two or more peaks, each rising at least this far above the
   * level at which they join, is split into one region per peak (0 or absent: never split).
   */
  splitProminence?: number;
  /** Model pixels per heatmap cell. */
  stride: number;
  /** Model pixel pitch (mm). */
  modelMm: number;
  /** Input scan pixel pitch (mm) up the detector (rows), and its size in pixels. */
  inMm: number;
  /** Input pitch along the scan (columns = lines), where it differs from inMm. Absent: inMm. */
  lineMm?: number;
  inWidth: number;
  inHeight: number;
}

/**
 * Regions of a stitched heatmap (row-major, width x height cells): 8-connected components of
 * cells >= peakThreshold, with their area (cells x cell area) at least minRegionMm2, boxes in
 * the input scan's pixels (x = line, y = channel), score = the region's highest cell.
 *
 * With splitProminence, a component is split where it holds separate peaks (several people
 * side by side make one component): at each level peakThreshold + k * SPLIT_STEP the cells at or
 * above it form sub-components; once two or more of them are at least minRegionMm2 and rise at
 * least splitProminence above that level, every cell of the component goes to one of them
 * (flooded from the highest cell down), and each part is split again from that level. No cell
 * is dropped: the parts cover the component.
 */
export function decodeRegions(heat: Float32Array, width: number, height: number, p: DecodeParams): Region[] {
  const cellMm = p.stride * p.modelMm;
  const cellArea = cellMm * cellMm;
  const toInX = cellMm / (p.lineMm ?? p.inMm);
  const toInY = cellMm / p.inMm;
  const grid = new Grid(heat, width, height);
  const regions: Region[] = [];
  const prominence = p.splitProminence ?? 0;
  for (const component of grid.components(p.peakThreshold)) {
    const parts =
      prominence > 0 ? grid.split(component, p.peakThreshold, 0, prominence, p.minRegionMm2 / cellArea) : [component];
    for (const cells of parts) {
      if (cells.length * cellArea < p.minRegionMm2) continue;
      let minX = width,
        minY = height,
        maxX = -1,
        maxY = -1,
        best = 0;
      for (const k of cells) {
        const x = k % width;
        const y = (k - x) / width;
        if (heat[k] > best) best = heat[k];
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
      const x0 = Math.min(p.inWidth, Math.floor(minX * toInX));
      const y0 = Math.min(p.inHeight, Math.floor(minY * toInY));
      const x1 = Math.min(p.inWidth, Math.ceil((maxX + 1) * toInX));
      const y1 = Math.min(p.inHeight, Math.ceil((maxY + 1) * toInY));
      if (x1 <= x0 || y1 <= y0) continue; // entirely in the padding
      regions.push({ x: x0, y: y0, w: x1 - x0, h: y1 - y0, score: best });
    }
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
