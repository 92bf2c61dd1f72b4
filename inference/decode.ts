import type { Region } from '../core/domain.js';

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
  /** Input scan pixel pitch (mm), and its size in pixels. */
  inMm: number;
  inWidth: number;
  inHeight: number;
}

/** The heatmap levels tried when splitting a region: peakThreshold + k * SPLIT_STEP, below 1. */
export const SPLIT_STEP = 0.05;

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
  const toIn = cellMm / p.inMm;
  const grid = new Grid(heat, width, height);
  const regions: Region[] = [];
  const all = new Uint8Array(heat.length);
  for (let i = 0; i < heat.length; i++) if (heat[i] >= p.peakThreshold) all[i] = 1;
  const prominence = p.splitProminence ?? 0;
  for (const component of grid.components(all, 1)) {
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
      const x0 = Math.min(p.inWidth, Math.floor(minX * toIn));
      const y0 = Math.min(p.inHeight, Math.floor(minY * toIn));
      const x1 = Math.min(p.inWidth, Math.ceil((maxX + 1) * toIn));
      const y1 = Math.min(p.inHeight, Math.ceil((maxY + 1) * toIn));
      if (x1 <= x0 || y1 <= y0) continue; // entirely in the padding
      regions.push({ x: x0, y: y0, w: x1 - x0, h: y1 - y0, score: best });
    }
  }
  return regions.sort((a, b) => b.score - a.score);
}

/** Connected components and their splitting on one heatmap; scratch arrays are allocated once. */
class Grid {
  readonly #heat: Float32Array;
  readonly #width: number;
  readonly #height: number;
  /** Cells of the current set are marked with its stamp; a fresh stamp empties every set. */
  readonly #member: Int32Array;
  readonly #seen: Int32Array;
  /** During a partition: the seed a cell went to (valid where #member holds the partition's stamp). */
  readonly #owner: Int32Array;
  #stamp = 0;

  constructor(heat: Float32Array, width: number, height: number) {
    this.#heat = heat;
    this.#width = width;
    this.#height = height;
    this.#member = new Int32Array(heat.length);
    this.#seen = new Int32Array(heat.length);
    this.#owner = new Int32Array(heat.length);
  }

  /** 8-connected components of the cells with `mask[i] === on`, in row-major order of their first cell. */
  components(mask: Uint8Array, on: number): number[][] {
    const stamp = ++this.#stamp;
    const out: number[][] = [];
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] !== on || this.#seen[i] === stamp) continue;
      out.push(this.#flood(i, stamp, mask, on, -1, Number.NEGATIVE_INFINITY));
    }
    return out;
  }

  /** The parts of `cells` (one component) split at levels base + k * SPLIT_STEP, k > k0. */
  split(cells: number[], base: number, k0: number, prominence: number, minCells: number): number[][] {
    const heat = this.#heat;
    if (cells.length < 2 * minCells) return [cells]; // too small to hold two peaks
    for (let k = k0 + 1; base + k * SPLIT_STEP < 1; k++) {
      const level = base + k * SPLIT_STEP;
      const inside = ++this.#stamp;
      for (const c of cells) this.#member[c] = inside;
      const visited = ++this.#stamp;
      const subs: number[][] = [];
      for (const c of cells) {
        if (heat[c] < level || this.#seen[c] === visited) continue;
        subs.push(this.#flood(c, visited, null, 0, inside, level));
      }
      if (subs.length === 0) break;
      const peaks = subs.filter((s) => s.length >= minCells && maxOf(heat, s) >= level + prominence);
      if (peaks.length < 2) continue;
      return this.#partition(cells, peaks).flatMap((part) => this.split(part, base, k, prominence, minCells));
    }
    return [cells];
  }

  /** Gives every cell of `cells` to one of `seeds` (disjoint subsets): flooded from the highest cell down. */
  #partition(cells: number[], seeds: number[][]): number[][] {
    const inside = ++this.#stamp;
    const owned = ++this.#stamp;
    const member = this.#member;
    const owner = this.#owner;
    for (const c of cells) member[c] = inside;
    const queue = new CellQueue(this.#heat);
    seeds.forEach((s, j) => {
      for (const c of s) {
        member[c] = owned;
        owner[c] = j;
        queue.push(c);
      }
    });
    const w = this.#width;
    while (queue.size) {
      const c = queue.pop();
      const j = owner[c];
      const x = c % w;
      const y = (c - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= this.#height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const n = yy * w + xx;
          if (member[n] === inside) {
            member[n] = owned;
            owner[n] = j;
            queue.push(n);
          }
        }
      }
    }
    const parts: number[][] = seeds.map(() => []);
    for (const c of cells) parts[owner[c]].push(c);
    return parts;
  }

  /**
   * The 8-connected cells reachable from `start` through cells that are on in `mask` (when given)
   * or members of the set `inside` at or above `level`; marks them with `stamp` as seen.
   */
  #flood(start: number, stamp: number, mask: Uint8Array | null, on: number, inside: number, level: number): number[] {
    const w = this.#width;
    const h = this.#height;
    const seen = this.#seen;
    const member = this.#member;
    const heat = this.#heat;
    const cells: number[] = [];
    const stack = [start];
    seen[start] = stamp;
    while (stack.length) {
      const k = stack.pop()!;
      cells.push(k);
      const x = k % w;
      const y = (k - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const n = yy * w + xx;
          if (seen[n] === stamp) continue;
          if (mask ? mask[n] === on : member[n] === inside && heat[n] >= level) {
            seen[n] = stamp;
            stack.push(n);
          }
        }
      }
    }
    return cells;
  }
}

function maxOf(heat: Float32Array, cells: number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const c of cells) if (heat[c] > m) m = heat[c];
  return m;
}

/** A max-heap of cells by heat, ties by the lower index first. */
class CellQueue {
  readonly #heat: Float32Array;
  readonly #items: number[] = [];
  constructor(heat: Float32Array) {
    this.#heat = heat;
  }
  get size(): number {
    return this.#items.length;
  }
  #before(a: number, b: number): boolean {
    const ha = this.#heat[a];
    const hb = this.#heat[b];
    return ha > hb || (ha === hb && a < b);
  }
  push(c: number): void {
    const q = this.#items;
    q.push(c);
    let i = q.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(q[i], q[parent])) break;
      [q[i], q[parent]] = [q[parent], q[i]];
      i = parent;
    }
  }
  pop(): number {
    const q = this.#items;
    const top = q[0];
    const last = q.pop()!;
    if (q.length) {
      q[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < q.length && this.#before(q[l], q[m])) m = l;
        if (r < q.length && this.#before(q[r], q[m])) m = r;
        if (m === i) break;
        [q[i], q[m]] = [q[m], q[i]];
        i = m;
      }
    }
    return top;
  }
}

/** Platt calibration of a probability: sigmoid(a * logit(p) + b). */
export function calibrate(p: number, cal: { type: 'platt'; a: number; b: number } | { type: 'none' }): number {
  if (cal.type === 'none') return p;
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  const z = cal.a * Math.log(q / (1 - q)) + cal.b;
  return 1 / (1 + Math.exp(-z));
}
