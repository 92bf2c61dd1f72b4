import { Worker } from 'node:worker_threads';
import type { ScanImage } from '../../runtime/domain.js';
import { SEED_RANGES } from '../../sim/xray/dataset.js';
import { synthesizeScan, type SynthOptions } from '../../sim/xray/index.js';
import type { Box } from './metrics.js';

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
    image: { width: s.width, height: s.height, pixelMm: s.pixelMm, high: s.high, ...(s.low ? { low: s.low } : {}), missing: s.missing },
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
export async function* testScans(first: number, count: number, settings: EvalSettings, workers: number): AsyncGenerator<EvalScan> {
  if (workers <= 0) {
    for (let k = 0; k < count; k++) yield synthesizeEvalScan(first + k, settings);
    return;
  }
  const ahead = workers * 2;
  const pending = new Map<number, { promise: Promise<EvalScan>; resolve: (s: EvalScan) => void; reject: (e: Error) => void }>();
  const slot = (seed: number) => {
    let e = pending.get(seed);
    if (!e) {
      let resolve!: (s: EvalScan) => void, reject!: (e: Error) => void;
      const promise = new Promise<EvalScan>((res, rej) => ((resolve = res), (reject = rej)));
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
