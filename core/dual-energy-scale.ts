import { attenuationLut, OPEN_BEAM } from './scan-picture.js';

/**
 * The low-energy scale of a dual-energy scan file. The model reads materials from the ratio of
 * the low- to the high-energy attenuation, as its training scanner (4 and 6 MeV effective)
 * shows it; another energy pair, or a generator with other attenuation tables, moves every ratio:
 * with the low energy's attenuation 15 % higher, 4 of 25 clear test scans alarmed with
 * person-fcn 2.2.0 (none as synthesized; eval, robustness `low-energy-x1.15`).
 *
 * The reference is a statistic the training scanner keeps nearly fixed whatever the load: the 5th
 * percentile of the ratio over the pixels whose high-energy attenuation lies between 1 and 4 (the
 * vehicle's steel sets it). On the 1,300 validation-range scans (the validation and threshold sets)
 * it lies between 0.982 and 1.118 (median 1.018-1.019; the highest are tankers full of liquid). A
 * file pair outside DUAL_ENERGY_BAND has its low-energy attenuation scaled so that
 * the statistic reads DUAL_ENERGY_REFERENCE; inside it, nothing changes.
 *
 * 'auto' (the default) does that; 'none' reads the pair as it is; a number is the factor the
 * low-energy attenuation is multiplied by, named by the site (from `analyze`'s estimates).
 */
export type LowEnergyScaleOption = 'auto' | 'none' | number;

export const DEFAULT_LOW_ENERGY_SCALE: LowEnergyScaleOption = 'auto';

/** Median of the statistic on the training scanner's validation-range scans. */
export const DUAL_ENERGY_REFERENCE = 1.019;
/** The statistic's range taken as the training scanner's (its 1,300 validation-range scans: 0.982-1.118). */
export const DUAL_ENERGY_BAND: readonly [number, number] = [0.97, 1.13];
/** Named factors accepted. */
export const LOW_ENERGY_SCALE_RANGE: readonly [number, number] = [0.5, 2];
/** High-energy attenuation range of the pixels read, and the percentile taken. */
const ATTENUATION: readonly [number, number] = [1, 4];
const PERCENTILE = 0.05;
/** Fewer pixels read (every third) in that range than this: no estimate (a nearly empty scan says nothing of its scanner). */
export const DUAL_ENERGY_MIN_PIXELS = 2000;

export interface DualEnergyEstimate {
  /** The 5th percentile of low/high attenuation over the pixels read. */
  ratio: number;
  pixels: number;
}

/** Pixels a streamed lane visits per scan at most (a few ms on the event loop whatever the scan's size). */
export const STREAM_MAX_VISITS = 250_000;
const PRIME_STEPS = [
  3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113,
  127, 131,
];

/**
 * The statistic for a pair of intensity planes (65535 = open beam), or undefined with too few pixels to read.
 * Every third pixel is visited, or, with `maxVisits`, every k-th for the smallest prime k >= 3 that visits at
 * most that many (a prime step does not fall into step with the rows).
 */
export function estimateDualEnergyRatio(
  high: Uint16Array,
  low: Uint16Array,
  maxVisits = Number.POSITIVE_INFINITY,
): DualEnergyEstimate | undefined {
  if (low.length !== high.length)
    throw new RangeError(`dual-energy pair of ${high.length} and ${low.length} pixels; the planes must match`);
  // Ratios in 1/4096 steps between 0 and 4 (a histogram: no sort of millions of values); attenuations
  // from a table of the 65,536 intensities.
  const bins = new Uint32Array(4 * 4096 + 1);
  const att = attenuationTable();
  let n = 0;
  // Every third pixel: the percentile of millions of ratios moves by less than 0.001 with a third of them.
  const step = PRIME_STEPS.find((k) => high.length / k <= maxVisits) ?? PRIME_STEPS[PRIME_STEPS.length - 1];
  for (let i = 0; i < high.length; i += step) {
    const h = high[i];
    if (h === 0) continue;
    const ah = att[h];
    if (ah <= ATTENUATION[0] || ah >= ATTENUATION[1]) continue;
    const r = att[low[i]] / ah;
    bins[Math.min(bins.length - 1, Math.max(0, Math.round(r * 4096)))]++;
    n++;
  }
  if (n < DUAL_ENERGY_MIN_PIXELS) return undefined;
  const want = Math.ceil(PERCENTILE * n);
  let cum = 0;
  for (let b = 0; b < bins.length; b++) {
    cum += bins[b];
    if (cum >= want) return { ratio: b / 4096, pixels: n };
  }
  return { ratio: (bins.length - 1) / 4096, pixels: n };
}

export interface LowEnergyScaleResult {
  /** The low-energy plane (the input itself when nothing changed). */
  low: Uint16Array;
  /** The factor applied to the low-energy attenuation (1: none). */
  scale: number;
  estimate?: DualEnergyEstimate;
  /** What was done, for the user, when the pair was changed or could not be checked. */
  note?: string;
}

/**
 * Checks a dual-energy pair against the training scanner's ratio and rescales its low energy as `option`
 * says. 'auto' checks 16-bit pairs only: the ratio of a pair decoded from 8-bit files (`eightBit`) is
 * already the work of an estimated export chain, and only a named factor applies to it.
 */
export function normaliseLowEnergy(
  high: Uint16Array,
  low: Uint16Array,
  option: LowEnergyScaleOption = DEFAULT_LOW_ENERGY_SCALE,
  eightBit = false,
): LowEnergyScaleResult {
  if (option === 'none' || (option === 'auto' && eightBit)) return { low, scale: 1 };
  if (typeof option === 'number') {
    checkNamedScale(option);
    if (option === 1) return { low, scale: 1 };
    return {
      low: scaleAttenuation(low, option),
      scale: option,
      note: `low-energy attenuation multiplied by ${option} (named)`,
    };
  }
  const estimate = estimateDualEnergyRatio(high, low);
  if (!estimate) return { low, scale: 1 };
  const [lo, hi] = DUAL_ENERGY_BAND;
  if (estimate.ratio >= lo && estimate.ratio <= hi) return { low, scale: 1, estimate };
  const scale = DUAL_ENERGY_REFERENCE / estimate.ratio;
  if (!inScaleRange(scale))
    return {
      low,
      scale: 1,
      estimate,
      note: `low/high attenuation ratio of the vehicle's steel reads ${estimate.ratio.toFixed(3)} (the training scanner: ${lo}-${hi}); too far to be another energy pair (not the low energy of this scan?): read as it is`,
    };
  return {
    low: scaleAttenuation(low, scale),
    scale,
    estimate,
    note: `low/high attenuation ratio of the vehicle's steel reads ${estimate.ratio.toFixed(3)}, outside the training scanner's ${lo}-${hi} (another energy pair?): low-energy attenuation multiplied by ${scale.toFixed(3)}; name the factor (analyze --low-scale; scanner.fileDrop.lowEnergyScale, or scanner.lowEnergyScale for a line stream: the median of this factor over many of the scanner's scans) once it is known, or 'none' to read the pair as it is`,
  };
}

/** Whether `k` is a factor another energy pair can need (LOW_ENERGY_SCALE_RANGE); beyond it, the pair is not read as one. */
function inScaleRange(k: number): boolean {
  return k >= LOW_ENERGY_SCALE_RANGE[0] && k <= LOW_ENERGY_SCALE_RANGE[1];
}

/** A factor named by the site, refused outside LOW_ENERGY_SCALE_RANGE. */
function checkNamedScale(k: number): number {
  if (!inScaleRange(k))
    throw new RangeError(
      `low-energy scale must lie in ${LOW_ENERGY_SCALE_RANGE[0]}..${LOW_ENERGY_SCALE_RANGE[1]}, got ${k}`,
    );
  return k;
}

/** Intensities with every attenuation -ln(I / 65535) multiplied by `k` (a zero reading stays 0). */
export function scaleAttenuation(p: Uint16Array, k: number): Uint16Array {
  const lut = attenuationScaleLut(k);
  const out = new Uint16Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = lut[p[i]];
  return out;
}

/** The table of scaleAttenuation: intensity -> intensity with its attenuation multiplied by `k`. */
export function attenuationScaleLut(k: number): Uint16Array {
  const lut = new Uint16Array(65536);
  for (let v = 1; v < 65536; v++) lut[v] = Math.min(OPEN_BEAM, Math.round(OPEN_BEAM * (v / OPEN_BEAM) ** k));
  return lut;
}

/** Scans whose statistic a streamed lane keeps, and how many it needs before it changes anything. */
export const STREAM_WINDOW_SCANS = 25;
export const STREAM_MIN_SCANS = 5;
/** Once a factor applies (or a lane is said to be outside), the median must come this far inside the band to end it (no flapping at an edge). */
const STREAM_HYSTERESIS = 0.01;
/** A new factor replaces the one in use only when they differ by more than this share. */
const STREAM_STEP = 0.01;

export interface StreamedLowEnergyState {
  /** The factor applied to the low-energy attenuation of the next scans (1: none). */
  scale: number;
  /** Median of the statistic, as the scanner sends it, over the last scans read (undefined: none yet). */
  ratio?: number;
  /** Scans the median is over. */
  scans: number;
  /**
   * Whether detection reads this scanner's materials unlike the training scanner's: a median outside the
   * band that is not corrected ('none', or too far off to be an energy pair), or a named factor that leaves
   * it outside. A factor chosen by 'auto' is a correction, not a degradation.
   */
  degraded: boolean;
  /**
   * What the lane does, for the scanner's status; it changes only when the factor or the state does
   * (the median itself is in `ratio`). Undefined while there is nothing to say.
   */
  note?: string;
}

/** What a lane keeps across a restart: the statistics of its last scans (as sent, oldest first) and what it had decided. */
export interface StreamedLowEnergyMemory {
  ratios: readonly number[];
  /** The factor in use ('auto'). */
  scale?: number;
  /** Whether the median was said to be outside the band ('none', a named factor). */
  outside?: boolean;
}

export interface StreamedLowEnergyOptions {
  /** What an earlier run kept (StreamedLowEnergyMemory); values that cannot be a statistic are skipped. */
  restore?: StreamedLowEnergyMemory;
  /** Called with what to keep after each scan read (to restore it after a restart). */
  onRead?: (memory: StreamedLowEnergyMemory) => void;
}

/**
 * The low-energy scale of a lane fed line by line. A streamed scan is analysed while it arrives,
 * so its own statistic (which needs the whole scan) comes too late to correct it; a scanner's energy
 * pair stays the same from one vehicle to the next, so the lane reads the statistic of every
 * completed scan and corrects the scans that follow.
 *
 * 'auto': once STREAM_MIN_SCANS scans are read, a median of the last STREAM_WINDOW_SCANS outside
 * DUAL_ENERGY_BAND sets the factor DUAL_ENERGY_REFERENCE / median for the next scans (with
 * hysteresis at the band's edges); 'none' never corrects but still reads, so that a scanner outside
 * the band is said; a number is the site's factor, applied from the first line, and said when the
 * scans it corrects still read outside the band.
 */
export class StreamedLowEnergyScale {
  readonly #option: LowEnergyScaleOption;
  readonly #onRead: ((memory: StreamedLowEnergyMemory) => void) | undefined;
  readonly #ratios: number[] = [];
  #scale = 1;
  #lut: Uint16Array | null = null;
  #tooFar = false;
  /** 'none' or a named factor: whether the (corrected) median is said to be outside the band. */
  #outside = false;

  constructor(option: LowEnergyScaleOption = DEFAULT_LOW_ENERGY_SCALE, o: StreamedLowEnergyOptions = {}) {
    if (typeof option === 'number') this.#setScale(checkNamedScale(option));
    this.#option = option;
    this.#onRead = o.onRead;
    const kept = o.restore;
    if (kept) {
      // A statistic is a ratio read (0-4) divided by a factor (0.5-2).
      for (const r of kept.ratios) if (Number.isFinite(r) && r >= 0 && r <= 8) this.#ratios.push(r);
      this.#ratios.splice(0, Math.max(0, this.#ratios.length - STREAM_WINDOW_SCANS));
      const k = kept.scale;
      if (option === 'auto' && typeof k === 'number' && inScaleRange(k)) this.#setScale(k);
      if (option !== 'auto') this.#outside = kept.outside === true;
      this.#decide();
    }
  }

  /** What to keep across a restart. */
  get memory(): StreamedLowEnergyMemory {
    return {
      ratios: [...this.#ratios],
      ...(this.#option === 'auto' ? { scale: this.#scale } : { outside: this.#outside }),
    };
  }

  /** The table the next scan's low-energy samples go through, or null when they are taken as they are. */
  get lut(): Uint16Array | null {
    return this.#lut;
  }

  get state(): StreamedLowEnergyState {
    const ratio = this.#median();
    const [lo, hi] = DUAL_ENERGY_BAND;
    const base = {
      scale: this.#scale,
      ...(ratio !== undefined ? { ratio: Math.round(ratio * 1e4) / 1e4 } : {}),
      scans: this.#ratios.length,
    };
    const band = `the training scanner's ${lo}-${hi}`;
    if (typeof this.#option === 'number')
      return this.#outside
        ? {
            ...base,
            degraded: true,
            note: `low-energy attenuation multiplied by ${this.#option} (scanner.lowEnergyScale), but the scans it corrects still read a low/high ratio outside ${band} (lowEnergyRatio x lowEnergyScale): check the factor, or set 'auto'`,
          }
        : this.#option === 1
          ? { ...base, degraded: false }
          : {
              ...base,
              degraded: false,
              note: `low-energy attenuation multiplied by ${this.#option} (scanner.lowEnergyScale)`,
            };
    if (this.#option === 'auto') {
      if (this.#tooFar)
        return {
          ...base,
          degraded: true,
          note: `the low/high attenuation ratio of the vehicles' steel (lowEnergyRatio) is too far from ${band} to be another energy pair (is the low energy sent as low?): scans are read as they are`,
        };
      if (this.#scale !== 1)
        return {
          ...base,
          degraded: false,
          note: `low-energy attenuation multiplied by ${this.#scale.toFixed(3)} (scanner.lowEnergyScale 'auto': the low/high ratio of the vehicles' steel, lowEnergyRatio, lies at or beyond the edge of ${band}); name the factor in scanner.lowEnergyScale once it is confirmed`,
        };
      return { ...base, degraded: false };
    }
    if (!this.#outside) return { ...base, degraded: false };
    return {
      ...base,
      degraded: true,
      note: this.#tooFar
        ? `the low/high attenuation ratio of the vehicles' steel (lowEnergyRatio) is too far from ${band} to be another energy pair (is the low energy sent as low?), and scanner.lowEnergyScale is 'none': scans are read as they are`
        : `the low/high attenuation ratio of the vehicles' steel (lowEnergyRatio) lies outside ${band} (another energy pair?), and scanner.lowEnergyScale is 'none': scans are read as they are and may alarm on ordinary loads; set 'auto', or name the factor ${DUAL_ENERGY_REFERENCE} / lowEnergyRatio`,
    };
  }

  /**
   * Reads a completed scan (its planes as the lane received them, i.e. with the current factor
   * applied) and updates the factor for the scans that follow. Returns true when the factor or the
   * state changed.
   */
  observe(high: Uint16Array, low: Uint16Array): boolean {
    const e = estimateDualEnergyRatio(high, low, STREAM_MAX_VISITS);
    if (!e) return false;
    this.#ratios.push(e.ratio / this.#scale);
    if (this.#ratios.length > STREAM_WINDOW_SCANS) this.#ratios.shift();
    const changed = this.#decide();
    this.#onRead?.(this.memory);
    return changed;
  }

  /** Sets the factor and the state from the statistics kept; true when either changed. */
  #decide(): boolean {
    if (this.#ratios.length < STREAM_MIN_SCANS) return false;
    const m = this.#median()!;
    const [lo, hi] = DUAL_ENERGY_BAND;
    const before = { scale: this.#scale, tooFar: this.#tooFar, outside: this.#outside };
    if (this.#option === 'auto') {
      const margin = this.#scale !== 1 ? STREAM_HYSTERESIS : 0;
      let want = m < lo + margin || m > hi - margin ? DUAL_ENERGY_REFERENCE / m : 1;
      this.#tooFar = !inScaleRange(want);
      if (this.#tooFar) want = 1;
      const small = want !== 1 && this.#scale !== 1 && Math.abs(want / this.#scale - 1) <= STREAM_STEP;
      if (want !== this.#scale && !small) this.#setScale(want);
    } else {
      // 'none' reads as sent; a named factor is checked on the scans it corrects.
      const read = m * this.#scale;
      const margin = this.#outside ? STREAM_HYSTERESIS : 0;
      this.#outside = read < lo + margin || read > hi - margin;
      this.#tooFar = this.#outside && !inScaleRange(DUAL_ENERGY_REFERENCE / read);
    }
    return before.scale !== this.#scale || before.tooFar !== this.#tooFar || before.outside !== this.#outside;
  }

  #setScale(k: number): void {
    this.#scale = k;
    this.#lut = k === 1 ? null : attenuationScaleLut(k);
  }

  #median(): number | undefined {
    if (!this.#ratios.length) return undefined;
    const s = [...this.#ratios].sort((a, b) => a - b);
    const h = s.length >> 1;
    return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
  }
}

let attTable: Float32Array | undefined;
/** core/scan-picture.ts's attenuation of every intensity, made once. */
function attenuationTable(): Float32Array {
  attTable ??= attenuationLut();
  return attTable;
}
