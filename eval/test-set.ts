import { Worker } from 'node:worker_threads';
import type { ScanImage } from '../core/domain.js';
import { SEED_RANGES } from '../sim/xray/dataset.js';
import { synthesizeScan, type SynthOptions } from '../sim/xray/index.js';
import type { Box } from './detection-metrics.js';

/** The held-out test scans: the synthesizer's test seed range, never used in training. */
export const TEST_SEEDS = SEED_RANGES.test;

export type EvalSettings = Omit<SynthOptions, 'seed'>;

export interface EvalPerson {
  box: Box;
  hidingPlace: string;
}

/** One synthetic test scan with the truth the evaluation needs. */
export interface EvalScan {
  seed: number;
  image: ScanImage;
  people: EvalPerson[];
  vehicleClass: string;
  cargoDensity: string;
  /** Open-beam photons per pixel of the high-energy image (for the extra-noise variant). */
  photonsHigh: number;
}

export interface SynthRequest {
  seed: number;
  settings: EvalSettings;
}
export type SynthReply = { ok: true; scan: EvalScan } | { ok: false; seed: number; error: string };

export function synthesizeEvalScan(seed: number, settings: EvalSettings): EvalScan {
  const s = synthesizeScan({ ...settings, seed });
  return {
    seed,
    image: {
      width: s.width,
      height: s.height,
      pixelMm: s.pixelMm,
      high: s.high,
      ...(s.low ? { low: s.low } : {}),
      missing: s.missing,
    },
    people: s.truth.people.map((p) => ({ box: { ...p.box }, hidingPlace: p.hidingPlace })),
    vehicleClass: s.truth.scene.vehicleClass + (s.truth.scene.trailer ? ` (${s.truth.scene.trailer})` : ''),
    cargoDensity: s.truth.scene.cargoDensity,
    photonsHigh: s.truth.detector.photonsHigh,
  };
}

/**
 * Yields the scans of seeds [first, first + count) in order, synthesized by `workers` worker
 * threads (0 = in this thread) a few scans ahead of the consumer.
 */
export async function* testScans(
  first: number,
  count: number,
  settings: EvalSettings,
  workers: number,
): AsyncGenerator<EvalScan> {
  if (workers <= 0) {
    for (let k = 0; k < count; k++) yield synthesizeEvalScan(first + k, settings);
    return;
  }
  const ahead = workers * 2;
  const pending = new Map<
    number,
    { promise: Promise<EvalScan>; resolve: (s: EvalScan) => void; reject: (e: Error) => void }
  >();
  const slot = (seed: number) => {
    let e = pending.get(seed);
    if (!e) {
      let resolve!: (s: EvalScan) => void, reject!: (e: Error) => void;
      const promise = new Promise<EvalScan>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => {});
      e = { promise, resolve, reject };
      pending.set(seed, e);
    }
    return e;
  };
  let nextToRequest = first;
  const end = first + count;
  const pool: Worker[] = [];
  const idle: Worker[] = [];
  let failure: Error | null = null;
  const feed = () => {
    while (idle.length && nextToRequest < end && nextToRequest < consumed + ahead) {
      const w = idle.pop()!;
      const seed = nextToRequest++;
      slot(seed);
      w.postMessage({ seed, settings } satisfies SynthRequest);
    }
  };
  let consumed = first;
  const entry = new URL('./synth-worker.mjs', import.meta.url);
  try {
    for (let i = 0; i < workers; i++) {
      const w = new Worker(entry);
      pool.push(w);
      w.on('message', (m: SynthReply | { ready: true }) => {
        if ('ready' in m) {
          idle.push(w);
          return feed();
        }
        if (m.ok) slot(m.scan.seed).resolve(m.scan);
        else slot(m.seed).reject(new Error(`synthesizing test scan seed ${m.seed} failed: ${m.error}`));
        idle.push(w);
        feed();
      });
      w.on('error', (err) => {
        failure = new Error(`synthesis worker failed: ${err.message}`);
        for (const e of pending.values()) e.reject(failure);
      });
    }
    for (let seed = first; seed < end; seed++) {
      if (failure) throw failure;
      const scan = await slot(seed).promise;
      pending.delete(seed);
      consumed = seed + 1;
      feed();
      yield scan;
    }
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

interface LabelLine {
  id: string;
  seed: number;
  boxes: [number, number, number, number][];
  width: number;
  height: number;
  vehicleClass: string;
  cargoDensity: string;
  hidingPlaces: string[];
  files: { high: string; low?: string; sidecar: string };
}

/**
 * Test scans from a data set folder written by `checkpoint-edge sim xray` (docs/xray-synthesizer.md,
 * layout version 1): labels.jsonl in seed order, raw or 16-bit PNG images, sidecars. Every seed
 * must lie in the test range.
 */
export async function* datasetScans(dir: string, limit: number): AsyncGenerator<EvalScan> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { readScanFile } = await import('../inference/scan-file.js');
  let text: string;
  try {
    text = await readFile(join(dir, 'labels.jsonl'), 'utf8');
  } catch (err) {
    throw new Error(
      `data set ${dir}: labels.jsonl cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected a folder written by 'checkpoint-edge sim xray'`,
    );
  }
  const lines = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as LabelLine;
      } catch (err) {
        throw new Error(`data set ${dir}: labels.jsonl line ${i + 1} is not JSON (${(err as Error).message})`);
      }
    });
  const outside = lines.find((l) => l.seed < TEST_SEEDS.first || l.seed > TEST_SEEDS.last);
  if (outside)
    throw new Error(
      `data set ${dir}: scan ${outside.id} has seed ${outside.seed}, outside the held-out test range ${TEST_SEEDS.first}–${TEST_SEEDS.last}; it may have been used in training`,
    );
  const image = async (file: string, w: number, h: number): Promise<Uint16Array> => {
    const p = join(dir, file);
    if (file.endsWith('.raw')) {
      const b = await readFile(p);
      if (b.length !== w * h * 2)
        throw new Error(`data set ${dir}: ${file} has ${b.length} bytes, expected ${w * h * 2} (${w} x ${h} uint16)`);
      const out = new Uint16Array(w * h);
      for (let i = 0; i < out.length; i++) out[i] = b[2 * i] | (b[2 * i + 1] << 8);
      return out;
    }
    const f = await readScanFile(p);
    if (f.width !== w || f.height !== h)
      throw new Error(`data set ${dir}: ${file} is ${f.width} x ${f.height}, labels say ${w} x ${h}`);
    return f.image;
  };
  for (const l of lines.slice(0, limit)) {
    const side = JSON.parse(await readFile(join(dir, l.files.sidecar), 'utf8')) as {
      pixelMm: number;
      detector?: { photonsHigh?: number };
      missingLines?: number[];
      people?: { box: Box; hidingPlace: string }[];
      scene?: { vehicleClass: string; trailer?: string; cargoDensity: string };
    };
    const high = await image(l.files.high, l.width, l.height);
    const low = l.files.low ? await image(l.files.low, l.width, l.height) : undefined;
    const missing = new Uint8Array(l.width);
    for (const x of side.missingLines ?? []) if (x >= 0 && x < l.width) missing[x] = 1;
    yield {
      seed: l.seed,
      image: { width: l.width, height: l.height, pixelMm: side.pixelMm, high, ...(low ? { low } : {}), missing },
      // Per-person hiding places are in the sidecar (labels.jsonl lists the distinct ones).
      people: side.people
        ? side.people.map((p) => ({
            box: { x: p.box.x, y: p.box.y, w: p.box.w, h: p.box.h },
            hidingPlace: p.hidingPlace,
          }))
        : l.boxes.map(([x, y, w, h]) => ({
            box: { x, y, w, h },
            hidingPlace: l.hidingPlaces.length === 1 ? l.hidingPlaces[0] : 'unknown',
          })),
      vehicleClass: side.scene
        ? side.scene.vehicleClass + (side.scene.trailer ? ` (${side.scene.trailer})` : '')
        : l.vehicleClass,
      cargoDensity: side.scene?.cargoDensity ?? l.cargoDensity,
      photonsHigh: side.detector?.photonsHigh ?? 2000 * side.pixelMm * side.pixelMm,
    };
  }
}
