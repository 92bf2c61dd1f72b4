/**
 * Pictures the scan viewer draws. Values are display bytes (255 = open beam, 0 = dense), so the
 * window/level look-up table applies to every kind the same way.
 */
export interface Raster {
  readonly width: number;
  readonly height: number;
  /** Raster pixels per scan pixel (live views are downsampled). */
  readonly scale: number;
  /** Changes whenever pixels are added. */
  readonly version: number;
  /** Columns [x0, x1) through the look-up table, as RGBA. */
  render(lut: Uint8Array, x0: number, x1: number): ImageData;
  /** Histogram of the display bytes (256 bins), for automatic contrast. */
  histogram(): Uint32Array;
}

/** The live view: grey lines (columns) appended as the vehicle passes. */
export class LiveRaster implements Raster {
  readonly height: number;
  readonly scale: number;
  #data: Uint8Array;
  #capacity: number;
  #width = 0;
  #version = 0;

  constructor(height: number, factor: number) {
    this.height = height;
    this.scale = 1 / factor;
    this.#capacity = 512;
    this.#data = new Uint8Array(this.#capacity * height);
  }

  get width(): number {
    return this.#width;
  }

  get version(): number {
    return this.#version;
  }

  append(firstIndex: number, count: number, bytes: Uint8Array): void {
    const end = firstIndex + count;
    if (end > this.#capacity) {
      let cap = this.#capacity;
      while (cap < end) cap *= 2;
      const grown = new Uint8Array(cap * this.height);
      grown.set(this.#data);
      this.#data = grown;
      this.#capacity = cap;
    }
    this.#data.set(bytes.subarray(0, count * this.height), firstIndex * this.height);
    this.#width = Math.max(this.#width, end);
    this.#version++;
  }

  render(lut: Uint8Array, x0: number, x1: number): ImageData {
    const w = Math.max(1, x1 - x0);
    const h = this.height;
    const img = new ImageData(w, h);
    const out = img.data;
    for (let x = x0; x < x1; x++) {
      const base = x * h;
      for (let r = 0; r < h; r++) {
        const v = lut[this.#data[base + r]!]!;
        const o = (r * w + (x - x0)) * 4;
        out[o] = v;
        out[o + 1] = v;
        out[o + 2] = v;
        out[o + 3] = 255;
      }
    }
    return img;
  }

  histogram(): Uint32Array {
    const hist = new Uint32Array(256);
    const n = this.#width * this.height;
    for (let i = 0; i < n; i++) hist[this.#data[i]!]!++;
    return hist;
  }
}

/** A full-resolution picture of a decided scan, decoded from the server's PNG. */
export class ImageRaster implements Raster {
  readonly width: number;
  readonly height: number;
  readonly scale = 1;
  readonly version = 1;
  readonly #rgba: Uint8ClampedArray;

  constructor(image: ImageData) {
    this.width = image.width;
    this.height = image.height;
    this.#rgba = image.data;
  }

  static async load(url: string): Promise<ImageRaster> {
    const res = await fetch(url, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`scan picture ${url}: HTTP ${res.status}`);
    const bitmap = await createImageBitmap(await res.blob());
    const canvas = document.createElement('canvas');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    return new ImageRaster(ctx.getImageData(0, 0, canvas.width, canvas.height));
  }

  render(lut: Uint8Array, x0: number, x1: number): ImageData {
    const w = Math.max(1, x1 - x0);
    const img = new ImageData(w, this.height);
    const out = img.data;
    const src = this.#rgba;
    for (let y = 0; y < this.height; y++) {
      let s = (y * this.width + x0) * 4;
      let o = y * w * 4;
      for (let x = x0; x < x1; x++, s += 4, o += 4) {
        out[o] = lut[src[s]!]!;
        out[o + 1] = lut[src[s + 1]!]!;
        out[o + 2] = lut[src[s + 2]!]!;
        out[o + 3] = 255;
      }
    }
    return img;
  }

  histogram(): Uint32Array {
    const hist = new Uint32Array(256);
    const src = this.#rgba;
    for (let i = 0; i < src.length; i += 4) hist[Math.round((src[i]! + src[i + 1]! + src[i + 2]!) / 3)]!++;
    return hist;
  }
}

/** Window/level look-up table over display bytes; `invert` swaps dark and light. */
export function windowLut(window: number, level: number, invert: boolean): Uint8Array {
  const lut = new Uint8Array(256);
  const lo = level - window / 2;
  for (let v = 0; v < 256; v++) {
    const t = Math.min(1, Math.max(0, (v - lo) / Math.max(1, window)));
    lut[v] = Math.round((invert ? 1 - t : t) * 255);
  }
  return lut;
}

/** Window and level that spread the 0.5th to 99.5th percentile over the whole grey range. */
export function autoWindow(hist: Uint32Array): { window: number; level: number } {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return { window: 255, level: 128 };
  const at = (q: number) => {
    let acc = 0;
    for (let v = 0; v < 256; v++) {
      acc += hist[v]!;
      if (acc >= q * total) return v;
    }
    return 255;
  };
  let lo = at(0.005);
  let hi = at(0.995);
  // A nearly uniform picture (open beam at the start of a scan) keeps a usable window.
  const MIN = 32;
  if (hi - lo < MIN) {
    lo = Math.min(Math.max(0, Math.round((lo + hi) / 2 - MIN / 2)), 255 - MIN);
    hi = lo + MIN;
  }
  return { window: hi - lo, level: (hi + lo) / 2 };
}

export function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
