import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import { FrameParser, type LineStreamCounters } from './protocol/frame-parser.js';
import { encodeFrame, FrameType, type Frame, type FrameBody } from './protocol/frames.js';
import type { ScannerTranslator } from './translator.js';
import { Backoff } from '../../core/backoff.js';
import type { LineLink, LinkOpener } from './transport/line-link.js';

export interface LineStreamServiceOptions {
  name: string;
  opener: LinkOpener;
  translator: ScannerTranslator;
  /** Shared with the translator's status, kept across reconnects. */
  counters: LineStreamCounters;
  log: Logger;
  /** config scanner.reconnect */
  reconnect: { initialMs: number; maxMs: number };
  /** Log every frame at debug level (config scanner.logFrames). */
  logFrames?: boolean;
  /** How often the device status with its counters is republished when they changed. */
  statusIntervalMs?: number;
  random?: () => number;
}

/** Heartbeats missed before the link is declared dead (a peer gone without closing). */
const HEARTBEATS_MISSED = 3;
/** Watchdog ticks per heartbeat interval: how finely silence is measured. */
const WATCHDOG_TICKS_PER_HEARTBEAT = 4;

/**
 * Keeps the line stream to the scanner open: opens the link, parses it into frames for the
 * translator, and when the link is lost (unplugged, reset, silent past its heartbeats) says so,
 * then reconnects with exponential backoff and jitter, forever, until stopped.
 */
export class LineStreamService implements Service {
  readonly name: string;
  readonly #options: LineStreamServiceOptions;
  readonly #backoff: Backoff;
  #stopped = true;
  #loop: Promise<void> | null = null;
  #link: LineLink | null = null;
  #wake: (() => void) | null = null;
  #opening: AbortController | null = null;
  #statusTimer: NodeJS.Timeout | null = null;
  #hostSeq = 0;
  #connections = 0;

  constructor(opts: LineStreamServiceOptions) {
    this.#options = opts;
    this.name = opts.name;
    this.#backoff = new Backoff(opts.reconnect.initialMs, opts.reconnect.maxMs, opts.random);
  }

  /** Connections made so far (1 after the first, 2 after a reconnect...). */
  get connections(): number {
    return this.#connections;
  }

  get connected(): boolean {
    return this.#link !== null;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#options.translator.link('starting', `connecting to ${this.#options.opener.describe}`);
    this.#loop = this.#run();
    let last = '';
    this.#statusTimer = setInterval(() => {
      const now = JSON.stringify(this.#options.counters) + JSON.stringify(this.#options.translator.counters);
      if (now !== last) this.#options.translator.publishStatus(true);
      last = now;
    }, this.#options.statusIntervalMs ?? 5000);
    this.#statusTimer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    this.#wake?.();
    this.#opening?.abort();
    await this.#link?.close('the scanner bridge is stopping');
    await this.#loop;
    this.#options.translator.close('the scanner bridge stopped during the scan');
  }

  /** Sends a host command (arm, abort, ack) to the scanner. Rejects when the link is down. */
  async send(body: Extract<FrameBody, { type: 'arm' | 'abort' | 'ack' }>): Promise<void> {
    const link = this.#link;
    if (!link)
      throw new Error(
        `cannot send ${body.type} to the scanner: no link to ${this.#options.opener.describe} (disconnected)`,
      );
    // Before the write: the scanner may answer with its scan-end before write() resolves.
    if (body.type === 'abort') this.#options.translator.hostAbortSent(`abort: ${body.reason}`);
    await link.write(encodeFrame(body, this.#hostSeq++));
  }

  async #run(): Promise<void> {
    const { opener, translator, log } = this.#options;
    while (!this.#stopped) {
      let link: LineLink;
      try {
        this.#opening = new AbortController();
        link = await opener.open(this.#opening.signal);
      } catch (err) {
        if (this.#stopped) break;
        const delay = this.#backoff.next();
        // The status says what is wrong, not when the next try is: a countdown in it would be a
        // new status (a log line, a retained MQTT republish) at every retry.
        translator.link(
          'down',
          `${(err as Error).message}; retrying with backoff (at most every ${this.#options.reconnect.maxMs / 1000} s)`,
        );
        log.debug({ link: opener.describe, delay }, `scanner line stream: next attempt in ${delay} ms`);
        await this.#sleep(delay);
        continue;
      }
      if (this.#stopped) {
        await link.close('the scanner bridge is stopping');
        break;
      }
      this.#link = link;
      this.#hostSeq = 0;
      this.#connections++;
      log.info({ link: opener.describe }, `scanner line stream connected: ${opener.describe}`);
      translator.link('up', `connected: ${opener.describe}`);
      const reason = await this.#pump(link);
      this.#link = null;
      translator.link('down', reason);
      if (this.#stopped) break;
      const delay = this.#backoff.next();
      log.warn({ link: opener.describe, delay }, `scanner line stream lost (${reason}); reconnecting in ${delay} ms`);
      await this.#sleep(delay);
    }
  }

  /** Parses one link until it closes; returns why it closed. */
  async #pump(link: LineLink): Promise<string> {
    const { translator, log, counters, opener } = this.#options;
    const parser = new FrameParser({ counters, log, source: `scanner ${opener.describe}` });
    let lastByteAt = Date.now();
    let watchdog: NodeJS.Timeout | null = null;
    let firstFrame = true;
    let live = true;
    let bytesSeen = 0;
    const onData = (chunk: Buffer) => {
      if (!live) return;
      lastByteAt = Date.now();
      bytesSeen += chunk.length;
      parser.write(chunk);
    };
    link.input.on('data', onData);
    parser.on('error', (err: Error) =>
      log.error({ err }, `scanner ${opener.describe}: frame parser failed: ${err.message}`),
    );
    parser.on('data', (f: Frame) => {
      if (firstFrame) {
        // Only a link that carries valid frames counts as a successful connection.
        firstFrame = false;
        this.#backoff.reset();
      }
      if (this.#options.logFrames)
        log.debug({ type: f.type, seq: f.seq, offset: f.offset }, `frame ${f.type} seq ${f.seq}`);
      if (f.type === 'hello' && f.heartbeatMs > 0) {
        if (watchdog) clearInterval(watchdog);
        // Silence is counted in watchdog ticks with no byte in between, not in wall time: after
        // this process was stalled (CPU starved, long GC), timers run before pending input is
        // read, and a wall-clock check would drop a healthy link.
        // Ticks of a quarter interval: the link is closed after HEARTBEATS_MISSED intervals of
        // silence (at most a quarter interval later), as the protocol document says.
        let seen = bytesSeen;
        let emptyTicks = 0;
        const tickMs = Math.max(1, Math.floor(f.heartbeatMs / WATCHDOG_TICKS_PER_HEARTBEAT));
        watchdog = setInterval(() => {
          emptyTicks = bytesSeen === seen ? emptyTicks + 1 : 0;
          seen = bytesSeen;
          if (emptyTicks >= HEARTBEATS_MISSED * WATCHDOG_TICKS_PER_HEARTBEAT)
            void link.close(
              `no data from the scanner for ${Date.now() - lastByteAt} ms (${HEARTBEATS_MISSED} heartbeats of ${f.heartbeatMs} ms missed)`,
            );
        }, tickMs);
        watchdog.unref();
      }
      translator.frame(f);
      if (f.type === 'scanEnd' || f.type === 'hello') {
        this.send({ type: 'ack', ackedSeq: f.seq, ackedType: FrameType[f.type] }).catch((err: Error) =>
          log.warn({ err }, `could not acknowledge ${f.type} seq ${f.seq}: ${err.message}`),
        );
      }
    });
    const reason = await link.closed;
    live = false;
    link.input.off('data', onData);
    if (watchdog) clearInterval(watchdog);
    parser.end();
    return reason;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wake = done;
    });
  }
}
