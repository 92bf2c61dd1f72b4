import type { DeviceState } from '../../core/domain.js';
import { deviceStatus } from '../../core/health.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import { Backoff } from '../../core/backoff.js';
import { FrameRing, type CameraFrame } from './frame-ring.js';
import { decodeJpeg, jpegProblem, type DecodedFrame } from './jpeg.js';
import type { FrameSink, FrameSource } from './source.js';

export interface CameraCounters {
  frames: number;
  /** Pictures dropped because they were not whole JPEGs. */
  corrupt: number;
  /** Malformed pieces of the wire stream (bad parts, junk bytes). */
  wireProblems: number;
  restarts: number;
}

export interface CameraFeedOptions {
  laneId: string;
  cameraId: string;
  role: string;
  /** No picture for this long: the source is restarted. */
  stallMs: number;
  /** Pictures kept for the pre-roll. */
  preRollMs: number;
  /** Builds a fresh source for each (re)start. */
  createSource: () => FrameSource;
  /** Set when the source cannot work on this machine (e.g. ffmpeg missing): the camera is
   * reported 'unavailable' with this reason and never started. */
  unavailable?: string;
  publish: (status: ReturnType<typeof deviceStatus>) => void;
  log: Logger;
  backoff?: { initialMs: number; maxMs: number };
  /** Told of each accepted picture and each dropped one (metrics). */
  onCount?: (what: 'frame' | 'corrupt' | 'restart') => void;
  now?: () => number;
}

/**
 * One camera, kept alive: opens its source, checks each picture cheaply (SOI/EOI), keeps the
 * pre-roll, and restarts the source with backoff when it fails or stalls. Its state goes on
 * the lane bus as device 'camera.<id>': starting, ok, stalled (connected but no picture for
 * stallMs), offline (cannot connect / stream ended), unavailable (cannot run here).
 */
export class CameraFeed implements Service {
  readonly name: string;
  readonly device: string;
  readonly counters: CameraCounters = { frames: 0, corrupt: 0, wireProblems: 0, restarts: 0 };
  readonly #options: CameraFeedOptions;
  readonly #ring: FrameRing;
  readonly #backoff: Backoff;
  readonly #now: () => number;
  #source: FrameSource | null = null;
  #generation = 0;
  #running = false;
  #state: DeviceState = 'starting';
  #lastFrameAt = 0;
  #openedAt = 0;
  #watchdog: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #lastProblem = '';
  #connected = false;

  constructor(o: CameraFeedOptions) {
    this.#options = o;
    this.name = `camera:${o.laneId}:${o.cameraId}`;
    this.device = `camera.${o.cameraId}`;
    this.#ring = new FrameRing(Math.max(o.preRollMs, 0) + 1000);
    this.#backoff = new Backoff(o.backoff?.initialMs ?? 250, o.backoff?.maxMs ?? 30_000);
    this.#now = o.now ?? Date.now;
  }

  get state(): DeviceState {
    return this.#state;
  }

  get role(): string {
    return this.#options.role;
  }

  get cameraId(): string {
    return this.#options.cameraId;
  }

  get stallMs(): number {
    return this.#options.stallMs;
  }

  async start(): Promise<void> {
    if (this.#options.unavailable) {
      this.#setState('unavailable', this.#options.unavailable);
      return;
    }
    this.#running = true;
    this.#setState('starting', 'connecting');
    const tick = Math.max(50, Math.min(1000, Math.floor(this.#options.stallMs / 5)));
    this.#watchdog = setInterval(() => this.#check(), tick);
    this.#watchdog.unref?.();
    void this.#open();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#generation++;
    if (this.#watchdog) clearInterval(this.#watchdog);
    if (this.#retry) clearTimeout(this.#retry);
    this.#watchdog = this.#retry = null;
    const s = this.#source;
    this.#source = null;
    await s
      ?.close()
      .catch((err: unknown) =>
        this.#options.log.warn({ err }, `${this.device}: closing the source failed: ${(err as Error).message}`),
      );
    this.#setState('offline', 'camera ingest stopped');
  }

  /** The latest picture if it is no older than stallMs, else null (the camera is not delivering). */
  latest(): CameraFrame | null {
    const f = this.#ring.latest();
    return f && this.#now() - f.at <= this.#options.stallMs ? f : null;
  }

  /** The first picture of the pre-roll window ending now (the vehicle entering), if any. */
  preRoll(): CameraFrame | null {
    if (this.#options.preRollMs <= 0) return null;
    return this.#ring.oldestWithin(this.#options.preRollMs, this.#now());
  }

  /** Decodes the latest picture (sharp) for consumers that need pixels; ingest itself never decodes. */
  async latestDecoded(maxWidth?: number): Promise<DecodedFrame | null> {
    const f = this.latest();
    return f ? decodeJpeg(f.jpeg, maxWidth ? { maxWidth } : {}) : null;
  }

  #info(): Record<string, number> {
    return { ...this.counters };
  }

  #setState(state: DeviceState, detail: string): void {
    this.#state = state;
    this.#options.publish(deviceStatus(this.device, state, detail, this.#info()));
  }

  async #open(): Promise<void> {
    this.#retry = null;
    if (!this.#running) return;
    const gen = ++this.#generation;
    let source: FrameSource;
    try {
      source = this.#options.createSource();
    } catch (err) {
      this.#setState('unavailable', (err as Error).message);
      return;
    }
    this.#source = source;
    this.#connected = false;
    this.#openedAt = this.#now();
    const sink: FrameSink = {
      frame: (jpeg) => {
        if (gen === this.#generation) this.#frame(jpeg);
      },
      problem: (detail) => {
        if (gen !== this.#generation) return;
        this.counters.wireProblems++;
        this.#problem(`stream problem: ${detail}`);
      },
      ended: (reason) => {
        if (gen === this.#generation) this.#failed(reason);
      },
    };
    try {
      await source.open(sink);
      if (gen === this.#generation) this.#connected = true;
    } catch (err) {
      if (gen !== this.#generation) return;
      this.#failed((err as Error).message);
    }
  }

  #frame(jpeg: Buffer): void {
    const bad = jpegProblem(jpeg);
    if (bad) {
      this.counters.corrupt++;
      this.#options.onCount?.('corrupt');
      this.#problem(`picture dropped: ${bad}`);
      return;
    }
    const at = this.#now();
    this.counters.frames++;
    this.#options.onCount?.('frame');
    this.#lastFrameAt = at;
    this.#ring.push({ jpeg, at });
    if (this.#state !== 'ok') {
      const was = this.#state;
      this.#backoff.reset();
      this.#setState('ok', was === 'starting' ? 'receiving pictures' : `receiving pictures again (was ${was})`);
    }
  }

  /** Logs a problem once per distinct message, so a camera sending junk does not flood the log. */
  #problem(msg: string): void {
    if (msg === this.#lastProblem) return;
    this.#lastProblem = msg;
    this.#options.log.warn({ device: this.device, counters: this.counters }, `${this.device}: ${msg}`);
  }

  #check(): void {
    if (!this.#running || this.#retry || !this.#source) return;
    const since = Math.max(this.#lastFrameAt, this.#openedAt);
    const quiet = this.#now() - since;
    if (quiet < this.#options.stallMs) return;
    if (this.#connected) this.#restart('stalled', `no picture for ${quiet} ms (stallMs ${this.#options.stallMs})`);
    else this.#restart('offline', `${this.#source.describe}: not connected after ${quiet} ms`);
  }

  #failed(reason: string): void {
    this.#restart('offline', reason);
  }

  #restart(state: 'stalled' | 'offline', reason: string): void {
    if (!this.#running) return;
    this.#generation++;
    const s = this.#source;
    this.#source = null;
    void s?.close().catch(() => {});
    const delay = this.#backoff.next();
    this.counters.restarts++;
    this.#options.onCount?.('restart');
    this.#setState(state, `${reason}; restarting with backoff`); // no countdown: a new status at every retry
    this.#retry = setTimeout(() => void this.#open(), delay);
  }
}
