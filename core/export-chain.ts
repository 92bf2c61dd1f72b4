/**
 * 8-bit export chains of fielded scanners, and their decoding back to detected intensity
 * (uint16, 65535 = open beam), which is what the model's preprocessing expects.
 *
 * A scanner that exports 8-bit pictures maps transmission T (0..1) to a grey value through a
 * display chain: linear or logarithmic scaling, a window, a gamma, sometimes inverted (dense =
 * bright), then 8-bit quantisation and often JPEG. A site that knows its chain names it (config
 * scanner.fileDrop.export, `analyze --export-*`) and the file is decoded exactly. Otherwise the
 * default, `auto`, decodes without knowing the chain: it finds the polarity and the grey level of
 * open beam and of the densest pixels from the image itself, and maps grey linearly to
 * attenuation between them (a logarithmic display assumption). The model is trained on exports of
 * many chains decoded by this same function (training/export_chain.py mirrors it exactly), so it
 * sees at run time what it saw in training. The algorithm and its constants must stay in step
 * with training/export_chain.py (test/unit/core/export-chain.test.ts checks both against one
 * fixture). Used by the file drop (firmware-bridge) and by `analyze` (inference/scan-file.ts).
 */

export type ExportScaling = 'linear' | 'log';

export interface ExportChain {
  scaling: ExportScaling;
  /**
   * Log scaling: attenuation (-ln T) shown as black; grey = 255 (1 - a / logMax). Default 8
   * (about 1/3,000 of the open beam).
   */
  logMax?: number;
  /** Window on the scaled value (0..1 before it): [lo, hi] mapped to [0, 1], clipped. Default [0, 1]. */
  window?: [number, number];
  /** Display gamma: grey = 255 * v^(1/gamma). Default 1. */
  gamma?: number;
  /** Dense shown bright (grey = 255 - grey). Default false. */
  invert?: boolean;
}

/** Attenuation assigned to the densest grey level by the automatic decoding. */
export const AUTO_MAX_ATTENUATION = 6;
/** Percentiles (of all pixels) taken as open beam and as the densest level by the automatic decoding. */
export const AUTO_AIR_PERCENTILE = 99.5;
export const AUTO_DARK_PERCENTILE = 0.2;
/** Share of the image height (top rows) and width (first and last lines) that the polarity test reads. */
export const AUTO_BORDER = 0.04;

export type ExportOption = 'auto' | ExportChain;

/**
 * The decoding used when neither the site nor the caller names one: a plain linear export
 * (grey = 255 x transmission, i.e. intensity = grey x 257). The shipped model (person-fcn 1.2.0) was
 * trained and evaluated on 8-bit input decoded this way; 'auto' is for models trained with it.
 */
export const DEFAULT_EXPORT: ExportChain = { scaling: 'linear' };

/** Grey level (0..255) at a percentile of a 256-bin histogram: the smallest level whose cumulative count reaches it. */
function percentileLevel(hist: Float64Array, total: number, pct: number): number {
  const want = (pct / 100) * total;
  let cum = 0;
  for (let g = 0; g < 256; g++) {
    cum += hist[g];
    if (cum >= want) return g;
  }
  return 255;
}

/**
 * Whether an 8-bit scan shows dense as bright: the median of its border (top rows, first and last
 * lines, where the open beam is in a drive-through scan) is darker than the median of the image.
 */
export function looksInverted(grey: Uint8Array, width: number, height: number): boolean {
  const bh = Math.max(1, Math.round(height * AUTO_BORDER));
  const bw = Math.max(1, Math.round(width * AUTO_BORDER));
  const border = new Float64Array(256);
  const all = new Float64Array(256);
  let nb = 0;
  for (let r = 0; r < height; r++) {
    const base = r * width;
    for (let i = 0; i < width; i++) {
      const g = grey[base + i];
      all[g]++;
      if (r < bh || i < bw || i >= width - bw) {
        border[g]++;
        nb++;
      }
    }
  }
  return percentileLevel(border, nb, 50) < percentileLevel(all, width * height, 50);
}

/** Decodes 8-bit grey values to intensities (uint16, 65535 = open beam). */
export function decodeExport(
  grey: Uint8Array,
  width: number,
  height: number,
  chain: ExportOption = 'auto',
): Uint16Array {
  if (grey.length !== width * height)
    throw new RangeError(`decodeExport: ${grey.length} samples for a ${width} x ${height} image`);
  const lut = chain === 'auto' ? autoLut(grey, width, height) : chainLut(chain);
  const out = new Uint16Array(grey.length);
  for (let k = 0; k < grey.length; k++) out[k] = lut[grey[k]];
  return out;
}

/** The automatic decoding's grey -> intensity table for an image. */
export function autoLut(grey: Uint8Array, width: number, height: number): Uint16Array {
  const invert = looksInverted(grey, width, height);
  const hist = new Float64Array(256);
  for (let k = 0; k < grey.length; k++) hist[invert ? 255 - grey[k] : grey[k]]++;
  const air = percentileLevel(hist, grey.length, AUTO_AIR_PERCENTILE);
  let dark = percentileLevel(hist, grey.length, AUTO_DARK_PERCENTILE);
  if (dark >= air) dark = Math.max(0, air - 1);
  const lut = new Uint16Array(256);
  for (let g = 0; g < 256; g++) {
    const v = invert ? 255 - g : g;
    const a = Math.min(AUTO_MAX_ATTENUATION, Math.max(0, (AUTO_MAX_ATTENUATION * (air - v)) / (air - dark)));
    lut[g] = Math.round(65535 * Math.exp(-a));
  }
  return lut;
}

/** Checks an export chain; throws a RangeError naming the bad field. */
export function checkExportChain(c: ExportChain, where = 'export'): void {
  if (c.scaling !== 'linear' && c.scaling !== 'log')
    throw new RangeError(`${where}.scaling must be 'linear' or 'log', got ${JSON.stringify(c.scaling)}`);
  if (c.logMax !== undefined && !(c.logMax > 0 && c.logMax <= 20))
    throw new RangeError(`${where}.logMax must be within (0, 20], got ${c.logMax}`);
  if (c.gamma !== undefined && !(c.gamma > 0 && c.gamma <= 10))
    throw new RangeError(`${where}.gamma must be within (0, 10], got ${c.gamma}`);
  if (
    c.window !== undefined &&
    !(c.window.length === 2 && c.window[0] >= 0 && c.window[1] <= 1 && c.window[0] < c.window[1])
  ) {
    throw new RangeError(`${where}.window must be [lo, hi] with 0 <= lo < hi <= 1, got ${JSON.stringify(c.window)}`);
  }
}

/** The exact inverse of a named chain as a grey -> intensity table (clipped levels decode to the window's edge). */
export function chainLut(c: ExportChain): Uint16Array {
  checkExportChain(c);
  const [lo, hi] = c.window ?? [0, 1];
  const gamma = c.gamma ?? 1;
  const logMax = c.logMax ?? 8;
  const lut = new Uint16Array(256);
  for (let g = 0; g < 256; g++) {
    const shown = (c.invert ? 255 - g : g) / 255;
    const v = lo + (hi - lo) * Math.pow(shown, gamma);
    const t = c.scaling === 'linear' ? v : Math.exp(-logMax * (1 - v));
    lut[g] = Math.round(65535 * Math.min(1, Math.max(0, t)));
  }
  return lut;
}

/** Encodes intensities (65535 = open beam) through a chain to 8-bit grey (before any JPEG). */
export function encodeExport(intensity: Uint16Array, c: ExportChain): Uint8Array {
  checkExportChain(c);
  const [lo, hi] = c.window ?? [0, 1];
  const gamma = c.gamma ?? 1;
  const logMax = c.logMax ?? 8;
  const out = new Uint8Array(intensity.length);
  for (let k = 0; k < intensity.length; k++) {
    const t = Math.max(intensity[k], 1) / 65535;
    const v = c.scaling === 'linear' ? t : 1 + Math.log(t) / logMax;
    const w = Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
    const g = Math.round(255 * Math.pow(w, 1 / gamma));
    out[k] = c.invert ? 255 - g : g;
  }
  return out;
}
