import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { decodeScanImage } from '../../core/scan-image-file.js';
import { attenuationScaleLut } from '../../core/dual-energy-scale.js';
import type { ScanImage } from '../../core/domain.js';

/** One vehicle's scan as the simulator sends it: row-major like ScanImage (rows = channels, columns = lines). */
export interface SimScan {
  width: number;
  height: number;
  /** Pitch of the detector channels, mm at the vehicle; of the lines too unless lineMm says otherwise. */
  pixelMm: number;
  /** Pitch of the lines where it differs (a scanner with a fixed line rate: withLinePitch). */
  lineMm?: number;
  high: Uint16Array;
  low?: Uint16Array;
  plate?: string;
  /** Ground truth where the source knows it. */
  label?: 'person' | 'clear';
  /** People in the vehicle and how dense its cargo is, where the source knows (the CO2 and heartbeat simulators use them). */
  people?: number;
  cargoDensity?: string;
  vehicleClass?: string;
  /** Where it came from, for reports: "synth seed 12", "images/truck1.png". */
  origin: string;
}

/** Gives the simulator its next scan. */
export interface ScanSource {
  readonly describe: string;
  next(index: number): Promise<SimScan>;
  close(): Promise<void>;
}

/** Scans given in memory (tests, the file-drop writer's own images). */
export function arraySource(scans: SimScan[]): ScanSource {
  if (scans.length === 0) throw new Error('arraySource: no scans given');
  return {
    describe: `${scans.length} scan(s) in memory`,
    next: async (i) => scans[i % scans.length],
    close: async () => {},
  };
}

const IMAGE_EXT = new Set(['.png', '.tif', '.tiff', '.jpg', '.jpeg']);

/**
 * Scans from image files in a folder (16-bit grey PNG/TIFF, or 8-bit JPEG rescaled): rows =
 * channels, columns = lines. `<name>.low.<ext>` next to `<name>.<ext>` is its low-energy image.
 * Files are used in name order, round and round.
 */
export async function imageDirSource(dir: string, pixelMm = 5): Promise<ScanSource> {
  const names = (await readdir(dir))
    .filter((n) => IMAGE_EXT.has(extname(n).toLowerCase()) && !/\.low\.[^.]+$/i.test(n))
    .sort();
  if (names.length === 0)
    throw new Error(
      `no scan images (.png, .tif, .jpg) in ${dir}: put 16-bit grey PNG/TIFF scans there (rows = channels, columns = lines)`,
    );
  const all = new Set(await readdir(dir));
  return {
    describe: `${names.length} image(s) from ${dir}`,
    async next(i) {
      const name = names[i % names.length];
      const high = await decodeScanImage(join(dir, name));
      const lowName = name.replace(/\.([^.]+)$/, '.low.$1');
      const scan: SimScan = {
        width: high.width,
        height: high.height,
        pixelMm,
        high: high.pixels,
        origin: join(dir, name),
      };
      if (all.has(lowName)) {
        const low = await decodeScanImage(join(dir, lowName));
        if (low.width !== high.width || low.height !== high.height)
          throw new Error(
            `${join(dir, lowName)} is ${low.width}x${low.height}, but ${name} is ${high.width}x${high.height}: both energies must have the same size`,
          );
        scan.low = low.pixels;
      }
      return scan;
    },
    close: async () => {},
  };
}

export interface SynthSourceOptions {
  /** Seed of the first scan; scan i uses seed + i. */
  seed: number;
  /** Share of vehicles carrying people (0-1). */
  personShare: number;
  dual?: boolean;
  pixelMm?: number;
  channels?: number;
}

/**
 * Scans from the X-ray synthesizer (sim/xray), computed in a worker thread one scan ahead, so
 * that a second of synthesis never stalls the line stream or a runtime in the same process.
 */
export function synthSource(opts: SynthSourceOptions): ScanSource {
  const worker = new Worker(fileURLToPath(new URL('./synth-worker.mjs', import.meta.url)));
  worker.unref();
  const pending = new Map<number, { resolve: (s: SimScan) => void; reject: (e: Error) => void }>();
  const ahead = new Map<number, Promise<SimScan>>();
  let failed: Error | null = null;
  // The worker keeps the process alive only while a scan is being made for someone.
  const refIfPending = () => (pending.size > 0 ? worker.ref() : worker.unref());
  worker.on('message', (m: { index: number; scan?: SimScan; error?: string }) => {
    const p = pending.get(m.index);
    pending.delete(m.index);
    refIfPending();
    if (!p) return;
    if (m.scan) p.resolve(m.scan);
    else p.reject(new Error(`X-ray synthesizer failed on scan ${m.index} (seed ${opts.seed + m.index}): ${m.error}`));
  });
  worker.on('error', (err) => {
    failed = new Error(`X-ray synthesizer worker failed: ${err.message}`);
    for (const p of pending.values()) p.reject(failed);
    pending.clear();
  });
  const request = (index: number): Promise<SimScan> => {
    if (failed) return Promise.reject(failed);
    const p = new Promise<SimScan>((resolve, reject) => pending.set(index, { resolve, reject }));
    refIfPending();
    worker.postMessage({
      index,
      seed: opts.seed + index,
      personShare: opts.personShare,
      dual: opts.dual ?? true,
      pixelMm: opts.pixelMm,
      channels: opts.channels,
    });
    p.catch(() => {});
    return p;
  };
  return {
    describe: `X-ray synthesizer (seed ${opts.seed}, person share ${opts.personShare})`,
    async next(i) {
      const p = ahead.get(i) ?? request(i);
      ahead.delete(i);
      ahead.set(i + 1, request(i + 1));
      return p;
    },
    async close() {
      ahead.clear();
      await worker.terminate();
    },
  };
}

/**
 * The scans of `source` as a scanner of another energy pair sends them: every low-energy
 * attenuation multiplied by `k` (k > 1: a lower low energy, every material's low/high ratio higher).
 * A lane reading them with scanner.lowEnergyScale 'auto' corrects them after five scans.
 */
export function withLowEnergyScale(source: ScanSource, k: number): ScanSource {
  const lut = attenuationScaleLut(k);
  return {
    describe: `${source.describe}, low-energy attenuation x${k}`,
    async next(i) {
      const s = await source.next(i);
      return s.low ? { ...s, low: s.low.map((v) => lut[v]) } : s;
    },
    close: () => source.close(),
  };
}

/** The pixels and pitches of a scan, as a simulator or an evaluation holds them. */
type Pitched = Pick<ScanImage, 'width' | 'height' | 'pixelMm' | 'lineMm' | 'high' | 'low'>;

/**
 * The scan as a scanner with a fixed line rate writes it when the vehicle passes `factor` times as
 * fast as the scan's own lines imply: each line covers `factor` times the distance (lines
 * area-averaged, or for a factor below 1 split), the channels unchanged; `lineMm` says the new line pitch.
 */
export function resampleLines<T extends Pitched>(scan: T, factor: number): T & { lineMm: number } {
  const W = Math.max(1, Math.round(scan.width / factor));
  const f = scan.width / W;
  const H = scan.height;
  const plane = (p: Uint16Array) => {
    const out = new Uint16Array(W * H);
    for (let j = 0; j < W; j++) {
      const lo = j * f;
      const hi = Math.min(scan.width, (j + 1) * f);
      const a = Math.floor(lo);
      const b = Math.ceil(hi);
      for (let r = 0; r < H; r++) {
        let sum = 0;
        let wsum = 0;
        for (let i = a; i < b; i++) {
          const w = Math.min(i + 1, hi) - Math.max(i, lo);
          if (w <= 0) continue;
          sum += w * p[r * scan.width + i]!;
          wsum += w;
        }
        out[r * W + j] = Math.round(sum / wsum);
      }
    }
    return out;
  };
  return {
    ...scan,
    width: W,
    lineMm: (scan.lineMm ?? scan.pixelMm) * f,
    high: plane(scan.high),
    ...(scan.low ? { low: plane(scan.low) } : {}),
  };
}

/**
 * The scans of `source` as a scanner with a fixed line rate sends them when vehicles pass with their
 * lines `lineMm` apart: resampled along the scan, with `lineMm` set (the stream simulator sends the
 * speed that makes it at its line rate; the channels' pitch stays the scan-begin's pitch).
 */
export function withLinePitch(source: ScanSource, lineMm: number): ScanSource {
  return {
    describe: `${source.describe}, lines ${lineMm} mm apart`,
    async next(i) {
      const s = await source.next(i);
      return resampleLines(s, lineMm / (s.lineMm ?? s.pixelMm));
    },
    close: () => source.close(),
  };
}
