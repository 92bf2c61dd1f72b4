import { Transform, type TransformCallback } from 'node:stream';
import type { Logger } from '../../../core/logger.js';
import { crc32c } from './crc32c.js';
import {
  decodePayload,
  frameTypeName,
  HEADER_BYTES,
  MAX_PAYLOAD,
  PayloadError,
  PROTOCOL_VERSION,
  SYNC0,
  SYNC1,
  TRAILER_BYTES,
  type Frame,
} from './frames.js';

/** What a line stream's parser has seen; shared across reconnects by the service that owns it. */
export interface LineStreamCounters {
  /** Bytes received. */
  bytes: number;
  /** Frames passed on (CRC-valid, well formed). */
  frames: number;
  /** Frames with a valid header whose payload CRC failed: dropped. */
  crcErrors: number;
  /** Frames whose length is impossible (over the maximum, or wrong for their type): dropped. */
  lengthErrors: number;
  /** Well-formed length and CRC but a field value the protocol does not allow (e.g. 0 channels). */
  malformed: number;
  /** Valid frames of a version or type this build does not know: skipped. */
  unsupported: number;
  /** Times the sequence number jumped (frames never seen in between). */
  seqGaps: number;
  /** Sequence numbers never seen, summed over all gaps. */
  lostFrames: number;
  /** Bytes skipped while looking for the next frame start (garbage, corrupted headers). */
  resyncBytes: number;
  /** Bytes of a frame cut off by the end of the stream (link lost mid-frame). */
  truncatedBytes: number;
}

export function newCounters(): LineStreamCounters {
  return {
    bytes: 0,
    frames: 0,
    crcErrors: 0,
    lengthErrors: 0,
    malformed: 0,
    unsupported: 0,
    seqGaps: 0,
    lostFrames: 0,
    resyncBytes: 0,
    truncatedBytes: 0,
  };
}

export interface FrameParserOptions {
  /** Counters to add to; by default the parser's own. */
  counters?: LineStreamCounters;
  /** Where dropped frames are logged (with their byte offset). */
  log?: Logger;
  /** Names the stream in log lines, e.g. "scanner tcp 10.0.0.5:4001". */
  source?: string;
  /** At most this many warnings per kind of error per minute; the rest are counted only. */
  warnPerMinute?: number;
}

const State = { Seek: 0, Header: 1, Body: 2 } as const;
type State = (typeof State)[keyof typeof State];
const NOT_A_FRAME = -1;
const TOO_LONG = -2;

/**
 * Turns a byte stream of the scanner line protocol into decoded frames (object mode), whatever
 * carries the bytes (serial, TCP, a recording). Resynchronises on the sync marker after garbage;
 * a frame with a bad CRC or an impossible length is counted, logged with its byte offset and
 * dropped, never passed on. Each frame's buffer is allocated once from its length header: frames
 * wholly inside one chunk are views of that chunk, others are copied into their own buffer.
 */
export class FrameParser extends Transform {
  readonly counters: LineStreamCounters;
  readonly #log?: Logger;
  readonly #source: string;
  readonly #warnLimit: number;
  readonly #warned = new Map<string, { windowStart: number; count: number; suppressed: number }>();

  #state: State = State.Seek;
  /** Stream offset of chunk[0] of the chunk being consumed. */
  #base = 0;
  readonly #hdr = Buffer.alloc(HEADER_BYTES);
  #hdrFill = 0;
  #frame: Buffer | null = null;
  #fill = 0;
  /** Stream offset of the pending header or frame. */
  #start = 0;
  #expectSeq: number | null = null;

  constructor(opts: FrameParserOptions = {}) {
    super({ readableObjectMode: true, writableObjectMode: false, readableHighWaterMark: 256 });
    this.counters = opts.counters ?? newCounters();
    this.#log = opts.log;
    this.#source = opts.source ?? 'line stream';
    this.#warnLimit = opts.warnPerMinute ?? 20;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.#consume(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    const pending = this.#state === State.Header ? this.#hdrFill : this.#state === State.Body ? this.#fill : 0;
    if (pending > 0) {
      this.counters.truncatedBytes += pending;
      this.#warn(
        'truncated',
        this.#start,
        `${this.#source}: stream ended inside a frame at byte ${this.#start} (${pending} byte(s) dropped)`,
      );
    }
    this.#state = State.Seek;
    this.#frame = null;
    done();
  }

  #consume(chunk: Buffer): void {
    const c = this.counters;
    const n = chunk.length;
    c.bytes += n;
    let i = 0;
    while (i < n) {
      if (this.#state === State.Seek) {
        const j = chunk.indexOf(SYNC0, i);
        if (j < 0) {
          c.resyncBytes += n - i;
          break;
        }
        c.resyncBytes += j - i;
        i = j;
        this.#start = this.#base + i;
        if (n - i < HEADER_BYTES) {
          chunk.copy(this.#hdr, 0, i, n);
          this.#hdrFill = n - i;
          this.#state = State.Header;
          break;
        }
        const len = this.#checkHeader(chunk, i);
        if (len === NOT_A_FRAME) {
          c.resyncBytes += 1;
          i += 1;
          continue;
        }
        if (len === TOO_LONG) {
          i += HEADER_BYTES;
          continue;
        }
        const total = HEADER_BYTES + len + TRAILER_BYTES;
        if (n - i >= total) {
          this.#complete(chunk.subarray(i, i + total), this.#start);
          i += total;
          continue;
        }
        this.#frame = Buffer.allocUnsafe(total);
        chunk.copy(this.#frame, 0, i, n);
        this.#fill = n - i;
        this.#state = State.Body;
        break;
      } else if (this.#state === State.Header) {
        const take = Math.min(HEADER_BYTES - this.#hdrFill, n - i);
        chunk.copy(this.#hdr, this.#hdrFill, i, i + take);
        this.#hdrFill += take;
        i += take;
        if (this.#hdrFill < HEADER_BYTES) break;
        const len = this.#checkHeader(this.#hdr, 0);
        if (len === NOT_A_FRAME) {
          // Not a frame: look for the next sync byte inside what was taken as a header.
          const k = this.#hdr.indexOf(SYNC0, 1);
          if (k < 0) {
            c.resyncBytes += HEADER_BYTES;
            this.#state = State.Seek;
          } else {
            c.resyncBytes += k;
            this.#hdr.copyWithin(0, k, HEADER_BYTES);
            this.#hdrFill = HEADER_BYTES - k;
            this.#start += k;
          }
          continue;
        }
        this.#state = State.Seek;
        if (len === TOO_LONG) continue;
        const total = HEADER_BYTES + len + TRAILER_BYTES;
        this.#frame = Buffer.allocUnsafe(total);
        this.#hdr.copy(this.#frame, 0);
        this.#fill = HEADER_BYTES;
        this.#state = State.Body;
      } else {
        const frame = this.#frame!;
        const take = Math.min(frame.length - this.#fill, n - i);
        chunk.copy(frame, this.#fill, i, i + take);
        this.#fill += take;
        i += take;
        if (this.#fill === frame.length) {
          this.#state = State.Seek;
          this.#frame = null;
          this.#complete(frame, this.#start);
        }
      }
    }
    this.#base += n;
  }

  /** Payload length of a valid header at buf[at], or NOT_A_FRAME / TOO_LONG (counted and logged). */
  #checkHeader(buf: Buffer, at: number): number {
    if (buf[at + 1] !== SYNC1) return NOT_A_FRAME;
    if (crc32c(buf, at, at + 12) !== buf.readUInt32LE(at + 12)) return NOT_A_FRAME;
    const len = buf.readUInt32LE(at + 8);
    if (len > MAX_PAYLOAD) {
      // Counted once, as a length error: its header (CRC checked) names its sequence number, so
      // the next frame is not counted again as a lost one.
      this.counters.lengthErrors++;
      this.#expectSeq = (buf.readUInt32LE(at + 4) + 1) >>> 0;
      this.#warn(
        'length',
        this.#start,
        `${this.#source}: frame at byte ${this.#start} declares a ${len}-byte payload (at most ${MAX_PAYLOAD}); header skipped, resynchronising`,
      );
      return TOO_LONG;
    }
    return len;
  }

  /** A whole frame with a valid header: checks sequence, payload CRC and payload, then passes it on. */
  #complete(bytes: Buffer, offset: number): void {
    const c = this.counters;
    const version = bytes[2];
    const code = bytes[3];
    const seq = bytes.readUInt32LE(4);
    const name = frameTypeName(code);
    if (name === 'hello' || this.#expectSeq === null) {
      this.#expectSeq = (seq + 1) >>> 0;
    } else {
      if (seq !== this.#expectSeq) {
        const gap = (seq - this.#expectSeq) >>> 0;
        c.seqGaps++;
        if (gap < 0x80000000) c.lostFrames += gap;
        this.#warn(
          'seq',
          offset,
          `${this.#source}: sequence gap at byte ${offset}: expected ${this.#expectSeq}, got ${seq}${gap < 0x80000000 ? ` (${gap} frame(s) lost)` : ' (sequence went back)'}`,
        );
      }
      this.#expectSeq = (seq + 1) >>> 0;
    }
    const end = bytes.length - TRAILER_BYTES;
    if (crc32c(bytes, HEADER_BYTES, end) !== bytes.readUInt32LE(end)) {
      c.crcErrors++;
      this.#warn(
        'crc',
        offset,
        `${this.#source}: payload CRC mismatch in ${name ?? `type 0x${code.toString(16)}`} frame seq ${seq} at byte ${offset}; frame dropped`,
      );
      return;
    }
    if (version !== PROTOCOL_VERSION || name === undefined) {
      c.unsupported++;
      this.#warn(
        'unsupported',
        offset,
        `${this.#source}: frame at byte ${offset} has protocol version ${version} type 0x${code.toString(16)}; this build speaks version ${PROTOCOL_VERSION}; skipped`,
      );
      return;
    }
    let frame: Frame;
    try {
      frame = decodePayload(name, bytes, { seq, offset, bytes });
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      if (err.kind === 'length') c.lengthErrors++;
      else c.malformed++;
      this.#warn(
        err.kind,
        offset,
        `${this.#source}: ${name} frame seq ${seq} at byte ${offset} dropped: ${err.message}`,
      );
      return;
    }
    c.frames++;
    this.push(frame);
  }

  #warn(kind: string, offset: number, msg: string): void {
    if (!this.#log) return;
    const now = Date.now();
    let w = this.#warned.get(kind);
    if (!w || now - w.windowStart >= 60_000) {
      if (w && w.suppressed > 0)
        this.#log.warn(
          { kind, suppressed: w.suppressed },
          `${this.#source}: ${w.suppressed} more ${kind} error(s) in the last minute were counted but not logged`,
        );
      w = { windowStart: now, count: 0, suppressed: 0 };
      this.#warned.set(kind, w);
    }
    if (w.count++ < this.#warnLimit) this.#log.warn({ kind, offset }, msg);
    else w.suppressed++;
  }
}
