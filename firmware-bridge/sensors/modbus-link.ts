import modbusSerial from 'modbus-serial';
import type { ModbusTransportConfig } from '../../config/schema/sensors.js';

/** Why a Modbus request failed, as the device status reports it. */
export type ModbusFailure =
  /** The device answered with a Modbus exception: it is there, but refuses the request. */
  | { kind: 'exception'; code: number; message: string }
  /** No answer within the timeout: a slow or silent device, a wrong unit id, a broken RS-485 pair. */
  | { kind: 'timeout'; message: string }
  /** The port or connection is gone or cannot be opened. */
  | { kind: 'link'; message: string };

const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

// modbus-serial is CommonJS: its constructor is module.exports and module.exports.default.
const ModbusRTU = modbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

export class ModbusError extends Error {
  constructor(readonly failure: ModbusFailure) {
    super(failure.message);
    this.name = 'ModbusError';
  }
}

export function describeTransport(t: ModbusTransportConfig): string {
  return t.type === 'rtu' ? `RTU ${t.path} @ ${t.baudRate} baud ${t.parity}` : `TCP ${t.host}:${t.port}`;
}

/**
 * One Modbus link (RTU on a serial line or TCP) through modbus-serial: open with a timeout,
 * read a block of holding or input registers within the request timeout, and every failure
 * turned into a ModbusError that says which kind it is and where.
 */
export class ModbusLink {
  readonly describe: string;
  #client: ModbusClient | null = null;

  constructor(
    readonly transport: ModbusTransportConfig,
    readonly unitId: number,
    readonly timeoutMs: number,
  ) {
    this.describe = `${describeTransport(transport)} unit ${unitId}`;
  }

  get isOpen(): boolean {
    return this.#client?.isOpen ?? false;
  }

  async open(): Promise<void> {
    await this.close();
    const client = new ModbusRTU();
    // A link that fails later (cable pulled) surfaces as errors of the next request; keep the
    // emitter from throwing meanwhile.
    client.on('error', () => {});
    const t = this.transport;
    try {
      if (t.type === 'rtu')
        await client.connectRTUBuffered(t.path, {
          baudRate: t.baudRate,
          parity: t.parity,
          stopBits: t.stopBits,
          dataBits: 8,
        });
      else
        await withTimeout(
          client.connectTCP(t.host, { port: t.port, timeout: this.timeoutMs } as never),
          Math.max(1000, this.timeoutMs * 2),
          `no connection within ${Math.max(1000, this.timeoutMs * 2)} ms`,
        );
    } catch (err) {
      closeQuietly(client);
      const m = (err as Error).message;
      const hint =
        t.type === 'rtu' && /ENOENT|No such file/.test(m) ? ' (is the adapter plugged in and the path right?)' : '';
      throw new ModbusError({ kind: 'link', message: `cannot open ${describeTransport(t)}: ${m}${hint}` });
    }
    client.setID(this.unitId);
    client.setTimeout(this.timeoutMs);
    this.#client = client;
  }

  /** Reads `count` registers from `address` of the table; throws ModbusError. */
  async read(table: 'holding' | 'input', address: number, count: number): Promise<number[]> {
    const client = this.#client;
    const what = `${table} registers ${address}-${address + count - 1} of unit ${this.unitId} on ${describeTransport(this.transport)}`;
    if (!client?.isOpen)
      throw new ModbusError({ kind: 'link', message: `${describeTransport(this.transport)} is not open` });
    try {
      const r =
        table === 'holding'
          ? await client.readHoldingRegisters(address, count)
          : await client.readInputRegisters(address, count);
      if (r.data.length !== count)
        throw new ModbusError({
          kind: 'exception',
          code: 0,
          message: `reading ${what}: ${r.data.length} registers came back, expected ${count}`,
        });
      return r.data;
    } catch (err) {
      if (err instanceof ModbusError) throw err;
      const e = err as Error & { modbusCode?: number; errno?: string };
      if (typeof e.modbusCode === 'number') {
        const name = EXCEPTION_NAMES[e.modbusCode] ?? 'unknown exception';
        throw new ModbusError({
          kind: 'exception',
          code: e.modbusCode,
          message: `reading ${what}: Modbus exception ${e.modbusCode} (${name})`,
        });
      }
      if (e.errno === 'ETIMEDOUT' || /timed out/i.test(e.message))
        throw new ModbusError({ kind: 'timeout', message: `reading ${what}: no answer within ${this.timeoutMs} ms` });
      throw new ModbusError({ kind: 'link', message: `reading ${what}: ${e.message}` });
    }
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = null;
    if (c) await new Promise<void>((resolve) => closeQuietly(c, resolve));
  }
}

function closeQuietly(c: ModbusClient, done?: () => void): void {
  try {
    if (c.isOpen) c.close(() => done?.());
    else {
      c.destroy(() => done?.());
    }
  } catch {
    done?.();
  }
  // modbus-serial calls back only when the port closes; never wait on a port that is already gone.
  if (done) setTimeout(done, 500).unref();
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(message)), ms))),
  ]).finally(() => clearTimeout(t));
}
