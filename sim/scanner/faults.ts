import { SYNC0 } from '../../firmware-bridge/scanner/protocol/frames.js';

/** Faults the scanner simulator injects; rates are probabilities, drawn from a seeded generator. */
export interface FaultOptions {
  /** Per line frame: a burst of 1-64 garbage bytes (never the sync byte) is sent before it. */
  garbage?: number;
  /** Per line frame: one payload byte is flipped after the CRC was computed (a bad CRC). */
  badCrc?: number;
  /** Per line frame: it is never sent, though its sequence number is used (a lost line). */
  drop?: number;
  /** Per scan: the scanner reports a fault midway and ends the scan there. */
  faultRate?: number;
  /** Per scan: the connection drops midway, in the middle of a frame (TCP only). */
  disconnectRate?: number;
  /** Scans (0-based) that certainly end in a fault frame. */
  faultScans?: number[];
  /** Scans (0-based) that certainly lose the connection midway (TCP only). */
  disconnectScans?: number[];
}

/** Exactly what was injected, to compare with what the receiver counted. */
export interface InjectedFaults {
  garbageBursts: number;
  garbageBytes: number;
  badCrcLines: number;
  droppedLines: number;
  faultFrames: number;
  disconnects: number;
  /** Bytes of the frame cut off by each injected disconnect. */
  truncatedBytes: number;
}

export function noFaults(): InjectedFaults {
  return {
    garbageBursts: 0,
    garbageBytes: 0,
    badCrcLines: 0,
    droppedLines: 0,
    faultFrames: 0,
    disconnects: 0,
    truncatedBytes: 0,
  };
}

/** What happens to one line. */
export type LineFault = 'none' | 'drop' | 'bad-crc';

/** Per-scan plan, drawn before the scan is sent. */
export interface ScanFaultPlan {
  /** Line before which the scanner reports a fault and ends the scan; -1 for none. */
  faultAt: number;
  /** Line in the middle of which the connection drops; -1 for none. */
  disconnectAt: number;
}

/** xorshift32, seeded: the same seed injects the same faults. */
export class FaultDice {
  #s: number;

  constructor(seed: number) {
    this.#s = (seed >>> 0) ^ 0x9e3779b9 || 1;
  }

  next(): number {
    let s = this.#s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    this.#s = s >>> 0;
    return this.#s / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.next() < p;
  }

  /** Garbage that cannot be mistaken for a frame start: the sync byte never occurs in it. */
  garbage(): Buffer {
    const b = Buffer.allocUnsafe(1 + this.int(64));
    for (let i = 0; i < b.length; i++) {
      let v = this.int(256);
      if (v === SYNC0) v = 0;
      b[i] = v;
    }
    return b;
  }
}

export function planScan(
  f: FaultOptions,
  dice: FaultDice,
  index: number,
  width: number,
  allowDisconnect: boolean,
): ScanFaultPlan {
  const mid = () => Math.max(1, Math.floor(width * (0.25 + 0.5 * dice.next())));
  const fault = f.faultScans?.includes(index) || dice.chance(f.faultRate);
  const disconnect = allowDisconnect && !fault && (f.disconnectScans?.includes(index) || dice.chance(f.disconnectRate));
  return { faultAt: fault && width > 2 ? mid() : -1, disconnectAt: disconnect && width > 2 ? mid() : -1 };
}
