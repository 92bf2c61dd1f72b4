import { attenuationLut } from '../core/scan-picture.js';
import type { Detector, DetectorStatus, StreamingAnalysis } from '../core/detector.js';
import type { ModelIdentity, ScanMeta } from '../core/domain.js';
import { ScanAnalysis, type AnalysisContext, type TileJob } from './analysis.js';
import type { ModelManifest } from './manifest.js';
import { OnnxTileRunner, type TileOutput, type TileRunner } from './session.js';
import { serialTileQueue, type TileQueue } from './tile-scheduler.js';

export interface OnnxDetectorOptions {
  /** Model folder (manifest.json + ONNX file). */
  path: string;
  threads: number;
  warmup: boolean;
  /**
   * After a failed load or an inference error, retry (reload, or a probe run) this often;
   * 0 = never: the detector stays unavailable until restarted.
   */
  retryMs?: number;
  /**
   * Where tiles wait for their turn: a site's TileScheduler (`scheduler.lane(id)`), shared by its
   * lanes so that inference is taken in turns. Default: a queue of this detector's own.
   */
  queue?: TileQueue;
  /** Told about every status change and retry; the lane publishes status itself via onStatus. */
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** Skipped tile of a cancelled scan: not an inference failure. */
class TileCancelled extends Error {}

/** A loaded model: its contract, identity, and a runner for tiles. */
export interface LoadedModel {
  manifest: ModelManifest;
  identity: ModelIdentity;
  runner: TileRunner;
}

/**
 * The concealed-person detector on onnxruntime-node (CPU). It never fails silently: a model that
 * is missing, corrupt or does not match its manifest, or an inference error, makes it
 * 'unavailable' with the reason, which onStatus listeners (the lane) publish.
 */
export class OnnxDetector implements Detector {
  readonly #options: OnnxDetectorOptions;
  #status: DetectorStatus;
  #model: LoadedModel | null = null;
  #lut: Float32Array | null = null;
  #listeners = new Set<(s: DetectorStatus) => void>();
  readonly #queue: TileQueue;
  /** Tiles queued or running, so that close() waits for them. */
  readonly #inflight = new Set<Promise<unknown>>();
  #retry: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(o: OnnxDetectorOptions) {
    this.#options = o;
    this.#queue = o.queue ?? serialTileQueue();
    this.#status = { state: 'unavailable', reason: `model ${o.path} is not loaded yet` };
  }

  /** Builds a detector and loads its model; never throws (a failure is its status). */
  static async open(o: OnnxDetectorOptions): Promise<OnnxDetector> {
    const d = new OnnxDetector(o);
    await d.load();
    return d;
  }

  /** A detector over an already loaded model (tests inject runners this way). */
  static fromModel(model: LoadedModel, o: Omit<OnnxDetectorOptions, 'path'> & { path?: string }): OnnxDetector {
    const d = new OnnxDetector({ path: model.identity.name, ...o });
    d.#setModel(model);
    return d;
  }

  get status(): DetectorStatus {
    return this.#status;
  }

  get manifest(): ModelManifest | null {
    return this.#model?.manifest ?? null;
  }

  onStatus(listener: (status: DetectorStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Loads (or reloads) the model folder. Resolves to the new status. */
  async load(): Promise<DetectorStatus> {
    try {
      const { files, runner } = await OnnxTileRunner.load(this.#options.path, {
        threads: this.#options.threads,
        warmup: this.#options.warmup,
      });
      const old = this.#model;
      this.#setModel({ manifest: files.manifest, identity: files.identity, runner });
      if (old) await old.runner.release().catch(() => {});
    } catch (err) {
      this.#setUnavailable((err as Error).message);
    }
    return this.#status;
  }

  #setModel(model: LoadedModel): void {
    this.#model = model;
    this.#lut = attenuationLut(model.manifest.input.logScale);
    this.#set({ state: 'ready', model: model.identity });
  }

  #setUnavailable(reason: string): void {
    this.#set({ state: 'unavailable', reason, ...(this.#model ? { model: this.#model.identity } : {}) });
    this.#scheduleRetry();
  }

  #set(s: DetectorStatus): void {
    const prev = this.#status;
    this.#status = s;
    if (
      prev.state === s.state &&
      (prev.state === 'ready' ||
        (s.state === 'unavailable' && prev.state === 'unavailable' && prev.reason === s.reason))
    )
      return;
    if (s.state === 'ready')
      this.#options.log?.info({ model: s.model }, `model ${s.model.name} ${s.model.version} ready`);
    else this.#options.log?.warn({ reason: s.reason }, `detection unavailable: ${s.reason}`);
    for (const l of this.#listeners) l(s);
  }

  #scheduleRetry(): void {
    const ms = this.#options.retryMs ?? 0;
    if (ms <= 0 || this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.#retryOnce();
    }, ms);
    this.#retry.unref();
  }

  async #retryOnce(): Promise<void> {
    if (this.#closed || this.#status.state === 'ready') return;
    if (!this.#model) {
      await this.load();
      return;
    }
    // The model loaded before and then failed to run: probe it with an empty tile.
    const m = this.#model.manifest;
    const t = m.tiling.tileLines;
    const h = Math.max(m.input.sizeMultiple, t);
    try {
      await this.#enqueue(() => this.#model!.runner.run(new Float32Array(m.input.channels.length * h * t), h, t));
      this.#set({ state: 'ready', model: this.#model.identity });
    } catch (err) {
      this.#setUnavailable(`inference failed: ${(err as Error).message}`);
    }
  }

  begin(meta: ScanMeta): StreamingAnalysis {
    const model = this.#model;
    if (!model || this.#status.state !== 'ready') {
      throw new Error(
        `detection unavailable: ${this.#status.state === 'unavailable' ? this.#status.reason : 'no model'}`,
      );
    }
    if (!(meta.channels > 0) || !(meta.pixelMm > 0))
      throw new Error(
        `scan ${meta.scanId} announces ${meta.channels} channels at ${meta.pixelMm} mm: cannot analyse it`,
      );
    const ctx: AnalysisContext = {
      manifest: model.manifest,
      identity: model.identity,
      lut: this.#lut!,
      runTile: (job) => this.#runTile(model, job),
      onInferenceError: (err) => {
        if (!(err instanceof TileCancelled)) this.#setUnavailable(`inference failed: ${err.message}`);
      },
    };
    return new ScanAnalysis(ctx, meta);
  }

  #runTile(model: LoadedModel, job: TileJob): Promise<TileOutput> {
    return this.#enqueue(async () => {
      if (job.cancelled()) throw new TileCancelled('scan cancelled');
      const input = job.build();
      const t0 = performance.now();
      const out = await model.runner.run(input, job.height, job.width);
      job.ran(performance.now() - t0);
      return out;
    });
  }

  /** Runs fn after everything queued before it: one session, one tile at a time, in the lane's turn. */
  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#queue(fn);
    const settled = p.catch(() => {});
    this.#inflight.add(settled);
    void settled.finally(() => this.#inflight.delete(settled));
    return p;
  }

  /** Releases the session. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    await Promise.all([...this.#inflight]);
    await this.#model?.runner.release().catch(() => {});
    this.#model = null;
    this.#set({ state: 'unavailable', reason: 'detector closed' });
  }
}
