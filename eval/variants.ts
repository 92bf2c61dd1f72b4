import type { ScanImage } from '../core/domain.js';
import sharp from 'sharp';
import {
  type ExportChain,
  type ExportOption,
  decodeExport,
  decodeExportWith,
  encodeExport,
} from '../core/export-chain.js';
import { normaliseLowEnergy, scaleAttenuation } from '../core/dual-energy-scale.js';
import { normaliseOpenBeam } from '../core/open-beam.js';
import { resampleLines } from '../sim/scanner/scan-source.js';
import { Rng } from '../sim/xray/prng.js';

/**
 * Robustness variants of a clean synthetic scan, applied to the same scene so that each variant
 * is compared with the clean result of the same vehicles. Deterministic per seed.
 */
export type VariantName =
  | 'extra-noise'
  | 'dead-channels'
  | 'missing-lines'
  | '8-bit'
  | 'high-energy-only'
  | 'open-beam-60'
  | 'attenuation-x1.3'
  | 'attenuation-x0.8'
  | 'low-energy-x1.15'
  | 'low-energy-x0.9'
  | 'lines-2x-apart'
  | 'lines-2x-apart-square';
export const VARIANTS: readonly VariantName[] = [
  'extra-noise',
  'dead-channels',
  'missing-lines',
  '8-bit',
  'high-energy-only',
  'open-beam-60',
  'attenuation-x1.3',
  'attenuation-x0.8',
  'low-energy-x1.15',
  'low-energy-x0.9',
  'lines-2x-apart',
  'lines-2x-apart-square',
];

export const VARIANT_DESCRIPTIONS: Record<VariantName, string> = {
  'extra-noise':
    'photon noise of a quarter of the dose (Gaussian noise of three times the Poisson variance added to both energies)',
  'dead-channels': '8 more dead detector channels (rows read 0), at random rows',
  'missing-lines': '40 lines lost in bursts of 2 to 8, filled by linear interpolation as the lane assembler does',
  '8-bit': 'both energies quantised to 8 bits and rescaled (v x 257), as fielded scanners export',
  'high-energy-only': 'the low-energy image dropped',
  'open-beam-60':
    "both energies scaled by 0.6, as a 16-bit file whose open beam reads 39,321 instead of 65,535 (a scanner or generator that keeps headroom above the air level), its air not clipped but noisy (1 %), read as the runtime reads such a file ('auto': the air plateau at the border rescaled to 65,535; core/open-beam.ts)",
  'attenuation-x1.3':
    'every attenuation multiplied by 1.3 in both energies (T -> T^1.3): a scanner of lower effective energy, or a generator with other attenuation tables (uniform across materials, a first-order model)',
  'attenuation-x0.8':
    'every attenuation multiplied by 0.8 in both energies (T -> T^0.8): a scanner of higher effective energy',
  'low-energy-x1.15':
    "the low-energy attenuation alone multiplied by 1.15 (a lower low energy: every material's low/high ratio 15 % higher, water 1.41 instead of 1.23), read as the runtime reads such a pair ('auto': the ratio of the vehicle's steel brought back into the training scanner's range; core/dual-energy-scale.ts)",
  'low-energy-x0.9':
    "the low-energy attenuation alone multiplied by 0.9 (a higher low energy: every ratio 10 % lower, water 1.11, steel 0.96), read as the runtime reads such a pair ('auto')",
  'lines-2x-apart':
    'lines twice as far apart as the channels (a scanner with a fixed line rate, the vehicle twice as fast: line pairs averaged), the line pitch named as a lane with scanner.lineMm names it',
  'lines-2x-apart-square':
    'the same scans read as square pixels (scanner.lineMm left at pixel): every vehicle half as long as it is (docs/inference.md, "Line pitch")',
};

const STREAM = 0x5eed;

export function applyVariant(scan: ScanImage, name: VariantName, seed: number, photonsHigh: number): ScanImage {
  const rng = new Rng(seed, STREAM + VARIANTS.indexOf(name));
  const planes = (f: (p: Uint16Array, low: boolean) => Uint16Array) => ({
    high: f(scan.high, false),
    ...(scan.low ? { low: f(scan.low, true) } : {}),
  });
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
    case 'high-energy-only':
      return highEnergyOnly(scan);
    case 'open-beam-60':
      // Written as a 16-bit file would be (air unclipped, with 1 % noise, at 60 % of full scale), then read
      // as the runtime reads one (core/open-beam.ts, 'auto').
      return {
        ...scan,
        ...planes((p) => {
          const written = new Uint16Array(p.length);
          for (let i = 0; i < p.length; i++)
            written[i] =
              p[i] === 65535 ? clamp16(Math.round(39321 * (1 + 0.01 * rng.normal()))) : Math.round(p[i] * 0.6);
          return normaliseOpenBeam(written, scan.width, scan.height).pixels;
        }),
      };
    case 'attenuation-x1.3':
      return { ...scan, ...planes((p) => scaleAttenuation(p, 1.3)) };
    case 'attenuation-x0.8':
      return { ...scan, ...planes((p) => scaleAttenuation(p, 0.8)) };
    case 'lines-2x-apart':
      return withLinesApart(scan, 2, true);
    case 'lines-2x-apart-square':
      return withLinesApart(scan, 2, false);
    case 'low-energy-x1.15':
    case 'low-energy-x0.9': {
      // Written as a file pair would be, then read as the runtime reads one (core/dual-energy-scale.ts, 'auto').
      if (!scan.low) return scan;
      const written = scaleAttenuation(scan.low, name === 'low-energy-x1.15' ? 1.15 : 0.9);
      return { ...scan, low: normaliseLowEnergy(scan.high, written).low };
    }
  }
}

/** The scan as a single-energy scanner gives it: the low-energy image dropped. */
export function highEnergyOnly(scan: ScanImage): ScanImage {
  const { low: _low, ...rest } = scan;
  return rest;
}

/** The people's boxes in a variant's pixels: where its lines were resampled, at their new columns. */
export function boxesIn<B extends { x: number; w: number }>(
  boxes: readonly B[],
  clean: ScanImage,
  variant: ScanImage,
): B[] {
  const sx = variant.width / clean.width;
  return sx === 1 ? [...boxes] : boxes.map((b) => ({ ...b, x: b.x * sx, w: b.w * sx }));
}

/**
 * The scan as a scanner with a fixed line rate would have written it had the vehicle passed `factor`
 * times as fast (sim/scanner resampleLines). With `named`, the image says its line pitch (lineMm), as
 * a lane with scanner.lineMm does; without, it is read as square pixels.
 */
export function withLinesApart(scan: ScanImage, factor: number, named: boolean): ScanImage {
  const { lineMm, missing: _missing, ...rest } = resampleLines(scan, factor);
  return named ? { ...rest, lineMm } : rest;
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

/**
 * 8-bit export robustness: each energy exported through a fielded scanner's display chain, saved
 * as a real JPEG (sharp/libjpeg) at a quality, read back, and decoded the way the runtime decodes
 * an 8-bit pair whose chain nobody named ('auto': the chain estimated from the high-energy file
 * decodes both; core/export-chain.ts).
 */
export interface ExportVariant {
  name: string;
  chain: ExportChain;
  /** JPEG quality; 0 = lossless 8-bit PNG. */
  quality: number;
  /** Whether training saw chains of this kind (inverted chains are held out). */
  heldOut: boolean;
}

export const EXPORT_VARIANTS: readonly ExportVariant[] = [
  { name: 'export linear, PNG', chain: { scaling: 'linear' }, quality: 0, heldOut: false },
  { name: 'export linear gamma 0.5, JPEG 90', chain: { scaling: 'linear', gamma: 0.5 }, quality: 90, heldOut: false },
  { name: 'export log 8, JPEG 75', chain: { scaling: 'log', logMax: 8 }, quality: 75, heldOut: false },
  {
    name: 'export log 10 window 0.1-0.95 gamma 1.8, JPEG 50',
    chain: { scaling: 'log', logMax: 10, window: [0.1, 0.95], gamma: 1.8 },
    quality: 50,
    heldOut: false,
  },
  {
    name: 'export linear inverted gamma 0.7, JPEG 80 (held out)',
    chain: { scaling: 'linear', gamma: 0.7, invert: true },
    quality: 80,
    heldOut: true,
  },
];

export function exportDescription(v: ExportVariant): string {
  const c = v.chain;
  const parts = [c.scaling === 'log' ? `log scaling (black at attenuation ${c.logMax ?? 8})` : 'linear scaling'];
  if (c.window) parts.push(`window ${c.window[0]}–${c.window[1]}`);
  if (c.gamma !== undefined && c.gamma !== 1) parts.push(`gamma ${c.gamma}`);
  if (c.invert) parts.push('inverted (dense bright)');
  parts.push(v.quality ? `8-bit JPEG quality ${v.quality}` : '8-bit PNG');
  return `${parts.join(', ')}; decoded by the chain estimated from the image (chain not named)${v.heldOut ? '; a chain kind never seen in training' : ''}`;
}

/** The 8-bit grey planes a fielded scanner would write for a scan (after the JPEG round trip, if any). */
export async function exportGrey(scan: ScanImage, v: ExportVariant): Promise<{ high: Uint8Array; low?: Uint8Array }> {
  const plane = async (p: Uint16Array) => {
    const grey = encodeExport(p, v.chain);
    if (v.quality <= 0) return grey;
    const jpg = await sharp(Buffer.from(grey.buffer, grey.byteOffset, grey.byteLength), {
      raw: { width: scan.width, height: scan.height, channels: 1 },
    })
      .jpeg({ quality: v.quality })
      .toBuffer();
    const { data } = await sharp(jpg).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    return new Uint8Array(data.buffer, data.byteOffset, scan.width * scan.height).slice();
  };
  return { high: await plane(scan.high), ...(scan.low ? { low: await plane(scan.low) } : {}) };
}

/** A scan exported through a variant's chain and decoded as the runtime decodes a pair whose chain nobody named. */
export async function applyExport(
  scan: ScanImage,
  v: ExportVariant,
  decode: ExportOption = 'auto',
): Promise<ScanImage> {
  const g = await exportGrey(scan, v);
  const high = decodeExportWith(g.high, scan.width, scan.height, decode);
  // The runtime decodes the low-energy file with the high-energy file's estimate (inference/scan-file.ts
  // readScan; its dual-energy ratio check reads 16-bit pairs only).
  const low = g.low ? decodeExport(g.low, scan.width, scan.height, high.estimate ?? decode) : undefined;
  return { ...scan, high: high.intensity, ...(low ? { low } : {}) };
}
