import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc16Modbus } from '../../core/crc16-modbus.js';

/** Modbus exception codes a device answers with. */
export const EXCEPTION = {
  illegalFunction: 1,
  illegalDataAddress: 2,
  illegalDataValue: 3,
  deviceFailure: 4,
  busy: 6,
} as const;

/** Register tables of a simulated device: 'holding' (function 3) and 'input' (function 4). */
export interface RegisterSource {
  /** Register values now (16-bit unsigned), by address; an address not present answers exception 2. */
  read(table: 'holding' | 'input', address: number, count: number): number[] | null;
  /** The device is cut off its line now (a probe unplugged): no answer at all. */
  unplugged?(): boolean;
}

/** How the device misbehaves, switchable while it runs (the CLI's faults and the tests). */
export interface SlaveFaults {
  /** Answer every read with this exception code (e.g. 4: device failure, 6: busy). */
  exception: number | null;
  /** Answer this late (a slow device: a gateway on a long RS-485 bus, a busy PLC). */
  delayMs: number;
  /** Do not answer at all. */
  silent: boolean;
}

export interface SlaveCounters {
  requests: number;
  answered: number;
  exceptions: number;
  badCrc: number;
  otherUnit: number;
}

/**
 * The Modbus application layer of a simulated device: a request PDU in, a response PDU out (or
 * null: no answer). Functions 3 and 4 are served from the register source; anything else gets
 * exception 1, an address outside the map exception 2, a count outside 1-125 exception 3.
 */
export class ModbusSlave {
  readonly faults: SlaveFaults = { exception: null, delayMs: 0, silent: false };
  readonly counters: SlaveCounters = { requests: 0, answered: 0, exceptions: 0, badCrc: 0, otherUnit: 0 };

  constructor(
    readonly unitId: number,
    readonly registers: RegisterSource,
  ) {}

  /** The answer to one request PDU, after the configured delay; null for no answer. */
  async answer(pdu: Buffer): Promise<Buffer | null> {
    this.counters.requests++;
    if (this.faults.silent || this.registers.unplugged?.()) return null;
    if (this.faults.delayMs > 0) await sleep(this.faults.delayMs);
    const out = this.#pdu(pdu);
    if (out[0] & 0x80) this.counters.exceptions++;
    this.counters.answered++;
    return out;
  }

  #pdu(pdu: Buffer): Buffer {
    const fc = pdu[0];
    const exception = (code: number) => Buffer.from([fc | 0x80, code]);
    if (fc !== 3 && fc !== 4) return exception(EXCEPTION.illegalFunction);
    if (this.faults.exception !== null) return exception(this.faults.exception);
    if (pdu.length < 5) return exception(EXCEPTION.illegalDataValue);
    const address = pdu.readUInt16BE(1);
    const count = pdu.readUInt16BE(3);
    if (count < 1 || count > 125) return exception(EXCEPTION.illegalDataValue);
    const values = this.registers.read(fc === 3 ? 'holding' : 'input', address, count);
    if (!values || values.length !== count) return exception(EXCEPTION.illegalDataAddress);
    const out = Buffer.alloc(2 + count * 2);
    out[0] = fc;
    out[1] = count * 2;
    for (let i = 0; i < count; i++) out.writeUInt16BE(values[i] & 0xffff, 2 + i * 2);
    return out;
  }
}

/** Modbus TCP server (MBAP header, port 502 on a real device) for one slave. */
export class ModbusTcpServer {
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();

  constructor(readonly slave: ModbusSlave) {}

  async listen(port: number, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    const server = createServer((s) => this.#serve(s));
    this.#server = server;
    server.listen(port, host);
    await once(server, 'listening');
    const a = server.address() as { port: number };
    return { host, port: a.port };
  }

  /** Stops listening and drops every connection (a device switched off). */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // MBAP: transaction (2), protocol 0 (2), length (2) of unit + PDU, unit (1), PDU.
      while (buf.length >= 7) {
        const len = buf.readUInt16BE(4);
        if (buf.readUInt16BE(2) !== 0 || len < 2 || len > 254) {
          socket.destroy(); // not Modbus: a real device drops the connection
          return;
        }
        if (buf.length < 6 + len) break;
        const tid = buf.readUInt16BE(0);
        const unit = buf[6];
        const pdu = buf.subarray(7, 6 + len);
        buf = buf.subarray(6 + len);
        // A TCP device answers any unit id, or 0/255 meaning "this device".
        void this.slave.answer(Buffer.from(pdu)).then((res) => {
          if (!res || socket.destroyed) return;
          const head = Buffer.alloc(7);
          head.writeUInt16BE(tid, 0);
          head.writeUInt16BE(0, 2);
          head.writeUInt16BE(res.length + 1, 4);
          head[6] = unit;
          socket.write(Buffer.concat([head, res]));
        });
      }
    });
  }
}

/** Byte stream of a serial port (serialport's SerialPort, or anything duplex). */
export interface ByteLink {
  write(b: Buffer): unknown;
  on(ev: 'data', cb: (b: Buffer) => void): unknown;
}

/**
 * Modbus RTU framing on a serial line for one slave: frames are the unit id, the PDU and a
 * CRC-16 (low byte first). Requests of functions 3, 4, 6 (8 bytes) and 16 (by its byte count)
 * are cut by length; others at a 3.5-character silence. A frame with a bad CRC is dropped and
 * counted, and the parser resyncs on the next byte; frames for other units are ignored.
 */
export function serveRtu(slave: ModbusSlave, link: ByteLink, opts: { silenceMs?: number } = {}): { stop(): void } {
  let buf = Buffer.alloc(0);
  let gap: NodeJS.Timeout | null = null;
  let stopped = false;
  const frameLength = (b: Buffer): number | null => {
    if (b.length < 2) return null;
    const fc = b[1];
    if (fc === 3 || fc === 4 || fc === 6 || fc === 5) return 8;
    if (fc === 16 || fc === 15) return b.length >= 7 ? 9 + b[6] : null;
    return -1; // unknown length: cut at silence
  };
  const handle = (frame: Buffer) => {
    if (frame.length < 4 || crc16Modbus(frame, frame.length - 2) !== frame.readUInt16LE(frame.length - 2)) {
      slave.counters.badCrc++;
      return false;
    }
    const unit = frame[0];
    if (unit !== slave.unitId && unit !== 0) {
      slave.counters.otherUnit++;
      return true;
    }
    void slave.answer(frame.subarray(1, frame.length - 2)).then((res) => {
      if (!res || stopped || unit === 0) return; // broadcasts are never answered
      const out = Buffer.alloc(res.length + 3);
      out[0] = unit;
      res.copy(out, 1);
      out.writeUInt16LE(crc16Modbus(out, out.length - 2), out.length - 2);
      link.write(out);
    });
    return true;
  };
  const drain = () => {
    for (;;) {
      const n = frameLength(buf);
      if (n === null || n === -1 || buf.length < n) return;
      if (handle(buf.subarray(0, n))) buf = buf.subarray(n);
      else buf = buf.subarray(1); // resync
    }
  };
  link.on('data', (chunk: Buffer) => {
    if (stopped) return;
    buf = Buffer.concat([buf, chunk]);
    if (buf.length > 512) buf = buf.subarray(buf.length - 256); // a line of noise: keep the tail only
    drain();
    if (gap) clearTimeout(gap);
    gap = setTimeout(() => {
      // Silence: whatever is left is one frame (unknown function) or noise.
      if (buf.length > 0) handle(buf);
      buf = Buffer.alloc(0);
    }, opts.silenceMs ?? 20);
  });
  return {
    stop() {
      stopped = true;
      if (gap) clearTimeout(gap);
    },
  };
}
