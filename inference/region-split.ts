/**
 * Splitting a heatmap component where it holds several peaks (inference/decode.ts, decoding.splitProminence;
 * docs/model-contract.md "Decoding"). training/evaluate.py implements the same steps.
 */

/** The heatmap levels tried when splitting a region: peakThreshold + k * SPLIT_STEP, below 1. */
export const SPLIT_STEP = 0.05;

/** Connected components and their splitting on one heatmap; scratch arrays are allocated once. */
export class Grid {
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

  /** 8-connected components of the cells at or above `level`, in row-major order of their first cell. */
  components(level: number): number[][] {
    const heat = this.#heat;
    const inside = ++this.#stamp;
    this.#member.fill(inside);
    const visited = ++this.#stamp;
    const out: number[][] = [];
    for (let i = 0; i < heat.length; i++) {
      if (!(heat[i] >= level) || this.#seen[i] === visited) continue; // NaN is never at or above
      out.push(this.#flood(i, visited, inside, level));
    }
    return out;
  }

  /** The parts of `cells` (one component) split at levels base + k * SPLIT_STEP, k > k0. */
  split(cells: number[], base: number, k0: number, prominence: number, minCells: number): number[][] {
    const heat = this.#heat;
    if (cells.length < 2 * minCells) return [cells]; // too small to hold two peaks
    const top = maxOf(heat, cells);
    for (let k = k0 + 1; base + k * SPLIT_STEP < 1; k++) {
      const level = base + k * SPLIT_STEP;
      if (level + prominence > top) break; // no peak can rise that far above this level or any higher one
      const inside = ++this.#stamp;
      for (const c of cells) this.#member[c] = inside;
      const visited = ++this.#stamp;
      const subs: number[][] = [];
      for (const c of cells) {
        if (heat[c] < level || this.#seen[c] === visited) continue;
        subs.push(this.#flood(c, visited, inside, level));
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
   * The 8-connected cells reachable from `start` through members of the set `inside` at or above
   * `level`; marks them with `stamp` as seen.
   */
  #flood(start: number, stamp: number, inside: number, level: number): number[] {
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
          if (member[n] === inside && heat[n] >= level) {
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
