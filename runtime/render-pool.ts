import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { renderScanPng, type ScanView } from '../console/server/scan-render.js';
import { renderScanJpeg, type ScanRenderOptions } from '../outputs/evidence/scan-render.js';
import type { Region, ScanImage } from './domain.js';

/** A scan picture to make: the evidence JPEG with its regions, or one of the console's PNG views. */
export type RenderJob =
  | { kind: 'scan-jpeg'; image: ScanImage; regions: Region[]; opts: ScanRenderOptions }
  | { kind: 'scan-png'; image: ScanImage; view: ScanView };

/**
 * Renders scan pictures in one worker thread, so that the 50–100 ms of per-pixel work after each
 * verdict does not hold the lane's event loop (the verdict's MQTT delivery, the next vehicle's
 * lines, the console). Jobs run in order. If the worker cannot start or dies, the jobs it held and
 * every later one are rendered on the calling thread instead: slower for the event loop, the same
 * pictures (`fallbackReason` says why).
 */
export class RenderPool {
  static #shared: RenderPool | null = null;

  /** The process's pool, started on first use. */
  static shared(): RenderPool {
    RenderPool.#shared ??= new RenderPool();
    return RenderPool.#shared;
  }

  #worker: Worker | null = null;
  readonly #pending = new Map<number, { job: RenderJob; resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  #next = 1;
  #fallback: string | null = null;

  /** Why jobs are rendered on the calling thread, or null while the worker serves them. */
  get fallbackReason(): string | null {
    return this.#fallback;
  }

  run(job: RenderJob): Promise<Buffer> {
    const worker = this.#fallback ? null : this.#start();
    if (!worker) return renderHere(job);
    const id = this.#next++;
    return new Promise<Buffer>((resolve, reject) => {
      this.#pending.set(id, { job, resolve, reject });
      worker.ref(); // keeps the process alive only while a picture is being made
      const { image } = job;
      // Only the planes cross to the worker (copied: the caller keeps its image).
      const plain: ScanImage = { width: image.width, height: image.height, pixelMm: image.pixelMm, high: image.high, ...(image.low ? { low: image.low } : {}), ...(image.missing ? { missing: image.missing } : {}) };
      worker.postMessage({ id, job: { ...job, image: plain } });
    });
  }

  /** Stops the worker (tests); later jobs start a new one. */
  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = null;
    const held = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of held) renderHere(p.job).then(p.resolve, p.reject);
    if (w) await w.terminate();
  }

  #start(): Worker | null {
    if (this.#worker) return this.#worker;
    try {
      const w = new Worker(fileURLToPath(new URL('./render-worker.mjs', import.meta.url)));
      w.unref();
      w.on('message', (m: { id: number; data?: Uint8Array; error?: string }) => {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (this.#pending.size === 0) w.unref();
        if (!p) return;
        if (m.data) p.resolve(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        else p.reject(new Error(m.error ?? 'render worker gave no picture'));
      });
      const fail = (why: string) => {
        if (this.#worker !== w) return;
        this.#worker = null;
        this.#fallback = why;
        const held = [...this.#pending.values()];
        this.#pending.clear();
        for (const p of held) renderHere(p.job).then(p.resolve, p.reject);
      };
      w.on('error', (err) => fail(`render worker failed: ${err.message}`));
      w.on('exit', (code) => fail(`render worker exited (code ${code})`));
      this.#worker = w;
      return w;
    } catch (err) {
      this.#fallback = `render worker cannot start: ${(err as Error).message}`;
      return null;
    }
  }
}

function renderHere(job: RenderJob): Promise<Buffer> {
  return job.kind === 'scan-jpeg' ? renderScanJpeg(job.image, job.regions, job.opts).then((r) => r.jpeg) : renderScanPng(job.image, job.view);
}
