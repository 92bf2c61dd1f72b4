import type { ScanImage } from '../core/domain.js';
import { Rng } from '../sim/xray/prng.js';

/**
 * Robustness variants of a clean synthetic scan, applied to the same scene so that each variant
 * is compared with the clean result of the same vehicles. Deterministic per seed.
 */
export type VariantName = 'extra-noise' | 'dead-channels' | 'missing-lines' | '8-bit' | 'high-energy-only';
export const VARIANTS: readonly VariantName[] = ['extra-noise', 'dead-channels', 'missing-lines', '8-bit', 'high-energy-only'];

export const VARIANT_DESCRIPTIONS: Record<VariantName, string> = {
  'extra-noise': 'photon noise of a quarter of the dose (Gaussian noise of three times the Poisson variance added to both energies)',
  'dead-channels': '8 more dead detector channels (rows read 0), at random rows',
  'missing-lines': '40 lines lost in bursts of 2 to 8, filled by linear interpolation as the lane assembler does',
  '8-bit': 'both energies quantised to 8 bits and rescaled (v x 257), as fielded scanners export',
  'high-energy-only': 'the low-energy image dropped',
};

const STREAM = 0x5eed;

export function applyVariant(scan: ScanImage, name: VariantName, seed: number, photonsHigh: number): ScanImage {
  const rng = new Rng(seed, STREAM + VARIANTS.indexOf(name));
  const planes = (f: (p: Uint16Array, low: boolean) => Uint16Array) => ({ high: f(scan.high, false), ...(scan.low ? { low: f(scan.low, true) } : {}) });
  switch (name) {
    case 'extra-noise':
      return {
        ...scan,
        ...planes((p, low) => {
          const n0 = low ? photonsHigh * 0.6 : photonsHigh;
          const out = new Uint16Array(p.length);
          for (let i = 0; i < p.length; i++) {
            const v = p[i];
            // Poisson variance of v in intensity units is v * 65535 / n0; add three times that.
            const sd = Math.sqrt((3 * v * 65535) / n0);
            out[i] = clamp16(Math.round(v + sd * rng.normal()));
          }
          return out;
        }),
      };
    case 'dead-channels': {
      const rows = new Set<number>();
      while (rows.size < Math.min(8, scan.height)) rows.add(rng.int(0, scan.height - 1));
      return {
        ...scan,
        ...planes((p) => {
          const out = p.slice();
          for (const r of rows) out.fill(0, r * scan.width, (r + 1) * scan.width);
          return out;
        }),
      };
    }
    case 'missing-lines': {
      const missing = scan.missing ? scan.missing.slice() : new Uint8Array(scan.width);
      let lost = 0;
      while (lost < Math.min(40, scan.width - 2)) {
        const len = rng.int(2, 8);
        const at = rng.int(1, Math.max(1, scan.width - len - 1));
        for (let x = at; x < at + len && x < scan.width - 1; x++) {
        if (!missing[x]) {
          missing[x] = 1;
          lost++;
        }
      }
      }
      return { ...scan, missing, ...planes((p) => interpolateMissing(p, scan.width, scan.height, missing)) };
    }
    case '8-bit':
      return { ...scan, ...planes((p) => p.map((v) => Math.round(v / 257) * 257)) };
    case 'high-energy-only': {
      const { low: _low, ...rest } = scan;
      return rest;
    }
  }
}

function clamp16(v: number): number {
  return v < 0 ? 0 : v > 65535 ? 65535 : v;
}

/** Fills missing lines by linear interpolation between the nearest present lines. */
function interpolateMissing(p: Uint16Array, width: number, height: number, missing: Uint8Array): Uint16Array {
  const out = p.slice();
  for (let x = 0; x < width; x++) {
    if (!missing[x]) continue;
    let a = x - 1;
    while (a >= 0 && missing[a]) a--;
    let b = x + 1;
    while (b < width && missing[b]) b++;
    for (let r = 0; r < height; r++) {
      const va = a >= 0 ? p[r * width + a] : p[r * width + b];
      const vb = b < width ? p[r * width + b] : va;
      const t = a >= 0 && b < width ? (x - a) / (b - a) : 0;
      out[r * width + x] = Math.round(va + (vb - va) * t);
    }
  }
  return out;
}
