import { OPEN_BEAM } from './scan-picture.js';

/**
 * The open-beam level of a 16-bit scan file. Everything downstream reads 65,535 as the open beam
 * (core/scan-picture.ts); a scanner or generator that keeps headroom above its air level writes
 * the air lower, and the model then reads the air, and everything behind it, as more material:
 * with both energies scaled by 0.6 and read as they were, 4 of 25 clear test scans alarmed with
 * person-fcn 2.2.0 (eval, robustness). The level is read where a drive-through scan has air: the
 * border (the top rows above the vehicle, the first and last lines before and after it).
 *
 * 'auto' (the default) rescales a file whose border shows an air plateau clearly below 65,535;
 * 'full' reads the file as it is; a number is the file's open-beam level, named by the site.
 */
export type OpenBeamOption = 'auto' | 'full' | number;

export const DEFAULT_OPEN_BEAM: OpenBeamOption = 'auto';

/** Share of the height (top rows) and of the width (first and last lines) read as the border. */
export const OPEN_BEAM_BORDER = 0.04;
/**
 * Border pixels within this fraction below the border's 99.5th percentile form the air plateau; the
 * widths are tried in turn, so that air whose noise spreads it over several per cent is still found
 * (at 2 % noise the 99.5th percentile sits 5 % above the air's level).
 */
const PLATEAU_WIDTHS = [0.03, 0.06, 0.12];
/** The plateau must hold at least this share of the border to be taken as air. */
export const OPEN_BEAM_MIN_SHARE = 0.25;
/** Air stands out: the border pixels in the band below the plateau, as wide again as the plateau and a half,
 * must be fewer than half the plateau's (a ramp or a textured border has no such step). */
const SHOULDER = 2.5;
/** Images with fewer border pixels than this are no scan to estimate from (test patterns, thumbnails): read as they are. */
export const OPEN_BEAM_MIN_BORDER = 2000;
/** Levels at or above this fraction of 65,535 are full scale already: nothing is changed. */
const FULL_SCALE = 0.97;
/** Levels below this fraction of 65,535 are not taken for air (an inverted or attenuation-coded file, or a
 * cropped scan whose border is the vehicle?): scanners that keep headroom keep it above this. */
const LOWEST_LEVEL = 0.5;
/** Named levels accepted, as for the configuration. */
export const OPEN_BEAM_MIN_LEVEL = 1000;

export interface OpenBeamEstimate {
  /** Median of the air plateau at the border. */
  level: number;
  /** Share of the border's pixels on the plateau. */
  share: number;
}

/**
 * The air plateau at the border of a 16-bit scan, or undefined when the border has none: the border
 * pixels within 3 %, else 6 %, else 12 % below its 99.5th percentile (their median is the level), if
 * they are at least a quarter of the border and stand out (fewer than half as many in the band below
 * them, one and a half times as wide).
 */
export function estimateOpenBeam(pixels: Uint16Array, width: number, height: number): OpenBeamEstimate | undefined {
  const n = borderPixels(width, height);
  if (n < OPEN_BEAM_MIN_BORDER) return undefined;
  const { bh, bw } = border(width, height);
  const hist = new Uint32Array(65536);
  for (let r = 0; r < height; r++) {
    const base = r * width;
    if (r < bh) {
      for (let i = 0; i < width; i++) hist[pixels[base + i]]++;
    } else {
      for (let i = 0; i < Math.min(bw, width); i++) hist[pixels[base + i]]++;
      for (let i = Math.max(bw, width - bw); i < width; i++) hist[pixels[base + i]]++;
    }
  }
  // Cumulative counts: below[v] = border pixels under v.
  const below = new Uint32Array(65537);
  for (let v = 0; v < 65536; v++) below[v + 1] = below[v] + hist[v];
  const top = levelAt(below, Math.ceil(0.995 * n));
  for (const width of PLATEAU_WIDTHS) {
    const from = Math.floor(top * (1 - width));
    const inPlateau = n - below[from];
    if (inPlateau / n < OPEN_BEAM_MIN_SHARE) continue;
    const shoulder = below[from] - below[Math.max(0, Math.floor(top * (1 - SHOULDER * width)))];
    if (shoulder > inPlateau / 2) continue;
    const level = levelAt(below, below[from] + Math.ceil(inPlateau / 2), from);
    if (level === 0) return undefined;
    return { level, share: inPlateau / n };
  }
  return undefined;
}

function border(width: number, height: number): { bh: number; bw: number } {
  return {
    bh: Math.min(height, Math.max(1, Math.round(height * OPEN_BEAM_BORDER))),
    bw: Math.max(1, Math.round(width * OPEN_BEAM_BORDER)),
  };
}

/** Pixels in the border: the top bh rows, and the first and last bw lines below them. */
function borderPixels(width: number, height: number): number {
  const { bh, bw } = border(width, height);
  return bh * width + (height - bh) * Math.min(width, 2 * bw);
}

/** The smallest value from `start` on whose cumulative count (`below[v + 1]`: pixels at or under v) reaches `want`. */
function levelAt(below: Uint32Array, want: number, start = 0): number {
  for (let v = start; v < 65536; v++) if (below[v + 1] >= want) return v;
  return 65535;
}

export interface OpenBeamResult {
  /** The pixels with the open beam at 65,535 (the input itself when nothing changed). */
  pixels: Uint16Array;
  /** The level taken as open beam, when the file was rescaled. */
  level?: number;
  /** What was done, for the user, when it was anything but reading the file as it is. */
  note?: string;
}

/** Rescales a 16-bit scan so that its open beam reads 65,535, as `option` says. */
export function normaliseOpenBeam(
  pixels: Uint16Array,
  width: number,
  height: number,
  option: OpenBeamOption = DEFAULT_OPEN_BEAM,
): OpenBeamResult {
  if (option === 'full') return { pixels };
  if (typeof option === 'number') {
    if (!(option >= OPEN_BEAM_MIN_LEVEL && option <= OPEN_BEAM))
      throw new RangeError(`open beam level must lie in ${OPEN_BEAM_MIN_LEVEL}..${OPEN_BEAM}, got ${option}`);
    if (option === OPEN_BEAM) return { pixels };
    return {
      pixels: rescale(pixels, option),
      level: option,
      note: `open beam at ${option} (named): intensities scaled by ${(OPEN_BEAM / option).toFixed(3)}`,
    };
  }
  if (borderPixels(width, height) < OPEN_BEAM_MIN_BORDER) return { pixels };
  const est = estimateOpenBeam(pixels, width, height);
  if (!est)
    return {
      pixels,
      note: 'no air plateau at the border (top rows, first and last lines): read with 65535 as open beam; name the level (analyze --open-beam, scanner.fileDrop.openBeam) if it is lower',
    };
  if (est.level >= FULL_SCALE * OPEN_BEAM) return { pixels };
  if (est.level < LOWEST_LEVEL * OPEN_BEAM)
    return {
      pixels,
      note: `the border reads ${est.level}, below half of full scale: not taken for open beam (a cropped scan whose border is the vehicle, or an inverted or attenuation-coded file?); read with 65535 as open beam`,
    };
  return {
    pixels: rescale(pixels, est.level),
    level: est.level,
    note: `open beam reads ${est.level} at the border (${Math.round(est.share * 100)} % of it), not 65535: intensities scaled by ${(OPEN_BEAM / est.level).toFixed(3)}; name the level (analyze --open-beam, scanner.fileDrop.openBeam) to fix it, or 'full' to read the file as it is`,
  };
}

function rescale(pixels: Uint16Array, level: number): Uint16Array {
  const k = OPEN_BEAM / level;
  const lut = new Uint16Array(65536);
  for (let v = 0; v < 65536; v++) lut[v] = Math.min(OPEN_BEAM, Math.round(v * k));
  const out = new Uint16Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = lut[pixels[i]];
  return out;
}
