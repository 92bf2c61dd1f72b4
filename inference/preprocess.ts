/**
 * Preprocessing of scan intensities into the model's input (docs/model-contract.md):
 * area-average intensities to the model's pixel pitch, then log attenuation times logScale,
 * then pad with open beam. Written for streaming: lines arrive in batches, model columns are
 * produced as soon as all the lines they cover have arrived.
 */

import { attenuation, attenuationLut } from '../core/scan-picture.js';

/**
 * Area-averaging weights from n input pixels of pitch inMm to output pixels of pitch outMm:
 * output j averages the input interval [j*f, (j+1)*f), f = outMm/inMm, clipped to the input.
 */
/** Log channel values of block sums: entry s = value of intensity s / area (area = k*k pixels). */
const sumLuts = new Map<string, Float32Array>();
function sumLut(area: number, logScale: number): Float32Array {
  const key = `${area}:${logScale}`;
  let lut = sumLuts.get(key);
  if (!lut) {
    lut = new Float32Array(65535 * area + 1);
    for (let s = 0; s < lut.length; s++) lut[s] = attenuation(s / area) * logScale;
    sumLuts.set(key, lut);
  }
  return lut;
}

export interface AxisWeights {
  /** Output pixel j uses idx/w[start[j] .. start[j+1]). */
  start: Int32Array;
  idx: Int32Array;
  w: Float32Array;
  count: number;
}

const EPS = 1e-9;

export function outputCount(nIn: number, inMm: number, outMm: number): number {
  return Math.max(1, Math.ceil((nIn * inMm) / outMm - EPS));
}

/** Input pixels output pixel j covers: [lo, hi) in input coordinates (fractional). */
function span(j: number, f: number): [number, number] {
  return [j * f, (j + 1) * f];
}

/** Weights of output pixel j, clipped to [0, nIn); appended to the arrays. */
function weightsFor(j: number, f: number, nIn: number, idx: number[], w: number[]): void {
  const [lo, hiRaw] = span(j, f);
  const hi = Math.min(hiRaw, nIn);
  const first = Math.floor(lo + EPS);
  const last = Math.ceil(hi - EPS);
  const total = hi - lo;
  for (let i = first; i < last; i++) {
    const cover = Math.min(i + 1, hi) - Math.max(i, lo);
    if (cover > EPS) {
      idx.push(i);
      w.push(cover / total);
    }
  }
}

export function axisWeights(nIn: number, inMm: number, outMm: number): AxisWeights {
  const f = outMm / inMm;
  const count = outputCount(nIn, inMm, outMm);
  const start = new Int32Array(count + 1);
  const idx: number[] = [];
  const w: number[] = [];
  for (let j = 0; j < count; j++) {
    start[j] = idx.length;
    weightsFor(j, f, nIn, idx, w);
  }
  start[count] = idx.length;
  return { start, idx: Int32Array.from(idx), w: Float32Array.from(w), count };
}

/** Number of input lines output column j needs before it can be computed while streaming. */
function linesNeeded(j: number, inMm: number, outMm: number): number {
  return Math.ceil(((j + 1) * outMm) / inMm - EPS);
}

export interface CanvasOptions {
  /** Input channels (rows of the scan). */
  channels: number;
  /** Pitch of the channels (up the detector), mm at the vehicle. */
  inMm: number;
  /**
   * Pitch of the lines (along the scan), mm at the vehicle, where it differs from the channels'
   * (a vehicle driving faster or slower than the line rate's square pixels). Absent: inMm.
   */
  lineMm?: number;
  modelMm: number;
  logScale: number;
  sizeMultiple: number;
  /** Whether a low-energy plane is present. */
  dual: boolean;
}

/**
 * The scan at model pitch as log channel values, column-major (one model column = paddedHeight
 * floats, rows past the scan padded with open beam = 0), growing as lines arrive.
 */
export class ModelCanvas {
  readonly options: CanvasOptions;
  readonly modelHeight: number;
  readonly paddedHeight: number;
  readonly #rows: AxisWeights;
  /** Pitch of the lines (options.lineMm, else options.inMm). */
  readonly lineMm: number;
  readonly #identity: boolean;
  /** Integer pitch ratio k (model pixel = k x k scan pixels), 0 if not an integer >= 2. */
  readonly #block: number;
  readonly #blockLut: Float32Array | null;
  readonly #lut: Float32Array;
  /** Raw input lines, line-major (line l, channel c at l*channels + c). */
  #rawHigh: Uint16Array;
  #rawLow: Uint16Array | null;
  /** Absolute index of the first line still held in the raw buffers (older ones are done with). */
  #rawFirst = 0;
  #lines = 0;
  #high: Float32Array;
  #low: Float32Array | null;
  #columns = 0;
  #colAvg: Float64Array;

  constructor(o: CanvasOptions, lut?: Float32Array) {
    this.options = o;
    this.#rows = axisWeights(o.channels, o.inMm, o.modelMm);
    this.modelHeight = this.#rows.count;
    this.paddedHeight = roundUp(this.modelHeight, o.sizeMultiple);
    this.lineMm = o.lineMm ?? o.inMm;
    const square = Math.abs(this.lineMm - o.inMm) < 1e-9;
    this.#identity = square && Math.abs(o.inMm - o.modelMm) < 1e-9;
    this.#lut = lut ?? attenuationLut(o.logScale);
    const ratio = o.modelMm / o.inMm;
    const k = Math.round(ratio);
    this.#block = square && k >= 2 && k <= 8 && Math.abs(ratio - k) < 1e-9 ? k : 0;
    this.#blockLut = this.#block ? sumLut(this.#block * this.#block, o.logScale) : null;
    this.#rawHigh = new Uint16Array(o.channels * 512);
    this.#rawLow = o.dual ? new Uint16Array(o.channels * 512) : null;
    this.#high = new Float32Array(this.paddedHeight * 256);
    this.#low = o.dual ? new Float32Array(this.paddedHeight * 256) : null;
    this.#colAvg = new Float64Array(o.channels);
  }

  /** Input lines received so far. */
  get lines(): number {
    return this.#lines;
  }

  /** Model columns computed so far. */
  get columns(): number {
    return this.#columns;
  }

  get high(): Float32Array {
    return this.#high;
  }

  get low(): Float32Array | null {
    return this.#low;
  }

  /** Appends `count` lines given line-major (as LineBatch carries them). */
  appendLineMajor(high: Uint16Array, low: Uint16Array | undefined, count: number): void {
    const c = this.options.channels;
    if (this.#rawLow && !low) throw new Error('a dual-energy scan sent lines without the low-energy plane');
    this.#reserveLines(this.#lines + count);
    const at = (this.#lines - this.#rawFirst) * c;
    this.#rawHigh.set(high.subarray(0, count * c), at);
    if (this.#rawLow) this.#rawLow.set(low!.subarray(0, count * c), at);
    this.#lines += count;
  }

  /** Appends lines [from, to) of a row-major image (rows = channels, columns = lines). */
  appendFromImage(high: Uint16Array, low: Uint16Array | undefined, width: number, from: number, to: number): void {
    const c = this.options.channels;
    const n = to - from;
    if (n <= 0) return;
    if (this.#rawLow && !low) throw new Error('a dual-energy scan image has no low-energy plane');
    this.#reserveLines(this.#lines + n);
    const base = (this.#lines - this.#rawFirst) * c;
    transposeInto(high, width, c, from, n, this.#rawHigh, base);
    if (this.#rawLow) transposeInto(low!, width, c, from, n, this.#rawLow, base);
    this.#lines += n;
  }

  /**
   * Computes every model column whose input lines have all arrived. With `final`, the scan has
   * ended: the last column averages the lines that exist. Returns the number of columns.
   */
  compute(final: boolean): number {
    const { modelMm } = this.options;
    const lineMm = this.lineMm;
    const total = final ? outputCount(this.#lines, lineMm, modelMm) : Infinity;
    while (this.#columns < total) {
      const j = this.#columns;
      if (!final && linesNeeded(j, lineMm, modelMm) > this.#lines) break;
      this.#reserveColumns(j + 1);
      this.#column(j, this.#rawHigh, this.#high);
      if (this.#rawLow && this.#low) this.#column(j, this.#rawLow, this.#low);
      this.#columns++;
    }
    this.#dropConsumedLines();
    return this.#columns;
  }

  #column(j: number, raw: Uint16Array, out: Float32Array): void {
    const c = this.options.channels;
    const hp = this.paddedHeight;
    const o = j * hp;
    if (this.#identity) {
      const lut = this.#lut;
      const b = (j - this.#rawFirst) * c;
      for (let r = 0; r < c; r++) out[o + r] = lut[raw[b + r]];
      out.fill(0, o + c, o + hp);
      return;
    }
    const k = this.#block;
    let fullRows = 0;
    if (k && (j + 1) * k <= this.#lines) {
      // Whole k x k blocks: an integer sum of intensities, its log from a table (exact, no Math.log).
      const lut = this.#blockLut!;
      fullRows = Math.floor(c / k);
      const b = (j * k - this.#rawFirst) * c;
      if (k === 2) {
        for (let r = 0, i = b; r < fullRows; r++, i += 2)
          out[o + r] = lut[raw[i] + raw[i + 1] + raw[i + c] + raw[i + c + 1]];
      } else {
        for (let r = 0; r < fullRows; r++) {
          let sum = 0;
          for (let dl = 0; dl < k; dl++) {
            const i = b + dl * c + r * k;
            for (let dc = 0; dc < k; dc++) sum += raw[i + dc];
          }
          out[o + r] = lut[sum];
        }
      }
      if (fullRows === this.#rows.count) {
        out.fill(0, o + fullRows, o + hp);
        return;
      }
    }
    const idx: number[] = [];
    const w: number[] = [];
    weightsFor(j, this.options.modelMm / this.lineMm, this.#lines, idx, w);
    const avg = this.#colAvg;
    avg.fill(0);
    for (let k = 0; k < idx.length; k++) {
      const wk = w[k];
      const b = (idx[k] - this.#rawFirst) * c;
      for (let r = 0; r < c; r++) avg[r] += wk * raw[b + r];
    }
    const rows = this.#rows;
    const ls = this.options.logScale;
    for (let r = fullRows; r < rows.count; r++) {
      let v = 0;
      for (let k = rows.start[r]; k < rows.start[r + 1]; k++) v += rows.w[k] * avg[rows.idx[k]];
      out[o + r] = attenuation(v) * ls;
    }
    out.fill(0, o + rows.count, o + hp);
  }

  /** Frees the lines no future column needs, so a long scan does not hold all its raw lines twice. */
  #dropConsumedLines(): void {
    const keepFrom = Math.floor((this.#columns * this.options.modelMm) / this.lineMm + EPS);
    const drop = Math.min(keepFrom, this.#lines) - this.#rawFirst;
    if (drop < 1024) return;
    const c = this.options.channels;
    const held = (this.#lines - this.#rawFirst - drop) * c;
    this.#rawHigh.copyWithin(0, drop * c, drop * c + held);
    this.#rawLow?.copyWithin(0, drop * c, drop * c + held);
    this.#rawFirst += drop;
  }

  #reserveLines(n: number): void {
    const c = this.options.channels;
    n -= this.#rawFirst;
    if (n * c <= this.#rawHigh.length) return;
    const cap = Math.max(n, (this.#rawHigh.length / c) * 2) * c;
    this.#rawHigh = grow16(this.#rawHigh, cap);
    if (this.#rawLow) this.#rawLow = grow16(this.#rawLow, cap);
  }

  #reserveColumns(n: number): void {
    const hp = this.paddedHeight;
    if (n * hp <= this.#high.length) return;
    const cap = Math.max(n, (this.#high.length / hp) * 2) * hp;
    this.#high = grow32(this.#high, cap);
    if (this.#low) this.#low = grow32(this.#low, cap);
  }

  /**
   * The NCHW input of one tile: model columns [x0, x0+width), full padded height, channels in
   * the manifest's order. Columns at or past `validColumns` are open beam (padding).
   */
  tileInput(channels: readonly string[], x0: number, width: number, validColumns: number): Float32Array {
    const hp = this.paddedHeight;
    const plane = hp * width;
    const out = new Float32Array(plane * channels.length);
    const present = this.#low ? 1 : 0;
    channels.forEach((ch, i) => {
      const base = i * plane;
      if (ch === 'lowPresent') {
        if (present) out.fill(1, base, base + plane);
        return;
      }
      const src = ch === 'logLow' && this.#low ? this.#low : this.#high;
      const xs = Math.max(0, Math.min(width, validColumns - x0));
      // Column-major canvas to row-major tile, in 32 x 32 blocks so both sides stay in cache.
      const B = 32;
      for (let bx = 0; bx < xs; bx += B) {
        const xe = Math.min(xs, bx + B);
        for (let by = 0; by < hp; by += B) {
          const ye = Math.min(hp, by + B);
          for (let x = bx; x < xe; x++) {
            const col = (x0 + x) * hp;
            let d = base + by * width + x;
            for (let y = by; y < ye; y++, d += width) out[d] = src[col + y];
          }
        }
      }
    });
    return out;
  }
}

function transposeInto(
  src: Uint16Array,
  width: number,
  channels: number,
  from: number,
  n: number,
  dst: Uint16Array,
  base: number,
): void {
  for (let r = 0; r < channels; r++) {
    const s = r * width + from;
    let d = base + r;
    for (let l = 0; l < n; l++, d += channels) dst[d] = src[s + l];
  }
}

function grow16(a: Uint16Array, cap: number): Uint16Array {
  const b = new Uint16Array(cap);
  b.set(a);
  return b;
}

function grow32(a: Float32Array, cap: number): Float32Array {
  const b = new Float32Array(cap);
  b.set(a);
  return b;
}

export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}
