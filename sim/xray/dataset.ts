import { mkdirSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { availableParallelism, endianness } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type SynthOptions, type SynthScan, instanceMask, synthesizeScan } from './index.js';
import { encodeGrey16, encodeGrey8 } from './png.js';

/**
 * Labelled data sets for training and evaluation: one scan per seed, written as raw little-endian
 * uint16 or 16-bit PNG images, a JSON sidecar per scan, an instance mask, and labels.jsonl.
 * The layout is specified in docs/xray-synthesizer.md; keep the two in step.
 */

export type ImageFormat = 'raw' | 'png16';
const DATASET_FORMAT = 'checkpoint-edge/xray-dataset';
const DATASET_VERSION = 1;

/** Documented seed ranges, so that splits never overlap. */
export const SEED_RANGES = {
  train: { first: 0, last: 999_999 },
  validation: { first: 1_000_000, last: 1_099_999 },
  test: { first: 2_000_000, last: 2_099_999 },
} as const;

export type ScanSettings = Omit<SynthOptions, 'seed'>;

export interface DatasetOptions {
  out: string;
  /** First seed; scan k uses seed + k. */
  seed: number;
  count: number;
  format: ImageFormat;
  settings: ScanSettings;
  /** Worker threads; 1 generates in this thread. Default: all cores (at most 8). */
  workers?: number;
  /** Called after each scan is written (for progress display). */
  onProgress?: (done: number, total: number) => void;
}

/** One line of labels.jsonl. */
export interface LabelLine {
  id: string;
  seed: number;
  label: 'person' | 'clear';
  people: number;
  /** Person boxes as [x, y, w, h] in pixels (x = line, y = channel). */
  boxes: [number, number, number, number][];
  width: number;
  height: number;
  vehicleClass: string;
  trailer?: string;
  cargo: string;
  cargoDensity: string;
  hidingPlaces: string[];
  decoys: number;
  /** Projected with a fan beam (its geometry in the sidecar); absent: a parallel beam. */
  fanBeam?: true;
  files: { high: string; low?: string; mask: string; sidecar: string };
}

export function scanId(seed: number): string {
  return `xr-${String(seed).padStart(8, '0')}`;
}

/** Run-length encoding of a 0/1 bitmap in row-major order: counts of alternating 0s and 1s, starting with 0s. */
function encodeRle(mask: Uint8Array): number[] {
  const counts: number[] = [];
  let cur = 0,
    run = 0;
  for (let k = 0; k < mask.length; k++) {
    const v = mask[k] ? 1 : 0;
    if (v === cur) run++;
    else {
      counts.push(run);
      cur = v;
      run = 1;
    }
  }
  counts.push(run);
  return counts;
}

export function decodeRle(counts: readonly number[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let pos = 0;
  counts.forEach((n, k) => {
    if (k % 2 === 1) out.fill(1, pos, pos + n);
    pos += n;
  });
  if (pos !== length) throw new Error(`RLE covers ${pos} pixels, expected ${length}`);
  return out;
}

function leBytes(a: Uint16Array): Buffer {
  // Typed arrays use the platform's byte order; the format is little-endian everywhere.
  if (endianness() === 'LE') return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const out = Buffer.alloc(a.length * 2);
  for (let k = 0; k < a.length; k++) out.writeUInt16LE(a[k], 2 * k);
  return out;
}

/** The sidecar JSON of a scan (everything but the pixels). */
export function sidecar(scan: SynthScan, format: ImageFormat): Record<string, unknown> {
  const id = scanId(scan.seed);
  const ext = format === 'raw' ? 'raw' : 'png';
  return {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    id,
    seed: scan.seed,
    width: scan.width,
    height: scan.height,
    pixelMm: scan.pixelMm,
    layout: 'row-major; rows = detector channels, top of the vehicle first; columns = lines, vehicle front first',
    sample:
      format === 'raw'
        ? { dtype: 'uint16', byteOrder: 'little-endian', openBeam: 65535 }
        : { dtype: 'uint16', png: '16-bit greyscale', openBeam: 65535 },
    images: {
      high: { file: `${id}.high.${ext}`, effectiveMeV: 6 },
      ...(scan.low ? { low: { file: `${id}.low.${ext}`, effectiveMeV: 4 } } : {}),
    },
    mask: {
      file: `${id}.mask.${ext}`,
      dtype: 'uint8',
      values: '0 = background; k = people[k - 1] (later people win where bodies overlap)',
    },
    label: scan.truth.label,
    people: scan.truth.people.map((p) => ({
      box: p.box,
      maskRle: { order: 'row-major within box, alternating runs starting with 0s', counts: encodeRle(p.mask) },
      area: p.area,
      pose: p.pose,
      facing: p.facing,
      age: p.age,
      statureMm: p.statureMm,
      hidingPlace: p.hidingPlace,
      ...(p.acrossMm !== undefined ? { acrossMm: p.acrossMm } : {}),
      visibility: p.visibility,
    })),
    missingLines: scan.truth.detector.missingLines,
    deadChannels: scan.truth.detector.deadChannels,
    scene: scan.truth.scene,
    detector: scan.truth.detector,
    ...(scan.truth.fanBeam ? { fanBeam: scan.truth.fanBeam } : {}),
  };
}

/** Generates the scan of one seed and writes its files; returns its labels.jsonl entry. */
export function writeScan(out: string, seed: number, format: ImageFormat, settings: ScanSettings): LabelLine {
  const scan = synthesizeScan({ ...settings, seed });
  const id = scanId(seed);
  const ext = format === 'raw' ? 'raw' : 'png';
  const img = (a: Uint16Array) => (format === 'raw' ? leBytes(a) : encodeGrey16(scan.width, scan.height, a));
  const mask = instanceMask(scan);
  const files: LabelLine['files'] = { high: `${id}.high.${ext}`, mask: `${id}.mask.${ext}`, sidecar: `${id}.json` };
  writeAtomic(join(out, files.high), img(scan.high));
  if (scan.low) {
    files.low = `${id}.low.${ext}`;
    writeAtomic(join(out, files.low), img(scan.low));
  }
  writeAtomic(
    join(out, files.mask),
    format === 'raw'
      ? Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength)
      : encodeGrey8(scan.width, scan.height, mask),
  );
  writeAtomic(join(out, files.sidecar), `${JSON.stringify(sidecar(scan, format), null, 1)}\n`);
  const s = scan.truth.scene;
  return {
    id,
    seed,
    label: scan.truth.label,
    people: scan.truth.people.length,
    boxes: scan.truth.people.map((p) => [p.box.x, p.box.y, p.box.w, p.box.h]),
    width: scan.width,
    height: scan.height,
    vehicleClass: s.vehicleClass,
    ...(s.trailer ? { trailer: s.trailer } : {}),
    cargo: s.cargo,
    cargoDensity: s.cargoDensity,
    hidingPlaces: s.hidingPlaces,
    decoys: s.decoys.length,
    ...(scan.truth.fanBeam ? { fanBeam: true as const } : {}),
    files,
  };
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Writes a whole data set; resolves with the label lines in seed order. */
export async function writeDataset(opts: DatasetOptions): Promise<LabelLine[]> {
  if (!(Number.isInteger(opts.count) && opts.count >= 1))
    throw new RangeError(`dataset: count must be a positive integer, got ${opts.count}`);
  if (!Number.isInteger(opts.seed) || opts.seed < 0)
    throw new RangeError(`dataset: seed must be a non-negative integer, got ${opts.seed}`);
  try {
    mkdirSync(opts.out, { recursive: true });
  } catch (err) {
    throw new Error(`dataset: cannot create output folder ${opts.out}: ${(err as Error).message}`);
  }
  if (existsSync(join(opts.out, 'labels.jsonl'))) {
    throw new Error(
      `dataset: ${join(opts.out, 'labels.jsonl')} already exists; choose an empty --out folder or remove the old data set`,
    );
  }
  const workers = Math.max(1, Math.min(opts.workers ?? Math.min(8, availableParallelism()), opts.count));
  const seeds = Array.from({ length: opts.count }, (_, k) => opts.seed + k);
  const lines = new Map<number, LabelLine>();
  let done = 0;
  const record = (l: LabelLine) => {
    lines.set(l.seed, l);
    done++;
    opts.onProgress?.(done, opts.count);
  };
  if (workers === 1) {
    for (const s of seeds) record(writeScan(opts.out, s, opts.format, opts.settings));
  } else {
    await runWorkers(workers, seeds, opts, record);
  }
  const ordered = seeds.map((s) => lines.get(s)!);
  const manifest = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    firstSeed: opts.seed,
    count: opts.count,
    imageFormat: opts.format,
    dual: opts.settings.dual ?? false,
    settings: opts.settings,
    seedRanges: SEED_RANGES,
    persons: ordered.filter((l) => l.label === 'person').length,
  };
  writeAtomic(join(opts.out, 'dataset.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  writeAtomic(join(opts.out, 'labels.jsonl'), `${ordered.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return ordered;
}

/** Message from the main thread to a worker, and back. */
export type WorkerRequest = { seed: number } | { stop: true };
export type WorkerReply = { ok: true; line: LabelLine } | { ok: false; seed: number; error: string };
export interface WorkerData {
  out: string;
  format: ImageFormat;
  settings: ScanSettings;
}

function runWorkers(n: number, seeds: number[], opts: DatasetOptions, record: (l: LabelLine) => void): Promise<void> {
  const queue = [...seeds];
  const entry = new URL('./dataset-worker.mjs', import.meta.url);
  const data: WorkerData = { out: opts.out, format: opts.format, settings: opts.settings };
  return new Promise<void>((resolve, reject) => {
    let live = n;
    let failed = false;
    const pool: Worker[] = [];
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      for (const w of pool) void w.terminate();
      reject(err);
    };
    for (let k = 0; k < n; k++) {
      const w = new Worker(entry, { workerData: data });
      pool.push(w);
      const feed = () => {
        const seed = queue.shift();
        w.postMessage(
          seed === undefined ? ({ stop: true } satisfies WorkerRequest) : ({ seed } satisfies WorkerRequest),
        );
      };
      w.on('message', (m: WorkerReply | { ready: true }) => {
        if ('ready' in m) return feed();
        if (!m.ok) return fail(new Error(`dataset: scan with seed ${m.seed} failed: ${m.error}`));
        record(m.line);
        feed();
      });
      w.on('error', (err) => fail(new Error(`dataset: worker ${k} failed: ${err.message}`)));
      w.on('exit', (code) => {
        if (failed) return;
        if (code !== 0) return fail(new Error(`dataset: worker ${k} exited with code ${code}`));
        if (--live === 0) {
          if (queue.length > 0) fail(new Error(`dataset: workers stopped with ${queue.length} scans left`));
          else resolve();
        }
      });
    }
  });
}
