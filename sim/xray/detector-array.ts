import type { Projection } from './projection.js';
import type { Rng } from './prng.js';

/**
 * The detector side of the physics: turns a projection (line integrals of mu) into what a linac
 * scanner delivers after its own flat-field correction: uint16 intensities with 65535 = open beam.
 *
 * Per energy, per pixel (channel r, line i):
 *   T        = exp(-sum mu*t)                               Beer-Lambert transmission
 *   T'       = T blurred by a 3-tap kernel along both axes   focal spot, scintillator crosstalk
 *   T'       = T + s * (T averaged over ~0.3 m)               scattered radiation
 *   N        = I0 * f_i * T'                                 expected photons; f_i line flicker
 *   n        ~ Poisson(N) + N(0, e^2)                        photon noise, readout noise
 * (in cab-avoidance mode N is lowered by the cab dose for the cab's lines and out is divided by it)
 *   out      = round(65535 * n / I0 * g_r)                   g_r residual channel gain error
 * Dead channels read 0. Missing lines are lines the scanner never delivered: they are filled by
 * linear interpolation between their neighbours, as the lane's scan assembler does, and flagged.
 */
export interface DetectorOptions {
  /** Open-beam photons per pixel in the high-energy image. Default: 2,000 per mm^2 of pixel (50,000 at 5 mm). */
  photonsHigh?: number;
  /** Open-beam photons per pixel in the low-energy image. Default: 60 % of photonsHigh. */
  photonsLow?: number;
  /** Photon (Poisson) noise. Default true. */
  noise?: boolean;
  /** Standard deviation of the residual per-channel gain error, relative. Default 0.004. */
  gainSigma?: number;
  /** Dead channels: explicit row indices, or a count of random ones. Default: none in 70 % of scans, else 1 or 2 random. */
  deadChannels?: number[] | number;
  /** Standard deviation of the line-to-line source intensity, relative. Default 0.003. */
  flickerSigma?: number;
  /** Weight of each neighbour in the 3-tap blur [w, 1-2w, w], 0..0.33. Default 0.12. */
  blur?: number;
  /** Missing lines: explicit line indices, or a count of random ones (in short bursts). Default none. */
  missingLines?: number[] | number;
  /**
   * Dose in the lines that cover the driver's cab, as a fraction of the full dose (cab-avoidance
   * mode: the scanner lowers the dose until the cab has passed). 1 = full dose. Default: 1 for cars;
   * for other vehicles 1 in 70 % of scans, else 0.05 to 0.15.
   */
  cabDose?: number;
  /** Electronic (readout) noise, standard deviation in photon units. Default 3. */
  readNoise?: number;
  /** Scattered radiation reaching the detector, as a fraction of the mean transmission around a pixel (about 0.3 m). Default 0.002. */
  scatter?: number;
  /** Draw the dose (0.4 to 2 times the default), blur (0.05 to 0.3) and scatter (0.001 to 0.02) per scan where not set. Default false. */
  randomize?: boolean;
}

export interface ResolvedDetector {
  photonsHigh: number;
  photonsLow: number;
  noise: boolean;
  gainSigma: number;
  deadChannels: number[];
  flickerSigma: number;
  blur: number;
  missingLines: number[];
  readNoise: number;
  scatter: number;
  cabDose: number;
  /** Lines from the start scanned at cabDose (0 when the vehicle has no cab or cabDose is 1). */
  cabLines: number;
}

/** cabLines: how many lines from the start cover the driver's cab (0 when there is none). */
export function resolveDetector(
  opts: DetectorOptions,
  width: number,
  height: number,
  pixelMm: number,
  rng: Rng,
  cabLines = 0,
): ResolvedDetector {
  const photonsHigh = opts.photonsHigh ?? 2000 * pixelMm * pixelMm;
  const photonsLow = opts.photonsLow ?? 0.6 * photonsHigh;
  for (const [k, v] of [
    ['photonsHigh', photonsHigh],
    ['photonsLow', photonsLow],
  ] as const) {
    if (!(v > 0)) throw new RangeError(`detector.${k} must be > 0, got ${v}`);
  }
  const blur = opts.blur ?? 0.12;
  for (const [k, v] of [
    ['readNoise', opts.readNoise],
    ['scatter', opts.scatter],
    ['gainSigma', opts.gainSigma],
    ['flickerSigma', opts.flickerSigma],
  ] as const) {
    if (v !== undefined && !(v >= 0 && v < 1e6)) throw new RangeError(`detector.${k} must be >= 0, got ${v}`);
  }
  if (!(blur >= 0 && blur <= 1 / 3)) throw new RangeError(`detector.blur must be within 0..0.333, got ${blur}`);
  // Drawn before the other defects only when it is random, so that an explicit value changes nothing else.
  const cabDose = opts.cabDose ?? (cabLines > 0 && rng.chance(0.3) ? rng.range(0.05, 0.15) : 1);
  if (!(cabDose > 0 && cabDose <= 1)) throw new RangeError(`detector.cabDose must be within (0, 1], got ${cabDose}`);
  const dead = resolveIndices(
    opts.deadChannels ?? (rng.chance(0.7) ? 0 : rng.chance(0.8) ? 1 : 2),
    height,
    'deadChannels',
    rng,
    1,
  );
  const missing = resolveIndices(opts.missingLines ?? 0, width, 'missingLines', rng, 3);
  // Scanners differ: with `randomize`, the dose, blur and scatter left unset are drawn per scan
  // (after the other draws, so that the rest of the scan is the same with and without it).
  const rand = opts.randomize === true;
  const doseFactor = rand && opts.photonsHigh === undefined ? Math.exp(rng.range(Math.log(0.4), Math.log(2))) : 1;
  const blurR = rand && opts.blur === undefined ? rng.range(0.05, 0.3) : blur;
  const scatterR = rand && opts.scatter === undefined ? rng.range(0.001, 0.02) : (opts.scatter ?? 0.002);
  return {
    photonsHigh: photonsHigh * doseFactor,
    photonsLow: photonsLow * doseFactor,
    noise: opts.noise ?? true,
    gainSigma: opts.gainSigma ?? 0.004,
    deadChannels: dead,
    flickerSigma: opts.flickerSigma ?? 0.003,
    blur: blurR,
    missingLines: missing,
    readNoise: opts.readNoise ?? 3,
    scatter: scatterR,
    cabDose,
    cabLines: cabDose < 1 ? Math.min(width, cabLines) : 0,
  };
}

function resolveIndices(spec: number[] | number, size: number, field: string, rng: Rng, burst: number): number[] {
  if (Array.isArray(spec)) {
    for (const v of spec) {
      if (!Number.isInteger(v) || v < 0 || v >= size)
        throw new RangeError(`detector.${field}: index ${v} is outside 0..${size - 1}`);
    }
    return [...new Set(spec)].sort((a, b) => a - b);
  }
  if (!Number.isInteger(spec) || spec < 0)
    throw new RangeError(`detector.${field}: count must be a non-negative integer, got ${spec}`);
  const out = new Set<number>();
  const want = Math.min(spec, size);
  while (out.size < want) {
    const start = rng.int(0, size - 1);
    const len = Math.min(want - out.size, rng.int(1, burst));
    for (let k = 0; k < len && start + k < size; k++) out.add(start + k);
  }
  return [...out].sort((a, b) => a - b);
}

/** Produces one energy's image. `channelGain` is shared by both energies (same detector array). */
function expose(
  att: Float32Array,
  width: number,
  height: number,
  photons: number,
  det: ResolvedDetector,
  channelGain: Float32Array,
  dead: Uint8Array,
  rng: Rng,
): Uint16Array {
  const n = width * height;
  const t = new Float32Array(n);
  for (let k = 0; k < n; k++) t[k] = Math.exp(-att[k]);
  if (det.scatter > 0) addScatter(t, width, height, det.scatter);
  if (det.blur > 0) blur3(t, width, height, det.blur);
  const flicker = new Float32Array(width);
  for (let i = 0; i < width; i++)
    flicker[i] = det.flickerSigma > 0 ? Math.max(0, 1 + det.flickerSigma * rng.normal()) : 1;
  // Lines at reduced dose: fewer photons, normalised back by the scanner's per-line reference.
  const dose = new Float32Array(width).fill(1);
  dose.fill(det.cabDose, 0, det.cabLines);
  const out = new Uint16Array(n);
  const scale = 65535 / photons;
  // Per line: expected photons per unit transmission, and the factor that normalises counts back.
  const perLine = new Float64Array(width);
  const back = new Float64Array(width);
  for (let i = 0; i < width; i++) {
    perLine[i] = photons * dose[i] * flicker[i];
    back[i] = scale / dose[i];
  }
  const z = new Float32Array(width);
  const read2 = det.readNoise * det.readNoise;
  for (let r = 0; r < height; r++) {
    if (dead[r]) continue;
    const g = channelGain[r];
    const base = r * width;
    if (det.noise) rng.fillNormal(z);
    for (let i = 0; i < width; i++) {
      const lambda = perLine[i] * t[base + i];
      let counts: number;
      if (!det.noise) counts = lambda;
      else if (lambda >= 30) counts = lambda + Math.sqrt(lambda + read2) * z[i];
      else counts = rng.poisson(lambda) + (read2 > 0 ? det.readNoise * rng.normal() : 0);
      const v = counts * g * back[i] + 0.5;
      out[base + i] = v <= 0 ? 0 : v >= 65535 ? 65535 : v | 0;
    }
  }
  return out;
}

/** Channel gains (1 + residual error) and the dead-channel map for a scan. */
function detectorArray(det: ResolvedDetector, height: number, rng: Rng): { gain: Float32Array; dead: Uint8Array } {
  const gain = new Float32Array(height);
  for (let r = 0; r < height; r++) gain[r] = det.gainSigma > 0 ? 1 + det.gainSigma * rng.normal() : 1;
  const dead = new Uint8Array(height);
  for (const r of det.deadChannels) dead[r] = 1;
  return { gain, dead };
}

/** Replaces missing lines by linear interpolation between the nearest delivered lines. */
function fillMissingLines(img: Uint16Array, width: number, height: number, missing: Uint8Array): void {
  let i = 0;
  while (i < width) {
    if (!missing[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < width && missing[j]) j++;
    const left = i - 1,
      right = j; // delivered neighbours, -1 / width when none
    for (let r = 0; r < height; r++) {
      const base = r * width;
      const a = left >= 0 ? img[base + left] : right < width ? img[base + right] : 0;
      const b = right < width ? img[base + right] : a;
      for (let k = i; k < j; k++) {
        const f = (k - left) / (right - left);
        img[base + k] = Math.round(a + (b - a) * f);
      }
    }
    i = j;
  }
}

/**
 * Adds scattered radiation: a fraction of the local mean transmission, taken over cells of 64 x 64
 * pixels and interpolated bilinearly (scatter varies slowly across the image).
 */
function addScatter(t: Float32Array, width: number, height: number, fraction: number): void {
  const cell = 64;
  const gw = Math.ceil(width / cell),
    gh = Math.ceil(height / cell);
  const grid = new Float64Array(gw * gh);
  const cnt = new Float64Array(gw * gh);
  for (let r = 0; r < height; r++) {
    const gy = Math.floor(r / cell) * gw;
    const base = r * width;
    for (let c = 0; c < gw; c++) {
      const i0 = c * cell,
        i1 = Math.min(width, i0 + cell);
      let sum = 0;
      for (let i = i0; i < i1; i++) sum += t[base + i];
      grid[gy + c] += sum;
      cnt[gy + c] += i1 - i0;
    }
  }
  for (let k = 0; k < grid.length; k++) grid[k] = (fraction * grid[k]) / cnt[k];
  // Bilinear interpolation between cell centres; per-column weights computed once.
  const cx0 = new Int32Array(width),
    cx1 = new Int32Array(width),
    wx = new Float32Array(width);
  for (let i = 0; i < width; i++) {
    const fx = Math.min(Math.max((i + 0.5) / cell - 0.5, 0), gw - 1);
    cx0[i] = Math.floor(fx);
    cx1[i] = Math.min(cx0[i] + 1, gw - 1);
    wx[i] = fx - cx0[i];
  }
  const rowVals = new Float32Array(gw);
  for (let r = 0; r < height; r++) {
    const fy = Math.min(Math.max((r + 0.5) / cell - 0.5, 0), gh - 1);
    const y0 = Math.floor(fy),
      y1 = Math.min(y0 + 1, gh - 1),
      wy = fy - y0;
    for (let c = 0; c < gw; c++) rowVals[c] = grid[y0 * gw + c] + (grid[y1 * gw + c] - grid[y0 * gw + c]) * wy;
    const base = r * width;
    for (let i = 0; i < width; i++) {
      const a = rowVals[cx0[i]];
      t[base + i] += a + (rowVals[cx1[i]] - a) * wx[i];
    }
  }
}

/** In-place separable blur with kernel [w, 1-2w, w], edges replicated. */
function blur3(t: Float32Array, width: number, height: number, w: number): void {
  const c = 1 - 2 * w;
  for (let r = 0; r < height; r++) {
    const base = r * width;
    let prev = t[base];
    for (let i = 0; i < width; i++) {
      const cur = t[base + i];
      const next = i + 1 < width ? t[base + i + 1] : cur;
      t[base + i] = w * prev + c * cur + w * next;
      prev = cur;
    }
  }
  const prevRow = new Float32Array(width);
  prevRow.set(t.subarray(0, width));
  const curRow = new Float32Array(width);
  for (let r = 0; r < height; r++) {
    const base = r * width;
    curRow.set(t.subarray(base, base + width));
    const nextBase = r + 1 < height ? base + width : base;
    for (let i = 0; i < width; i++) t[base + i] = w * prevRow[i] + c * curRow[i] + w * t[nextBase + i];
    prevRow.set(curRow);
  }
}

/** Convenience for callers that only have a projection. */
export function exposeProjection(
  proj: Projection,
  det: ResolvedDetector,
  dual: boolean,
  rng: Rng,
): { high: Uint16Array; low?: Uint16Array; missing: Uint8Array } {
  const { gain, dead } = detectorArray(det, proj.height, rng);
  const high = expose(proj.attHigh, proj.width, proj.height, det.photonsHigh, det, gain, dead, rng);
  const low = dual ? expose(proj.attLow, proj.width, proj.height, det.photonsLow, det, gain, dead, rng) : undefined;
  const missing = new Uint8Array(proj.width);
  for (const i of det.missingLines) missing[i] = 1;
  if (det.missingLines.length > 0) {
    fillMissingLines(high, proj.width, proj.height, missing);
    if (low) fillMissingLines(low, proj.width, proj.height, missing);
  }
  return { high, low, missing };
}
