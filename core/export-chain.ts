/**
 * 8-bit export chains of fielded scanners, and their decoding back to detected intensity
 * (uint16, 65535 = open beam), which is what the model's preprocessing expects.
 *
 * A scanner that exports 8-bit pictures maps transmission T (0..1) to a grey value through a
 * display chain: linear or logarithmic scaling, a window, a gamma, sometimes inverted (dense =
 * bright), then 8-bit quantisation and often JPEG. A site that knows its chain names it (config
 * scanner.fileDrop.export, `analyze --export-*`) and the file is decoded exactly. Otherwise the
 * default, `auto`, estimates the chain from the image itself (`estimateExport`): the polarity from
 * the open beam around the vehicle, the open-beam grey level, and the display curve whose decoding
 * gives the image's non-air pixels the attenuation distribution of typical vehicle scans. The
 * estimate is said with how sure it is (`describeEstimate`), since one image cannot always tell a
 * linear from a logarithmic export. A dual-energy pair is one scanner's export: the high-energy
 * file's estimate decodes both.
 *
 * `normaliseLut` is the automatic decoding model 2.0.0 was trained with (training/export_chain.py's
 * `auto_lut` mirrors it exactly; test/unit/core/export-chain.test.ts checks both against one
 * fixture): grey mapped linearly to attenuation between the open beam and the densest level.
 * Used by the one scan image decoder (core/scan-image-file.ts): the file drop's and `analyze`'s. */

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

/** Attenuation assigned to the densest grey level by model 2.0.0's automatic decoding (normaliseLut). */
export const AUTO_MAX_ATTENUATION = 6;
/** Percentiles (of all pixels) taken as open beam (both decodings) and as the densest level (normaliseLut). */
export const AUTO_AIR_PERCENTILE = 99.5;
export const AUTO_DARK_PERCENTILE = 0.2;
/** Share of the image height (top rows) and width (first and last lines) that the polarity test reads. */
export const AUTO_BORDER = 0.04;
/** Grey levels from either end of the scale (0..AUTO_PLATEAU, 255-AUTO_PLATEAU..255) counted as the open-beam plateau's side. */
export const AUTO_PLATEAU = 25;

export type ExportOption = 'auto' | ExportChain;

/** How to decode a file: an option, or an estimate made on another file of the same export (the pair's high energy). */
export type ExportDecoding = ExportOption | ExportEstimate;

/**
 * The decoding used when neither the site nor the caller names one: the chain estimated from the
 * image. Against a plain linear decoding (grey x 257) it found 66.3 % of people on average over
 * the five export chains of eval/variants.ts (linear decoding: 46.3 %; worst chain 57.9 % against
 * 0 %), eval/export-decoding.ts on test seeds 2,000,300–2,000,323 with model 2.0.0 (docs/inference.md).
 */
export const DEFAULT_EXPORT: ExportOption = 'auto';

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
function looksInverted(grey: Uint8Array, width: number, height: number): boolean {
  const { border, all, nb } = borderHistograms(grey, width, height);
  return percentileLevel(border, nb, 50) < percentileLevel(all, width * height, 50);
}

/**
 * Grey-level histograms of an 8-bit scan: of the whole image, of its border (the top rows and the
 * first and last lines, AUTO_BORDER of each side) and of the top rows alone.
 */
function borderHistograms(
  grey: Uint8Array,
  width: number,
  height: number,
): { all: Float64Array; border: Float64Array; topRows: Float64Array; nb: number; bh: number } {
  const bh = Math.max(1, Math.round(height * AUTO_BORDER));
  const bw = Math.max(1, Math.round(width * AUTO_BORDER));
  const border = new Float64Array(256);
  const topRows = new Float64Array(256);
  const all = new Float64Array(256);
  let nb = 0;
  for (let r = 0; r < height; r++) {
    const base = r * width;
    for (let i = 0; i < width; i++) {
      const g = grey[base + i];
      all[g]++;
      if (r < bh) topRows[g]++;
      if (r < bh || i < bw || i >= width - bw) {
        border[g]++;
        nb++;
      }
    }
  }
  return { all, border, topRows, nb, bh };
}

/** Decodes 8-bit grey values to intensities (uint16, 65535 = open beam). */
export function decodeExport(
  grey: Uint8Array,
  width: number,
  height: number,
  decoding: ExportDecoding = 'auto',
): Uint16Array {
  return decodeExportWith(grey, width, height, decoding).intensity;
}

/** Decodes 8-bit grey values, and says which estimate decoded them when the chain was not named. */
export function decodeExportWith(
  grey: Uint8Array,
  width: number,
  height: number,
  decoding: ExportDecoding = 'auto',
): { intensity: Uint16Array; estimate?: ExportEstimate } {
  if (grey.length !== width * height)
    throw new RangeError(`decodeExport: ${grey.length} samples for a ${width} x ${height} image`);
  const estimate = decoding === 'auto' ? estimateExport(grey, width, height) : 'air' in decoding ? decoding : undefined;
  const lut = estimate ? estimateLut(estimate) : chainLut(decoding as ExportChain);
  const intensity = new Uint16Array(grey.length);
  for (let k = 0; k < grey.length; k++) intensity[k] = lut[grey[k]];
  return estimate ? { intensity, estimate } : { intensity };
}

/**
 * Model 2.0.0's automatic decoding (kept for training/export_chain.py's `auto_lut`, which it
 * mirrors): grey -> intensity with grey mapped linearly to attenuation between the open beam and
 * the densest level (AUTO_MAX_ATTENUATION).
 */
export function normaliseLut(grey: Uint8Array, width: number, height: number): Uint16Array {
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

/**
 * The attenuation distribution of typical vehicle scans: the share of a scan's pixels with
 * attenuation above 0.01 that lie at or below each of 64 attenuations log-spaced from 0.01 to 11.1
 * (AUTO_REFERENCE_GRID), averaged over 60 validation scans of the synthesizer (seeds
 * 1,000,000–1,000,059 of the training data set, high energy, 5 mm, randomised scanner; never test
 * seeds). The estimated chain is the one whose decoding gives the image's non-air pixels the
 * quantiles (AUTO_REFERENCE_QUANTILES) this distribution has above the same attenuation.
 */
export const AUTO_REFERENCE_CDF: readonly number[] = [
  0.0, 0.0153, 0.0292, 0.0416, 0.0524, 0.0618, 0.0699, 0.0769, 0.0828, 0.0879, 0.0923, 0.0964, 0.1004, 0.1044, 0.1091,
  0.1159, 0.1279, 0.1549, 0.2189, 0.3182, 0.3977, 0.4284, 0.4382, 0.4451, 0.4603, 0.4854, 0.5009, 0.513, 0.5226, 0.5304,
  0.5392, 0.5537, 0.5638, 0.6117, 0.6322, 0.6554, 0.6687, 0.6826, 0.6986, 0.7159, 0.743, 0.7557, 0.7688, 0.7876, 0.803,
  0.817, 0.8326, 0.8478, 0.8616, 0.875, 0.8887, 0.9031, 0.9176, 0.9305, 0.9427, 0.9567, 0.9673, 0.9774, 0.9866, 0.9931,
  0.995, 0.9964, 0.9972, 1.0,
];
export const AUTO_REFERENCE_GRID: readonly number[] = AUTO_REFERENCE_CDF.map((_, i) =>
  Math.exp(Math.log(0.01) + (i * (Math.log(11.1) - Math.log(0.01))) / (AUTO_REFERENCE_CDF.length - 1)),
);
export const AUTO_REFERENCE_QUANTILES = [10, 25, 50, 75, 90, 95, 98, 99.5] as const;
/** Share of the open-beam peak's height at which the peak ends (the levels below it are the vehicle). */
export const AUTO_PEAK_EDGE = 0.02;
/** Display exponents tried by the estimate: 0 (linear scaling) and 25 steps from 0.3 to 3 (log scaling). */
export const AUTO_EXPONENTS: readonly number[] = [
  0,
  ...Array.from({ length: 25 }, (_, i) => Math.exp(Math.log(0.3) + (i * (Math.log(3) - Math.log(0.3))) / 24)),
];
/** Attenuation of the densest decodable level (intensity 1 of 65535). */
const MAX_ATTENUATION = Math.log(65535);

/** Linear interpolation of ys at x over increasing xs (clamped at the ends). */
function interp(x: number, xs: readonly number[], ys: readonly number[]): number {
  if (x <= xs[0]) return ys[0];
  const n = xs.length - 1;
  if (x >= xs[n]) return ys[n];
  let k = 1;
  while (xs[k] < x) k++;
  const t = xs[k] > xs[k - 1] ? (x - xs[k - 1]) / (xs[k] - xs[k - 1]) : 0;
  return ys[k - 1] + t * (ys[k] - ys[k - 1]);
}

const LOG_GRID = AUTO_REFERENCE_GRID.map(Math.log);

/** The reference distribution's attenuation at a percentile of its pixels above attenuation a0. */
export function referenceQuantile(a0: number, pct: number): number {
  const f0 = interp(Math.log(a0), LOG_GRID, AUTO_REFERENCE_CDF);
  return Math.exp(interp(f0 + ((1 - f0) * pct) / 100, AUTO_REFERENCE_CDF, LOG_GRID));
}

/** What the automatic decoding found in an image, and how sure it is. */
export interface ExportEstimate {
  /** The chain assumed, as one would name it (its LUT scales grey by the open-beam level found). */
  chain: ExportChain;
  /** Grey level (after undoing the inversion) taken as open beam. */
  air: number;
  /** Share of the border (top rows, first and last lines) at the open-beam side's plateau: how sure the polarity is. */
  borderAir: number;
  /** RMS of the log-quantile misfit of the chain chosen, and of the best chain of the other scaling. */
  misfit: number;
  otherMisfit: number;
  /**
   * True when the open beam and the scaling both stood out (borderAir >= 0.5, the open-beam peak
   * within AUTO_PLATEAU levels of the end of the grey scale, the other scaling fits at least 3x
   * worse). Rare: on 240 exports of synthetic test scans (five chains, seeds 2,000,300–2,000,323 and
   * 2,000,500–2,000,523) 6 were sure, one of them with the wrong scaling; the polarity was right in
   * all 240, the scaling in 186 (docs/inference.md).
   */
  sure: boolean;
}

/** Grey level (0..255) at a percentile of the pixels of a 256-bin histogram between levels lo and hi (inclusive). */
function histQuantile(hist: Float64Array, lo: number, hi: number, total: number, pct: number): number {
  const want = (pct / 100) * total;
  let cum = 0;
  for (let g = lo; g <= hi; g++) {
    cum += hist[g];
    if (cum >= want) return g;
  }
  return hi;
}

/** Display curve shape u(x) of exponent lam at x = grey / open beam (0 < x <= 1): -ln x, or (1 - x^lam) / lam. */
function shape(x: number, lam: number): number {
  return lam === 0 ? -Math.log(x) : (1 - Math.pow(x, lam)) / lam;
}

/**
 * Estimates an unnamed export chain from the image itself: polarity from the border (the open beam
 * above and around a drive-through vehicle is the brightest plateau of a normal export, the darkest
 * of an inverted one), the open-beam grey level, and the display curve: of the curves
 * a = c (1 - x^lam) / lam (lam = 0: a = -c ln x, a linear export with gamma c; lam > 0: a log export
 * with gamma lam and logMax c / lam), x = grey / open beam, the one whose decoded non-air pixels
 * have the reference attenuation quantiles (AUTO_REFERENCE_QUANTILES) in shape (lam) and scale (c).
 * JPEG blocks do not move a 256-bin histogram's quantiles much; windows are approximated by the
 * curve that fits. What the estimate cannot know (a scene unlike the reference) is said by `sure`.
 */
export function estimateExport(grey: Uint8Array, width: number, height: number): ExportEstimate {
  const { all, border, topRows, nb, bh } = borderHistograms(grey, width, height);
  // Open beam is a plateau at one end of the grey scale (white in a normal export, black in an
  // inverted one): above the vehicle in the top rows, else (a tall vehicle) before and after it.
  const ends = (h: Float64Array) => {
    let black = 0,
      white = 0;
    for (let g = 0; g <= AUTO_PLATEAU; g++) black += h[g];
    for (let g = 255 - AUTO_PLATEAU; g < 256; g++) white += h[g];
    return { black, white };
  };
  const top = ends(topRows);
  const edge = Math.max(top.black, top.white) >= 0.5 * bh * width ? top : ends(border);
  const invert = edge.black > edge.white;
  const hist = new Float64Array(256);
  const bside = new Float64Array(256);
  for (let g = 0; g < 256; g++) {
    hist[invert ? 255 - g : g] = all[g];
    bside[invert ? 255 - g : g] = border[g];
  }
  // Open beam: the highest peak of the brighter half; the vehicle: every level below the peak's foot.
  let air = 128;
  for (let g = 129; g < 256; g++) if (hist[g] > hist[air]) air = g;
  let foot = air;
  while (foot > 0 && hist[foot - 1] >= AUTO_PEAK_EDGE * hist[air]) foot--;
  const last = foot - 1;
  // The border's share within the open-beam peak.
  let inPlateau = 0;
  for (let g = Math.max(0, foot); g < 256; g++) inPlateau += bside[g];
  const borderAir = nb ? inPlateau / nb : 0;
  // The darkest level in use: levels at or below it may be clipped (everything denser shows black there too).
  let dark = 0;
  while (dark < 255 && hist[dark] === 0) dark++;

  // Grey levels at the reference percentiles of the vehicle's pixels (dense end first).
  let total = 0;
  for (let g = 0; g <= last; g++) total += hist[g];
  const levels = AUTO_REFERENCE_QUANTILES.map((q) => (last >= 1 ? histQuantile(hist, 0, last, total, 100 - q) : 0));
  const xs = new Float64Array(256);
  for (let g = 0; g < 256; g++) xs[g] = Math.min(1, Math.max(g, 0.5) / air);
  const fitCurve = (lam: number): { misfit: number; c: number } => {
    const kept = AUTO_REFERENCE_QUANTILES.map((q, k) => ({ q, g: levels[k] })).filter((e) => e.g > dark);
    if (total < 20 || last < 1 || kept.length < 4) return { misfit: Infinity, c: 1 };
    const uEdge = shape(xs[Math.min(255, last + 1)], lam);
    let c = 1;
    let d: number[] = [];
    // The scale c sets where the vehicle begins in attenuation (c uEdge), which sets the reference's quantiles.
    for (let iter = 0; iter < 6; iter++) {
      const a0 = Math.max(0.01, c * uEdge);
      d = kept.map((e) => Math.log(referenceQuantile(a0, e.q)) - Math.log(Math.max(shape(xs[e.g], lam), 1e-4)));
      c = Math.exp(d.reduce((s, x) => s + x, 0) / d.length);
    }
    const mean = Math.log(c);
    return { misfit: Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / d.length), c };
  };
  let chosen = { lam: 0, misfit: Infinity, c: 1 };
  let bestLinear = Infinity;
  let bestLog = Infinity;
  for (const lam of AUTO_EXPONENTS) {
    const f = fitCurve(lam);
    if (lam === 0) bestLinear = f.misfit;
    else bestLog = Math.min(bestLog, f.misfit);
    if (f.misfit < chosen.misfit) chosen = { lam, ...f };
  }
  if (!Number.isFinite(chosen.misfit)) chosen = { lam: 1, misfit: Infinity, c: AUTO_MAX_ATTENUATION };
  const chain: ExportChain =
    chosen.lam === 0
      ? { scaling: 'linear', gamma: round3(chosen.c) }
      : { scaling: 'log', logMax: round3(Math.min(20, chosen.c / chosen.lam)), gamma: round3(chosen.lam) };
  if (invert) chain.invert = true;
  const otherMisfit = chosen.lam === 0 ? bestLog : bestLinear;
  return {
    chain,
    air,
    borderAir,
    misfit: chosen.misfit,
    otherMisfit,
    sure:
      borderAir >= 0.5 &&
      air >= 255 - AUTO_PLATEAU &&
      Number.isFinite(chosen.misfit) &&
      otherMisfit >= 3 * chosen.misfit,
  };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** The grey -> intensity table of an estimate: its chain, with grey scaled by the open-beam level found. */
export function estimateLut(e: ExportEstimate): Uint16Array {
  const c = e.chain;
  const gamma = c.gamma ?? 1;
  const lut = new Uint16Array(256);
  for (let g = 0; g < 256; g++) {
    const v = c.invert ? 255 - g : g;
    const x = Math.min(1, Math.max(v, 0.5) / e.air);
    const a = c.scaling === 'linear' ? -gamma * Math.log(x) : (c.logMax ?? 8) * (1 - Math.pow(x, gamma));
    lut[g] = Math.round(65535 * Math.exp(-Math.min(MAX_ATTENUATION, Math.max(0, a))));
  }
  return lut;
}

/** One line saying which chain the automatic decoding assumed and how sure it is. */
export function describeEstimate(e: ExportEstimate): string {
  const c = e.chain;
  const curve =
    c.scaling === 'linear' ? `linear scaling, gamma ${c.gamma}` : `log scaling, logMax ${c.logMax}, gamma ${c.gamma}`;
  const other = c.scaling === 'linear' ? 'log' : 'linear';
  const ratio = e.misfit > 0 ? e.otherMisfit / e.misfit : Infinity;
  return `assumed ${curve}${c.invert ? ', inverted' : ''}, open beam at grey ${c.invert ? 255 - e.air : e.air} (${e.sure ? 'sure' : 'unsure'}: ${Math.round(100 * e.borderAir)} % of the border is open beam; the curve is fitted to the grey-level histogram, ${other} scaling fits ${Number.isFinite(ratio) ? ratio.toFixed(1) : 'no'} x worse; name the chain if it is known)`;
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
