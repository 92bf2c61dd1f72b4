/**
 * Seeded pseudo-random numbers for the X-ray synthesizer. Everything random in a scan comes from
 * here (never Math.random), so the same seed gives the same scan bit for bit on every machine.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state), seeded
 * through splitmix32 from (seed, stream) so that independent streams (scene, noise) of one scan do
 * not influence each other: changing a noise option leaves the scene unchanged.
 */

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Size of the inverse-normal lookup table used by Rng.normal (power of two). */
const NORMAL_TABLE_BITS = 12;
const NORMAL_TABLE_SIZE = 1 << NORMAL_TABLE_BITS;

/** Acklam's rational approximation of the inverse standard normal CDF (relative error < 1.2e-9). */
function inverseNormalCdf(p: number): number {
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const plow = 0.02425;
  if (p < plow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - plow) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return (
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/**
 * Table of standard normal quantiles at the midpoints of NORMAL_TABLE_SIZE equal-probability bins,
 * one extra entry for interpolation, rescaled so that the distribution it yields (uniform position
 * inside a bin, linear interpolation) has unit variance exactly. Per-pixel photon noise needs
 * millions of normal deviates per scan; a table lookup is ~10x faster than Box-Muller.
 */
const NORMAL_TABLE: Float64Array = (() => {
  const t = new Float64Array(NORMAL_TABLE_SIZE + 1);
  for (let i = 0; i <= NORMAL_TABLE_SIZE; i++) {
    const p = Math.min(Math.max(i / NORMAL_TABLE_SIZE, 0.5 / NORMAL_TABLE_SIZE / 8), 1 - 0.5 / NORMAL_TABLE_SIZE / 8);
    t[i] = inverseNormalCdf(p);
  }
  // Variance of a piecewise-linear variate between t[i] and t[i+1] with uniform weight:
  // E[x^2] over the bin = (a^2 + ab + b^2) / 3.
  let m2 = 0;
  for (let i = 0; i < NORMAL_TABLE_SIZE; i++) m2 += (t[i] * t[i] + t[i] * t[i + 1] + t[i + 1] * t[i + 1]) / 3;
  const scale = 1 / Math.sqrt(m2 / NORMAL_TABLE_SIZE);
  for (let i = 0; i <= NORMAL_TABLE_SIZE; i++) t[i] *= scale;
  return t;
})();

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** seed: any integer (taken modulo 2^32 with its high bits folded in); stream: which sub-stream. */
  constructor(seed: number, stream = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    const sm = splitmix32(lo ^ Math.imul(hi, 0x27d4eb2d) ^ Math.imul(stream + 1, 0x165667b1));
    this.#a = sm();
    this.#b = sm();
    this.#c = sm();
    this.#d = sm();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform integer in [0, 2^32). */
  u32(): number {
    const a = this.#a,
      b = this.#b,
      c = this.#c,
      d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.#c = (r + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: empty list');
    return items[Math.floor(this.next() * items.length)];
  }

  /** Picks a key with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += weights[k];
    let r = this.next() * total;
    for (const k of keys) {
      r -= weights[k];
      if (r < 0) return k;
    }
    return keys[keys.length - 1];
  }

  /** Standard normal deviate (table-based inverse CDF, unit variance, tails truncated near 4.4 sigma). */
  normal(): number {
    const u = this.u32();
    const i = u >>> (32 - NORMAL_TABLE_BITS);
    const f = (u & ((1 << (32 - NORMAL_TABLE_BITS)) - 1)) / (1 << (32 - NORMAL_TABLE_BITS));
    const a = NORMAL_TABLE[i];
    return a + (NORMAL_TABLE[i + 1] - a) * f;
  }

  /** Fills `out` with standard normal deviates (the same sequence as calling normal() out.length times). */
  fillNormal(out: Float32Array | Float64Array): void {
    let a = this.#a,
      b = this.#b,
      c = this.#c,
      d = this.#d;
    const T = NORMAL_TABLE;
    const shift = 32 - NORMAL_TABLE_BITS;
    const fracMask = (1 << shift) - 1;
    const fracScale = 1 / (1 << shift);
    for (let k = 0; k < out.length; k++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + t) | 0;
      const u = t >>> 0;
      const i = u >>> shift;
      const lo = T[i];
      out[k] = lo + (T[i + 1] - lo) * (u & fracMask) * fracScale;
    }
    this.#a = a;
    this.#b = b;
    this.#c = c;
    this.#d = d;
  }

  /** Normal deviate with the given mean and standard deviation. */
  gauss(mean: number, sd: number): number {
    return mean + sd * this.normal();
  }

  /**
   * Poisson deviate with mean lambda: exact (inversion by sequential search) below 30, normal
   * approximation with continuity (rounded) above, where its error is far below the detector's.
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda >= 30) {
      const k = Math.round(lambda + Math.sqrt(lambda) * this.normal());
      return k < 0 ? 0 : k;
    }
    let p = Math.exp(-lambda);
    let cdf = p;
    const u = this.next();
    let k = 0;
    while (u > cdf && k < 200) {
      k++;
      p *= lambda / k;
      cdf += p;
    }
    return k;
  }
}
