import type { LineBatch, ScanMeta } from '../../core/domain.js';
import type { LiveBeginMessage, LiveLinesMessage } from './messages.js';
import { downsampleBatch, liveGeometry, type LiveGeometry } from './scan-views.js';

/** Most live lines kept for a client that connects mid-scan (~ a 40 m vehicle at 5 mm, factor 4). */
const MAX_LIVE_LINES = 4096;

/**
 * The scan being received on one lane, downsampled for the live view. Lines are held until
 * `flush()` (called on a short timer) so the browser gets a few messages a second, not one per
 * scanner batch; all of the current scan is kept for consoles that connect mid-scan.
 */
export class LiveScan {
  readonly laneId: string;
  #begin: LiveBeginMessage | null = null;
  #geo: LiveGeometry = { factor: 1, height: 1 };
  #chunks: { firstIndex: number; count: number; high: Uint8Array; low?: Uint8Array }[] = [];
  #pending: { firstIndex: number; count: number; high: Uint8Array; low?: Uint8Array }[] = [];
  #lines = 0;

  constructor(laneId: string) {
    this.laneId = laneId;
  }

  get scanId(): string | null {
    return this.#begin?.scanId ?? null;
  }

  begin(meta: ScanMeta): LiveBeginMessage {
    this.#geo = liveGeometry(meta.channels);
    this.#begin = {
      laneId: this.laneId,
      scanId: meta.scanId,
      meta,
      factor: this.#geo.factor,
      height: this.#geo.height,
    };
    this.#chunks = [];
    this.#pending = [];
    this.#lines = 0;
    return this.#begin;
  }

  /** Takes a batch of the current scan; batches of another scan or with other channels are dropped. */
  add(batch: LineBatch): boolean {
    if (!this.#begin || batch.scanId !== this.#begin.scanId || batch.channels !== this.#begin.meta.channels)
      return false;
    const d = downsampleBatch(batch, this.#geo);
    if (!d) return true;
    if (this.#lines + d.count > MAX_LIVE_LINES) return true;
    this.#lines += d.count;
    this.#pending.push(d);
    this.#chunks.push(d);
    return true;
  }

  /** Lines received since the last flush, as one message, or null. */
  flush(): LiveLinesMessage | null {
    if (!this.#begin || this.#pending.length === 0) return null;
    const msg = this.#message(this.#pending);
    this.#pending = [];
    return msg;
  }

  /** Everything of the current scan, for a console that just connected. */
  snapshot(): { begin: LiveBeginMessage; lines: LiveLinesMessage | null } | null {
    if (!this.#begin) return null;
    return { begin: this.#begin, lines: this.#chunks.length ? this.#message(this.#chunks) : null };
  }

  #message(chunks: { firstIndex: number; count: number; high: Uint8Array; low?: Uint8Array }[]): LiveLinesMessage {
    // Chunks are consecutive unless lines were lost; the live view then shows them side by side.
    const h = this.#geo.height;
    const count = chunks.reduce((n, c) => n + c.count, 0);
    const high = new Uint8Array(count * h);
    const withLow = chunks.every((c) => c.low);
    const low = withLow ? new Uint8Array(count * h) : undefined;
    let off = 0;
    for (const c of chunks) {
      high.set(c.high, off);
      if (low && c.low) low.set(c.low, off);
      off += c.high.length;
    }
    return {
      laneId: this.laneId,
      scanId: this.#begin!.scanId,
      firstIndex: chunks[0]!.firstIndex,
      count,
      height: h,
      high: Buffer.from(high.buffer, high.byteOffset, high.byteLength).toString('base64'),
      ...(low ? { low: Buffer.from(low.buffer, low.byteOffset, low.byteLength).toString('base64') } : {}),
    };
  }
}
