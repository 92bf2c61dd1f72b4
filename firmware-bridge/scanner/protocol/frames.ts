/**
 * Scanner line protocol, version 1 (docs/protocols/scanner-line-protocol.md): frame layout,
 * frame types and their payloads. All integers little-endian.
 *
 *   0  u8   sync 0 (0xA5)      4  u32 sequence number     12 u32 header CRC-32C of bytes 0-11
 *   1  u8   sync 1 (0x5C)      8  u32 payload length      16 ... payload
 *   2  u8   version (1)                                   16+len u32 CRC-32C of the payload
 *   3  u8   frame type
 */

import { endianness } from 'node:os';
import { crc32c as crc32cOf } from './crc32c.js';

export const SYNC0 = 0xa5;
export const SYNC1 = 0x5c;
export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 16;
export const TRAILER_BYTES = 4;
/** Largest payload a version 1 sender may put in a frame. */
export const MAX_PAYLOAD = 65_536;
const MAX_CHANNELS = 4096;
/** Bytes before the samples in a line payload. */
const LINE_HEADER_BYTES = 12;

export const FrameType = {
  hello: 0x01,
  status: 0x02,
  scanBegin: 0x03,
  line: 0x04,
  scanEnd: 0x05,
  fault: 0x06,
  heartbeat: 0x07,
  arm: 0x81,
  abort: 0x82,
  ack: 0x83,
} as const;
export type FrameTypeName = keyof typeof FrameType;

const NAMES = new Map<number, FrameTypeName>(Object.entries(FrameType).map(([k, v]) => [v, k as FrameTypeName]));
export function frameTypeName(code: number): FrameTypeName | undefined {
  return NAMES.get(code);
}

/** scan-begin flags (byte 7), bit 0: the scan is sent again after its scan-end went unacknowledged. */
const SCAN_BEGIN_RESENT = 0x01;

/** Energy bits of a line frame. */
const ENERGY_HIGH = 0x01;
export const ENERGY_LOW = 0x02;

export type ScannerState = 'idle' | 'ready' | 'scanning' | 'fault' | 'warming-up';
const STATES: readonly ScannerState[] = ['idle', 'ready', 'scanning', 'fault', 'warming-up'];

/** scan-end outcome byte. */
export type ScanEndOutcome = 'complete' | 'aborted-by-host' | 'aborted-by-scanner';
const OUTCOMES: readonly ScanEndOutcome[] = ['complete', 'aborted-by-host', 'aborted-by-scanner'];

export interface FrameBase {
  seq: number;
  /** Byte offset of the frame's first sync byte in the stream, for logs. */
  offset: number;
  /** The whole frame as received (header, payload, CRC): a view, do not modify. */
  bytes: Uint8Array;
}

export interface HelloFrame extends FrameBase {
  type: 'hello';
  heartbeatMs: number;
  device: string;
  firmware: string;
}
export interface StatusFrame extends FrameBase {
  type: 'status';
  state: ScannerState;
  radiationOn: boolean;
  interlocksOk: boolean;
  speedKmh: number | null;
}
export interface ScanBeginFrame extends FrameBase {
  type: 'scanBegin';
  scanKey: number;
  channels: number;
  energies: 1 | 2;
  pixelMm: number;
  lineRateHz: number;
  /** 0 when the scanner does not know the length in advance. */
  expectedLines: number;
  startedAtMs: number;
  speedKmh: number | null;
  scanId: string;
  plate: string;
  containerCode: string;
  vehicleClass: string;
  /**
   * Flags bit 0 (byte 7): the scanner sends this scan again, unchanged (same scan id and start
   * time), because its scan-end was never acknowledged on an earlier link. Absent: false.
   */
  resent?: boolean;
}
export interface LineFrame extends FrameBase {
  type: 'line';
  scanKey: number;
  lineIndex: number;
  channels: number;
  /** ENERGY_HIGH and/or ENERGY_LOW. */
  energyMask: number;
  /** uint16 LE samples, high energy channels first then low: a byte view into `bytes`. */
  samples: Uint8Array;
}
export interface ScanEndFrame extends FrameBase {
  type: 'scanEnd';
  scanKey: number;
  lineCount: number;
  outcome: ScanEndOutcome;
  endedAtMs: number;
}
export interface FaultFrame extends FrameBase {
  type: 'fault';
  scanKey: number;
  code: number;
  text: string;
}
export interface HeartbeatFrame extends FrameBase {
  type: 'heartbeat';
  scannerTimeMs: number;
}
export interface ArmFrame extends FrameBase {
  type: 'arm';
}
export interface AbortFrame extends FrameBase {
  type: 'abort';
  reason: string;
}
export interface AckFrame extends FrameBase {
  type: 'ack';
  ackedSeq: number;
  ackedType: number;
}

export type Frame =
  | HelloFrame
  | StatusFrame
  | ScanBeginFrame
  | LineFrame
  | ScanEndFrame
  | FaultFrame
  | HeartbeatFrame
  | ArmFrame
  | AbortFrame
  | AckFrame;

/** What a sender puts in a frame: the payload fields without seq/offset/bytes. */
type Body<F> = F extends FrameBase ? Omit<F, keyof FrameBase> : never;
export type FrameBody = Body<Frame>;
export type LineBody = Omit<Body<LineFrame>, 'samples'> & { high: Uint16Array; low?: Uint16Array };

/** A payload that its header's type cannot have: wrong length or field value. */
export class PayloadError extends Error {
  constructor(
    readonly kind: 'length' | 'value',
    message: string,
  ) {
    super(message);
    this.name = 'PayloadError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const enc = new TextEncoder();

function str8(view: DataView, bytes: Uint8Array, at: number, what: string): [string, number] {
  if (at + 1 > bytes.length) throw new PayloadError('length', `${what}: string length byte beyond payload end`);
  const n = view.getUint8(at);
  if (at + 1 + n > bytes.length) throw new PayloadError('length', `${what}: ${n}-byte string runs past payload end`);
  return [utf8.decode(bytes.subarray(at + 1, at + 1 + n)), at + 1 + n];
}

function needLength(name: string, len: number, min: number, exact = false): void {
  if (exact ? len !== min : len < min)
    throw new PayloadError('length', `${name} payload of ${len} bytes, expected ${exact ? '' : 'at least '}${min}`);
}

const nanToNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

/**
 * Decodes the payload of a frame whose header and CRCs were checked.
 * Throws PayloadError when the payload cannot belong to its type.
 */
export function decodePayload(type: FrameTypeName, frame: Uint8Array, base: FrameBase): Frame {
  if (type === 'line') return decodeLine(frame, base);
  const p = frame.subarray(HEADER_BYTES, frame.length - TRAILER_BYTES);
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const len = p.length;
  switch (type) {
    case 'scanBegin': {
      needLength('scan-begin', len, 32 + 4);
      const channels = v.getUint16(4, true);
      const energies = v.getUint8(6);
      if (channels === 0 || channels > MAX_CHANNELS)
        throw new PayloadError('value', `scan-begin channel count ${channels} outside 1-${MAX_CHANNELS}`);
      if (energies !== 1 && energies !== 2)
        throw new PayloadError('value', `scan-begin energies ${energies}, expected 1 or 2`);
      const [scanId, a1] = str8(v, p, 32, 'scan-begin scan id');
      const [plate, a2] = str8(v, p, a1, 'scan-begin plate');
      const [containerCode, a3] = str8(v, p, a2, 'scan-begin container code');
      const [vehicleClass] = str8(v, p, a3, 'scan-begin vehicle class');
      return {
        ...base,
        type,
        scanKey: v.getUint32(0, true),
        channels,
        energies,
        pixelMm: v.getFloat32(8, true),
        lineRateHz: v.getFloat32(12, true),
        expectedLines: v.getUint32(16, true),
        startedAtMs: v.getFloat64(20, true),
        speedKmh: nanToNull(v.getFloat32(28, true)),
        scanId,
        plate,
        containerCode,
        vehicleClass,
        ...((v.getUint8(7) & SCAN_BEGIN_RESENT) !== 0 ? { resent: true } : {}),
      };
    }
    case 'scanEnd': {
      needLength('scan-end', len, 20, true);
      const o = v.getUint8(8);
      if (o >= OUTCOMES.length)
        throw new PayloadError('value', `scan-end outcome ${o} unknown (0-${OUTCOMES.length - 1})`);
      return {
        ...base,
        type,
        scanKey: v.getUint32(0, true),
        lineCount: v.getUint32(4, true),
        outcome: OUTCOMES[o],
        endedAtMs: v.getFloat64(12, true),
      };
    }
    case 'hello': {
      needLength('hello', len, 6);
      const [device, a1] = str8(v, p, 4, 'hello device');
      const [firmware] = str8(v, p, a1, 'hello firmware');
      return { ...base, type, heartbeatMs: v.getUint16(0, true), device, firmware };
    }
    case 'status': {
      needLength('status', len, 8, true);
      const s = v.getUint8(0);
      if (s >= STATES.length) throw new PayloadError('value', `status state ${s} unknown (0-${STATES.length - 1})`);
      const flags = v.getUint8(1);
      return {
        ...base,
        type,
        state: STATES[s],
        radiationOn: (flags & 1) !== 0,
        interlocksOk: (flags & 2) !== 0,
        speedKmh: nanToNull(v.getFloat32(4, true)),
      };
    }
    case 'fault': {
      needLength('fault', len, 8);
      const n = v.getUint16(6, true);
      needLength('fault', len, 8 + n, true);
      return {
        ...base,
        type,
        scanKey: v.getUint32(0, true),
        code: v.getUint16(4, true),
        text: utf8.decode(p.subarray(8, 8 + n)),
      };
    }
    case 'heartbeat':
      needLength('heartbeat', len, 8, true);
      return { ...base, type, scannerTimeMs: v.getFloat64(0, true) };
    case 'arm':
      needLength('arm', len, 0, true);
      return { ...base, type };
    case 'abort': {
      needLength('abort', len, 2);
      const n = v.getUint16(0, true);
      needLength('abort', len, 2 + n, true);
      return { ...base, type, reason: utf8.decode(p.subarray(2, 2 + n)) };
    }
    case 'ack':
      needLength('ack', len, 8, true);
      return { ...base, type, ackedSeq: v.getUint32(0, true), ackedType: v.getUint8(4) };
  }
}

/** The hot path (thousands per second): no DataView, no object spread. */
function decodeLine(frame: Uint8Array, base: FrameBase): LineFrame {
  const P = HEADER_BYTES;
  const len = frame.length - HEADER_BYTES - TRAILER_BYTES;
  needLength('line', len, LINE_HEADER_BYTES);
  const u32 = (at: number) => (frame[at] | (frame[at + 1] << 8) | (frame[at + 2] << 16) | (frame[at + 3] << 24)) >>> 0;
  const channels = frame[P + 8] | (frame[P + 9] << 8);
  const energyMask = frame[P + 10];
  if (channels === 0 || channels > MAX_CHANNELS)
    throw new PayloadError('value', `line channel count ${channels} outside 1-${MAX_CHANNELS}`);
  if (energyMask !== ENERGY_HIGH && energyMask !== (ENERGY_HIGH | ENERGY_LOW))
    throw new PayloadError(
      'value',
      `line energy mask 0x${energyMask.toString(16)} is neither 0x1 (high) nor 0x3 (high+low)`,
    );
  const planes = energyMask === ENERGY_HIGH ? 1 : 2;
  needLength('line', len, LINE_HEADER_BYTES + channels * planes * 2, true);
  return {
    type: 'line',
    seq: base.seq,
    offset: base.offset,
    bytes: base.bytes,
    scanKey: u32(P),
    lineIndex: u32(P + 4),
    channels,
    energyMask,
    samples: frame.subarray(P + LINE_HEADER_BYTES, frame.length - TRAILER_BYTES),
  };
}

/** Allocates a whole frame for `payloadLength` bytes and fills in its header; payload and CRC are the caller's. */
function frameShell(type: FrameTypeName, seq: number, payloadLength: number): { frame: Buffer; view: DataView } {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payloadLength + TRAILER_BYTES);
  frame.fill(0, 0, HEADER_BYTES + payloadLength);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  frame[0] = SYNC0;
  frame[1] = SYNC1;
  frame[2] = PROTOCOL_VERSION;
  frame[3] = FrameType[type];
  view.setUint32(4, seq >>> 0, true);
  view.setUint32(8, payloadLength, true);
  return { frame, view };
}

function putStr8(frame: Buffer, at: number, s: string, what: string): number {
  const b = enc.encode(s);
  if (b.length > 255) throw new RangeError(`${what} is ${b.length} bytes in UTF-8; at most 255 fit in a frame`);
  frame[at] = b.length;
  frame.set(b, at + 1);
  return at + 1 + b.length;
}

const strBytes = (...xs: string[]) => xs.reduce((n, s) => n + 1 + Buffer.byteLength(s, 'utf8'), 0);

/** Builds one complete frame: header with its CRC, payload, payload CRC. Used by simulators and tests. */
export function encodeFrame(body: FrameBody | LineBody, seq: number): Buffer {
  const P = HEADER_BYTES;
  let out: { frame: Buffer; view: DataView };
  switch (body.type) {
    case 'line': {
      const b = body as LineBody;
      const planes = b.low ? 2 : 1;
      if (b.high.length !== b.channels || (b.low && b.low.length !== b.channels))
        throw new RangeError(`line ${b.lineIndex}: sample arrays must have ${b.channels} values`);
      out = frameShell('line', seq, LINE_HEADER_BYTES + b.channels * planes * 2);
      const { view: v, frame } = out;
      v.setUint32(P, b.scanKey >>> 0, true);
      v.setUint32(P + 4, b.lineIndex >>> 0, true);
      v.setUint16(P + 8, b.channels, true);
      v.setUint8(P + 10, b.low ? ENERGY_HIGH | ENERGY_LOW : ENERGY_HIGH);
      writeU16(frame, P + LINE_HEADER_BYTES, b.high);
      if (b.low) writeU16(frame, P + LINE_HEADER_BYTES + b.channels * 2, b.low);
      break;
    }
    case 'scanBegin': {
      out = frameShell('scanBegin', seq, 32 + strBytes(body.scanId, body.plate, body.containerCode, body.vehicleClass));
      const { view: v, frame } = out;
      v.setUint32(P, body.scanKey >>> 0, true);
      v.setUint16(P + 4, body.channels, true);
      v.setUint8(P + 6, body.energies);
      v.setUint8(P + 7, body.resent ? SCAN_BEGIN_RESENT : 0);
      v.setFloat32(P + 8, body.pixelMm, true);
      v.setFloat32(P + 12, body.lineRateHz, true);
      v.setUint32(P + 16, body.expectedLines >>> 0, true);
      v.setFloat64(P + 20, body.startedAtMs, true);
      v.setFloat32(P + 28, body.speedKmh ?? Number.NaN, true);
      let at = putStr8(frame, P + 32, body.scanId, 'scan id');
      at = putStr8(frame, at, body.plate, 'plate');
      at = putStr8(frame, at, body.containerCode, 'container code');
      putStr8(frame, at, body.vehicleClass, 'vehicle class');
      break;
    }
    case 'scanEnd': {
      out = frameShell('scanEnd', seq, 20);
      const v = out.view;
      v.setUint32(P, body.scanKey >>> 0, true);
      v.setUint32(P + 4, body.lineCount >>> 0, true);
      v.setUint8(P + 8, OUTCOMES.indexOf(body.outcome));
      v.setFloat64(P + 12, body.endedAtMs, true);
      break;
    }
    case 'hello': {
      out = frameShell('hello', seq, 4 + strBytes(body.device, body.firmware));
      out.view.setUint16(P, body.heartbeatMs, true);
      putStr8(out.frame, putStr8(out.frame, P + 4, body.device, 'device'), body.firmware, 'firmware');
      break;
    }
    case 'status': {
      out = frameShell('status', seq, 8);
      out.view.setUint8(P, STATES.indexOf(body.state));
      out.view.setUint8(P + 1, (body.radiationOn ? 1 : 0) | (body.interlocksOk ? 2 : 0));
      out.view.setFloat32(P + 4, body.speedKmh ?? Number.NaN, true);
      break;
    }
    case 'fault': {
      const t = Buffer.from(body.text, 'utf8');
      out = frameShell('fault', seq, 8 + t.length);
      out.view.setUint32(P, body.scanKey >>> 0, true);
      out.view.setUint16(P + 4, body.code, true);
      out.view.setUint16(P + 6, t.length, true);
      out.frame.set(t, P + 8);
      break;
    }
    case 'heartbeat':
      out = frameShell('heartbeat', seq, 8);
      out.view.setFloat64(P, body.scannerTimeMs, true);
      break;
    case 'arm':
      out = frameShell('arm', seq, 0);
      break;
    case 'abort': {
      const t = Buffer.from(body.reason, 'utf8');
      out = frameShell('abort', seq, 2 + t.length);
      out.view.setUint16(P, t.length, true);
      out.frame.set(t, P + 2);
      break;
    }
    case 'ack':
      out = frameShell('ack', seq, 8);
      out.view.setUint32(P, body.ackedSeq >>> 0, true);
      out.view.setUint8(P + 4, body.ackedType);
      break;
  }
  return sealFrame(out.frame);
}

/** Writes both CRCs of a frame whose header and payload are filled in. */
export function sealFrame(frame: Buffer): Buffer {
  frame.writeUInt32LE(crc32cOf(frame, 0, 12), 12);
  frame.writeUInt32LE(crc32cOf(frame, HEADER_BYTES, frame.length - TRAILER_BYTES), frame.length - TRAILER_BYTES);
  return frame;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function writeU16(frame: Buffer, at: number, values: Uint16Array): void {
  if (LITTLE_ENDIAN_HOST) frame.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
  else for (let i = 0; i < values.length; i++) frame.writeUInt16LE(values[i], at + i * 2);
}
