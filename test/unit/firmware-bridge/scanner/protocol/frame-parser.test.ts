import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../../../../firmware-bridge/scanner/protocol/crc32c.js';
import { FrameParser } from '../../../../../firmware-bridge/scanner/protocol/frame-parser.js';
import {
  encodeFrame,
  HEADER_BYTES,
  sealFrame,
  SYNC0,
  type Frame,
  type LineFrame,
} from '../../../../../firmware-bridge/scanner/protocol/frames.js';

function line(seq: number, lineIndex: number, channels = 8, dual = true): Buffer {
  const high = Uint16Array.from({ length: channels }, (_, c) => (lineIndex * 100 + c) & 0xffff);
  const low = dual ? Uint16Array.from({ length: channels }, (_, c) => (60000 - lineIndex - c) & 0xffff) : undefined;
  return encodeFrame({ type: 'line', scanKey: 7, lineIndex, channels, energyMask: dual ? 3 : 1, high, low }, seq);
}

async function parse(chunks: Buffer[], parser = new FrameParser()): Promise<{ frames: Frame[]; parser: FrameParser }> {
  const frames: Frame[] = [];
  parser.on('data', (f: Frame) => frames.push(f));
  await pipeline(Readable.from(chunks, { objectMode: false }), parser);
  return { frames, parser };
}

function splitEvery(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

const samplesOf = (f: LineFrame) => new Uint16Array(Uint8Array.from(f.samples).buffer);

describe('CRC-32C', () => {
  it('matches the Castagnoli check value and continues across pieces', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    const b = Buffer.from('the quick brown fox jumps over the lazy dog, twice over');
    expect(crc32c(b, 20, b.length, crc32c(b, 0, 20))).toBe(crc32c(b));
  });
});

describe('FrameParser', () => {
  it('decodes every frame type round trip', async () => {
    const stream = Buffer.concat([
      encodeFrame({ type: 'hello', heartbeatMs: 500, device: 'sim', firmware: '1.2' }, 0),
      encodeFrame({ type: 'status', state: 'ready', radiationOn: false, interlocksOk: true, speedKmh: 4.5 }, 1),
      encodeFrame(
        {
          type: 'scanBegin',
          scanKey: 7,
          channels: 8,
          energies: 2,
          pixelMm: 5,
          lineRateHz: 300,
          expectedLines: 3,
          startedAtMs: 1_700_000_000_000,
          speedKmh: null,
          scanId: 'S-1',
          plate: 'AB 123',
          containerCode: '',
          vehicleClass: 'truck',
        },
        2,
      ),
      line(3, 0),
      encodeFrame({ type: 'scanEnd', scanKey: 7, lineCount: 1, outcome: 'complete', endedAtMs: 1_700_000_000_500 }, 4),
      encodeFrame({ type: 'fault', scanKey: 7, code: 42, text: 'interlock open: door 2' }, 5),
      encodeFrame({ type: 'heartbeat', scannerTimeMs: 123.5 }, 6),
    ]);
    const { frames, parser } = await parse([stream]);
    expect(frames.map((f) => f.type)).toEqual([
      'hello',
      'status',
      'scanBegin',
      'line',
      'scanEnd',
      'fault',
      'heartbeat',
    ]);
    expect(frames[1]).toMatchObject({ state: 'ready', interlocksOk: true, radiationOn: false });
    expect((frames[1] as { speedKmh: number }).speedKmh).toBeCloseTo(4.5);
    expect(frames[2]).toMatchObject({
      scanKey: 7,
      channels: 8,
      energies: 2,
      plate: 'AB 123',
      scanId: 'S-1',
      vehicleClass: 'truck',
      speedKmh: null,
      startedAtMs: 1_700_000_000_000,
    });
    const l = frames[3] as LineFrame;
    expect([...samplesOf(l).subarray(0, 3)]).toEqual([0, 1, 2]);
    expect(samplesOf(l)[8]).toBe(60000);
    expect(frames[5]).toMatchObject({ code: 42, text: 'interlock open: door 2' });
    expect(parser.counters).toMatchObject({
      frames: 7,
      crcErrors: 0,
      resyncBytes: 0,
      seqGaps: 0,
      bytes: stream.length,
    });
  });

  it('reassembles frames split across chunks of any size', async () => {
    const stream = Buffer.concat(Array.from({ length: 20 }, (_, i) => line(i, i, 33)));
    for (const size of [1, 2, 7, 15, 16, 17, 100, 4096]) {
      const { frames, parser } = await parse(splitEvery(stream, size));
      expect(
        frames.map((f) => (f as LineFrame).lineIndex),
        `chunk size ${size}`,
      ).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(parser.counters.resyncBytes).toBe(0);
      expect(samplesOf(frames[19] as LineFrame)[32]).toBe((1900 + 32) & 0xffff);
    }
  });

  it('resyncs after garbage, counting exactly the skipped bytes', async () => {
    const garbage = Buffer.from([1, 2, 3, SYNC0, 0x00, SYNC0, SYNC0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
    const stream = Buffer.concat([
      garbage,
      line(0, 0),
      garbage.subarray(0, 5),
      line(1, 1),
      Buffer.from([SYNC0]),
      line(2, 2),
    ]);
    for (const size of [3, 1000]) {
      const { frames, parser } = await parse(splitEvery(stream, size));
      expect(frames).toHaveLength(3);
      expect(parser.counters.resyncBytes).toBe(garbage.length + 5 + 1);
    }
  });

  it('drops a frame whose payload CRC fails, counts it, and keeps its sequence number', async () => {
    const bad = line(1, 1);
    bad[HEADER_BYTES + 20] ^= 0x40;
    const logged: string[] = [];
    const log = { warn: (_o: unknown, m: string) => logged.push(m) } as never;
    const { frames, parser } = await parse([Buffer.concat([line(0, 0), bad, line(2, 2)])], new FrameParser({ log }));
    expect(frames.map((f) => (f as LineFrame).lineIndex)).toEqual([0, 2]);
    expect(parser.counters).toMatchObject({ crcErrors: 1, seqGaps: 0, frames: 2, resyncBytes: 0 });
    expect(logged.join('\n')).toMatch(
      new RegExp(`payload CRC mismatch in line frame seq 1 at byte ${line(0, 0).length}`),
    );
  });

  it('treats a header with a bad header CRC as garbage and finds the next frame', async () => {
    const bad = line(1, 1);
    bad[9] ^= 0x01; // length field corrupted
    const { frames, parser } = await parse([Buffer.concat([line(0, 0), bad, line(2, 2)])]);
    expect(frames.map((f) => (f as LineFrame).lineIndex)).toEqual([0, 2]);
    expect(parser.counters.resyncBytes).toBe(bad.length);
    expect(parser.counters).toMatchObject({ seqGaps: 1, lostFrames: 1 });
  });

  it('rejects impossible lengths: over the maximum, and wrong for the frame type', async () => {
    const huge = Buffer.alloc(HEADER_BYTES + 4);
    huge.set([SYNC0, 0x5c, 1, 0x04]);
    huge.writeUInt32LE(3, 4);
    huge.writeUInt32LE(10_000_000, 8);
    huge.writeUInt32LE(crc32c(huge, 0, 12), 12);
    // A line frame claiming 8 channels but carrying 6.
    const short = line(4, 4);
    const cut = Buffer.concat([short.subarray(0, short.length - 8)]);
    cut.writeUInt32LE(cut.length - HEADER_BYTES - 4, 8);
    cut.writeUInt32LE(0, cut.length - 4);
    sealFrame(cut);
    const { frames, parser } = await parse([
      Buffer.concat([line(0, 0), huge.subarray(0, HEADER_BYTES), line(1, 1), cut, line(5, 5)]),
    ]);
    expect(frames.map((f) => (f as LineFrame).lineIndex)).toEqual([0, 1, 5]);
    expect(parser.counters.lengthErrors).toBe(2);
    expect(parser.counters.crcErrors).toBe(0);
  });

  it('counts a header declaring an oversize payload once, as a length error, not also as a lost frame', async () => {
    const huge = Buffer.alloc(HEADER_BYTES + 4);
    huge.set([SYNC0, 0x5c, 1, 0x04]);
    huge.writeUInt32LE(1, 4);
    huge.writeUInt32LE(10_000_000, 8);
    huge.writeUInt32LE(crc32c(huge, 0, 12), 12);
    const { frames, parser } = await parse([Buffer.concat([line(0, 0), huge.subarray(0, HEADER_BYTES), line(2, 2)])]);
    expect(frames.map((f) => (f as LineFrame).lineIndex)).toEqual([0, 2]);
    expect(parser.counters).toMatchObject({ lengthErrors: 1, lostFrames: 0, seqGaps: 0 });
  });

  it('detects sequence gaps; hello restarts the sequence', async () => {
    const stream = Buffer.concat([
      line(10, 0),
      line(11, 1),
      line(14, 2),
      encodeFrame({ type: 'hello', heartbeatMs: 0, device: 'x', firmware: 'y' }, 0),
      line(1, 3),
      line(3, 4),
    ]);
    const { parser } = await parse([stream]);
    expect(parser.counters).toMatchObject({ seqGaps: 2, lostFrames: 3 });
  });

  it('counts a frame cut off by the end of the stream and passes nothing of it on', async () => {
    const f = line(1, 1);
    const { frames, parser } = await parse([Buffer.concat([line(0, 0), f.subarray(0, 30)])]);
    expect(frames).toHaveLength(1);
    expect(parser.counters.truncatedBytes).toBe(30);
    const r2 = await parse([Buffer.concat([line(0, 0), f.subarray(0, 9)])]);
    expect(r2.parser.counters.truncatedBytes).toBe(9);
  });

  describe('through the serialport mock binding', () => {
    afterEach(() => SerialPortMock.binding.reset());

    it('parses what the port reads, in small reads', async () => {
      SerialPortMock.binding.createPort('/dev/ttyMOCK0', { echo: false, record: false, maxReadSize: 13 });
      const port = new SerialPortMock({ path: '/dev/ttyMOCK0', baudRate: 115200 });
      await new Promise<void>((r, j) => port.on('open', r).on('error', j));
      const parser = port.pipe(new FrameParser());
      const frames: Frame[] = [];
      parser.on('data', (f: Frame) => frames.push(f));
      const bytes = Buffer.concat([Buffer.from([0, 0, 7]), line(0, 0, 100), line(1, 1, 100)]);
      port.port!.emitData(bytes);
      await expect.poll(() => frames.length).toBe(2);
      expect(parser.counters.resyncBytes).toBe(3);
      await new Promise<void>((r) => port.close(() => r()));
    });
  });
});

describe('docs/protocols/scanner-line-protocol.md', () => {
  it('its worked example frames are what the encoder produces', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(
      new URL('../../../../../docs/protocols/scanner-line-protocol.md', import.meta.url),
      'utf8',
    );
    const blocks = [...doc.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => /^\s*0 {2}a5 5c/m.test(b));
    const hex = (b: string) =>
      Buffer.from(
        b
          .split('\n')
          .filter((l) => /^\s*\d+ {2}[0-9a-f]{2}/.test(l))
          .map((l) =>
            l
              .trim()
              .replace(/^\d+\s+/, '')
              .replace(/ /g, ''),
          )
          .join(''),
        'hex',
      );
    expect(blocks).toHaveLength(2);
    expect(hex(blocks[0])).toEqual(
      encodeFrame(
        {
          type: 'line',
          scanKey: 7,
          lineIndex: 3,
          channels: 4,
          energyMask: 3,
          high: new Uint16Array([65535, 40000, 1234, 65535]),
          low: new Uint16Array([65535, 30000, 800, 65535]),
        },
        42,
      ),
    );
    expect(hex(blocks[1])).toEqual(encodeFrame({ type: 'ack', ackedSeq: 42, ackedType: 5 }, 3));
  });
});
