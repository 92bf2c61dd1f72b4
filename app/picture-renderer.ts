import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import type { Region, ScanImage } from '../core/domain.js';
import type { Logger } from '../core/logger.js';
import type { Service } from '../core/service.js';
import type { MemoryReply, PictureJob, PictureReply, ThreadMemory } from './picture-jobs.js';

/** Pictures waiting for the picture thread: in normal traffic (a vehicle every few seconds) none wait. */
const MAX_QUEUED = 24;
/** Scan samples held by the pictures waiting: each holds its scan image, so this bounds the memory. */
const MAX_QUEUED_BYTES = 48 * 1024 * 1024;
const WORKER = fileURLToPath(new URL('./picture-worker.mjs', import.meta.url));

export interface PictureRendererOptions {
  log: Logger;
  /** Pictures that may wait; a picture asked for beyond it is refused (default MAX_QUEUED). */
  maxQueued?: number;
  /** Bytes of scan samples the waiting pictures may hold (default MAX_QUEUED_BYTES). */
  maxQueuedBytes?: number;
}

type JobBody = PictureJob extends infer J ? (J extends PictureJob ? Omit<J, 'id'> : never) : never;

interface Waiting {
  job: PictureJob;
  bytes: number;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

/**
 * Renders the evidence JPEGs and the console's scan views on a thread of their own, one at a
 * time, at the lowest CPU priority: the event loop that publishes verdicts and alerts never runs
 * a pixel loop, and the next scan's inference comes before the last scan's pictures. A thread
 * that dies fails the picture it was making (said in the log) and is started again for the next.
 */
export class PictureRenderer implements Service {
  readonly name = 'pictures';
  readonly #log: Logger;
  readonly #maxQueued: number;
  readonly #maxQueuedBytes: number;
  #queuedBytes = 0;
  readonly #queue: Waiting[] = [];
  #current: Waiting | null = null;
  #worker: Worker | null = null;
  #nextId = 1;
  #stopping = false;
  #idle: (() => void)[] = [];
  #nextQuery = 1;
  readonly #queries = new Map<number, (m: ThreadMemory | null) => void>();

  constructor(o: PictureRendererOptions) {
    this.#log = o.log;
    this.#maxQueued = o.maxQueued ?? MAX_QUEUED;
    this.#maxQueuedBytes = o.maxQueuedBytes ?? MAX_QUEUED_BYTES;
  }

  async start(): Promise<void> {
    this.#stopping = false;
    // libvips's operation cache is one per process, and each thread that loads sharp turns it on
    // (50 MiB, 100 operations): off from here, and again by the picture thread as it loads.
    // Pictures are made once each; a cache would only keep their pixels.
    sharp.cache(false);
    this.#spawn();
  }

  /** Waits for the pictures asked for so far, then ends the thread. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#current || this.#queue.length) await new Promise<void>((r) => this.#idle.push(r));
    const w = this.#worker;
    this.#worker = null;
    await w?.terminate();
  }

  /**
   * The picture thread's V8 heap and external buffers (the main thread's metrics leave them out),
   * or null when the thread is not running or does not answer within timeoutMs.
   */
  threadMemory(timeoutMs = 1000): Promise<ThreadMemory | null> {
    const w = this.#worker;
    if (!w) return Promise.resolve(null);
    const query = this.#nextQuery++;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#queries.delete(query);
        resolve(null);
      }, timeoutMs);
      this.#queries.set(query, (m) => {
        clearTimeout(t);
        this.#queries.delete(query);
        resolve(m);
      });
      w.postMessage({ kind: 'memory', query });
    });
  }

  /** Pictures waiting or being made. */
  get pending(): number {
    return this.#queue.length + (this.#current ? 1 : 0);
  }

  /** The evidence JPEG of a scan (outputs/evidence/evidence-picture.ts), made on the picture thread. */
  evidenceJpeg(image: ScanImage, regions: readonly Region[], maxWidth: number): Promise<Buffer> {
    // Only what the picture uses crosses to the thread (it is copied there).
    const { low: _low, ...highOnly } = image;
    return this.#ask({ kind: 'evidence-jpeg', image: highOnly, regions, maxWidth });
  }

  /** One of the console's views of a scan (console/server/scan-views.ts), made on the picture thread. */
  consolePng(image: ScanImage, view: 'high' | 'low' | 'material'): Promise<Buffer> {
    const { missing: _m, ...rest } = image;
    const { low: _low, ...highOnly } = rest;
    const part = view === 'material' ? rest : view === 'low' && image.low ? { ...highOnly, high: image.low } : highOnly;
    return this.#ask({ kind: 'console-png', image: part, view: view === 'low' && image.low ? 'high' : view });
  }

  #ask(body: JobBody): Promise<Buffer> {
    const img = body.image;
    const bytes = img.high.byteLength + (img.low?.byteLength ?? 0) + (img.missing?.byteLength ?? 0);
    const busy = this.#current !== null;
    if (busy && (this.#queue.length >= this.#maxQueued || this.#queuedBytes + bytes > this.#maxQueuedBytes))
      return Promise.reject(
        new Error(
          `the picture thread is ${this.#queue.length} pictures behind (${(this.#queuedBytes / 1048576).toFixed(0)} MiB of scans waiting; limit ${this.#maxQueued} pictures, ${(this.#maxQueuedBytes / 1048576).toFixed(0)} MiB): this one is not made, so that waiting scan images do not fill the memory`,
        ),
      );
    return new Promise<Buffer>((resolve, reject) => {
      this.#queue.push({ job: { ...body, id: this.#nextId++ } as PictureJob, bytes, resolve, reject });
      this.#queuedBytes += bytes;
      this.#pump();
    });
  }

  #spawn(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(WORKER);
    this.#worker = w;
    w.on('message', (m: PictureReply | MemoryReply | { ready: true; priorityProblem: string | null }) => {
      if ('kind' in m) {
        this.#queries.get(m.query)?.({ heapBytes: m.heapBytes, externalBytes: m.externalBytes });
        return;
      }
      if ('ready' in m) {
        if (m.priorityProblem)
          this.#log.warn(
            `picture thread runs at normal priority (${m.priorityProblem}): pictures may slow the lanes' inference`,
          );
        return;
      }
      const cur = this.#current;
      if (!cur || cur.job.id !== m.id) return;
      this.#current = null;
      if (m.ok) cur.resolve(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      else cur.reject(new Error(m.error));
      this.#pump();
    });
    const died = (why: string) => {
      if (this.#worker !== w) return;
      this.#worker = null;
      for (const answer of [...this.#queries.values()]) answer(null);
      const cur = this.#current;
      this.#current = null;
      if (cur) cur.reject(new Error(`the picture thread stopped while making it (${why})`));
      if (!this.#stopping || this.#queue.length) this.#log.error(`picture thread stopped (${why}); started again`);
      this.#pump();
    };
    w.on('error', (err) => died(err.message));
    w.on('exit', (code) => died(`exit code ${code}`));
    w.unref();
    return w;
  }

  #pump(): void {
    if (this.#current) return;
    const next = this.#queue.shift();
    if (!next) {
      for (const r of this.#idle.splice(0)) r();
      return;
    }
    this.#current = next;
    this.#queuedBytes -= next.bytes;
    try {
      this.#spawn().postMessage(next.job);
    } catch (err) {
      this.#current = null;
      next.reject(err as Error);
      this.#pump();
    }
  }
}
