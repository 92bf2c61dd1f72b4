import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../../../firmware-bridge/scanner/protocol/crc32c.js';
import { FrameParser } from '../../../../../firmware-bridge/scanner/protocol/frame-parser.js';
import {
  encodeFrame,
  HEADER_BYTES,
  MAX_PAYLOAD,
  SYNC0,
  SYNC1,
  type Frame,
} from '../../../../../firmware-bridge/scanner/protocol/frames.js';
import { ScannerTranslator } from '../../../../../firmware-bridge/scanner/translator.js';
import { EventBus } from '../../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../../core/events.js';
import { silentLogger } from '../../../../../core/logger.js';

/** xorshift32: the fuzz input is the same on every run, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

function validFrame(r: ReturnType<typeof rng>, seq: number): Buffer {
  switch (r.int(6)) {
    case 0:
    case 1:
    case 2: {
      const channels = 1 + r.int(300);
      const dual = r.next() < 0.5;
      const mk = () => Uint16Array.from({ length: channels }, () => r.int(65536));
      return encodeFrame(
        {
          type: 'line',
          scanKey: r.int(4),
          lineIndex: r.int(2000),
          channels,
          energyMask: dual ? 3 : 1,
          high: mk(),
          low: dual ? mk() : undefined,
        },
        seq,
      );
    }
    case 3:
      return encodeFrame(
        {
          type: 'scanBegin',
          scanKey: r.int(4),
          channels: 1 + r.int(300),
          energies: r.next() < 0.5 ? 1 : 2,
          pixelMm: 5,
          lineRateHz: 300,
          expectedLines: r.int(100_000),
          startedAtMs: Date.now(),
          speedKmh: null,
          scanId: '',
          plate: 'P',
          containerCode: '',
          vehicleClass: '',
        },
        seq,
      );
    case 4:
      return encodeFrame(
        { type: 'scanEnd', scanKey: r.int(4), lineCount: r.int(5000), outcome: 'complete', endedAtMs: Date.now() },
        seq,
      );
    default:
      return encodeFrame({ type: 'fault', scanKey: r.int(4), code: r.int(100), text: 'x'.repeat(r.int(50)) }, seq);
  }
}

function mutate(r: ReturnType<typeof rng>, f: Buffer): Buffer {
  const m = Buffer.from(f);
  switch (r.int(5)) {
    case 0: // bit flips anywhere
      for (let k = 1 + r.int(4); k > 0; k--) m[r.int(m.length)] ^= 1 << r.int(8);
      return m;
    case 1: // truncated
      return m.subarray(0, r.int(m.length));
    case 2: {
      // a plausible header that lies about the length, with a valid header CRC
      m.writeUInt32LE(r.next() < 0.5 ? r.int(MAX_PAYLOAD * 4) : r.int(m.length), 8);
      m.writeUInt32LE(crc32c(m, 0, 12), 12);
      return m;
    }
    case 3: // sync bytes sprinkled in
      for (let k = 0; k < 8; k++) m[r.int(m.length)] = k & 1 ? SYNC1 : SYNC0;
      return m;
    default: // payload byte changed, header intact
      if (m.length > HEADER_BYTES + 4) m[HEADER_BYTES + r.int(m.length - HEADER_BYTES - 4)] ^= 0xff;
      return m;
  }
}

describe('FrameParser fuzz', () => {
  it('survives >= 1,000,000 random and mutated bytes: no crash, bounded memory, only CRC-valid frames out', () => {
    const r = rng(0xc0ffee);
    const parser = new FrameParser({ warnPerMinute: 0 });
    const bus = new EventBus<LaneEvents>(silentLogger());
    const translator = new ScannerTranslator({
      laneId: 'fuzz',
      device: 'scanner',
      bus,
      log: silentLogger(),
      defaultPixelMm: 5,
      scanTimeoutMs: 60_000,
      frameCounters: parser.counters,
    });
    let emitted = 0;
    let invalid = 0;
    parser.on('data', (f: Frame) => {
      emitted++;
      const b = Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
      const len = b.readUInt32LE(8);
      if (
        b[0] !== SYNC0 ||
        b[1] !== SYNC1 ||
        crc32c(b, 0, 12) !== b.readUInt32LE(12) ||
        b.length !== HEADER_BYTES + len + 4 ||
        crc32c(b, HEADER_BYTES, HEADER_BYTES + len) !== b.readUInt32LE(HEADER_BYTES + len)
      )
        invalid++;
      translator.frame(f);
    });
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const heap0 = used();
    let fed = 0;
    let seq = 0;
    let heapMax = 0;
    while (fed < 1_200_000) {
      const kind = r.int(10);
      let piece: Buffer;
      if (kind < 3)
        piece = Buffer.from(Array.from({ length: 1 + r.int(3000) }, () => (r.next() < 0.05 ? SYNC0 : r.int(256))));
      else if (kind < 6) piece = validFrame(r, seq++);
      else piece = mutate(r, validFrame(r, seq++));
      // Feed in random splits, as a serial port would deliver them.
      for (let i = 0; i < piece.length; ) {
        const n = 1 + r.int(2048);
        parser.write(piece.subarray(i, i + n));
        i += n;
      }
      fed += piece.length;
      if ((seq & 255) === 0) heapMax = Math.max(heapMax, used() - heap0);
    }
    parser.end();
    translator.close('fuzz done');
    expect(fed).toBeGreaterThanOrEqual(1_000_000);
    expect(invalid).toBe(0);
    expect(emitted).toBeGreaterThan(100);
    const c = parser.counters;
    expect(c.bytes).toBe(fed);
    expect(c.crcErrors + c.lengthErrors + c.resyncBytes).toBeGreaterThan(0);
    expect(c.frames).toBe(emitted);
    // A loose sanity bound over this short run; the memory bound is the next test's.
    expect(heapMax).toBeLessThan(256 * 1024 * 1024);
  });

  it("keeps the parser's memory bounded over 56 MB of input, and the same measure catches a parser that keeps every byte", () => {
    const FED = 56 * 1024 * 1024;
    const BOUND = 16 * 1024 * 1024;
    const real = retainedGrowth(new FrameParser({ warnPerMinute: 0 }), FED);
    expect(real.fed).toBeGreaterThanOrEqual(50 * 1024 * 1024);
    expect(real.frames).toBeGreaterThan(1000);
    // Growth from the first sample (after 8 MB, once the translator's scans have their size) to the end.
    expect(real.growth).toBeLessThan(BOUND);
    // A parser that keeps a copy of every byte it is given, otherwise the same: the bound fails it.
    const hoarder = retainedGrowth(new HoardingParser(), 32 * 1024 * 1024);
    expect(hoarder.growth).toBeGreaterThan(BOUND);
  }, 120_000);
});

/** The real parser, plus a copy of every chunk kept for good: the leak the bound must catch. */
class HoardingParser extends FrameParser {
  readonly kept: Buffer[] = [];

  constructor() {
    super({ warnPerMinute: 0 });
  }

  override _transform(chunk: Buffer, enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.kept.push(Buffer.from(chunk));
    super._transform(chunk, enc, cb);
  }
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Heap and buffers still reachable after a full collection. */
function retained(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Feeds `bytes` of valid, mutated and random frames (each write a fresh copy, as a socket
 * delivers them) through the parser, and returns how much reachable memory grew between the
 * first sample (after 8 MB) and the end. The frames are counted and dropped (the translator,
 * 50 times slower, has its own bound: one scan).
 */
function retainedGrowth(parser: FrameParser, bytes: number): { fed: number; frames: number; growth: number } {
  const r = rng(0x5eed);
  let frames = 0;
  parser.on('data', () => {
    frames++;
  });
  // A pool of pieces made once, fed over and over in random splits: generating 56 MB fresh would
  // take longer than parsing it.
  const pool: Buffer[] = [];
  for (let seq = 0, size = 0; size < 4 * 1024 * 1024; seq++) {
    const kind = r.int(10);
    const piece =
      kind < 2
        ? Buffer.from(Array.from({ length: 1 + r.int(3000) }, () => (r.next() < 0.05 ? SYNC0 : r.int(256))))
        : kind < 7
          ? validFrame(r, seq)
          : mutate(r, validFrame(r, seq));
    pool.push(piece);
    size += piece.length;
  }
  let fed = 0;
  let first = -1;
  for (let k = 0; fed < bytes; k++) {
    const piece = pool[k % pool.length]!;
    for (let i = 0; i < piece.length; ) {
      const n = 1 + r.int(4096);
      parser.write(Buffer.from(piece.subarray(i, i + n)));
      i += n;
    }
    fed += piece.length;
    if (first < 0 && fed >= 8 * 1024 * 1024) first = retained();
  }
  const last = retained();
  parser.end();
  return { fed, frames, growth: last - first };
}
