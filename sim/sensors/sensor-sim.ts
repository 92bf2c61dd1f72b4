import { Rng } from '../xray/prng.js';
import { Co2ProbeSim, HeartbeatSim } from './devices.js';
import { ModbusSlave, ModbusTcpServer, serveRtu } from './modbus-slave.js';
import { drawSensedVehicle, type SensedVehicle, type VehicleDraw } from './physics.js';

export type SimSensorKind = 'co2' | 'heartbeat';

/** The part of a serialport 13 SerialPort the RTU side uses. */
interface SerialPortLike {
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  write(b: Buffer): boolean;
  on(ev: 'data', cb: (b: Buffer) => void): unknown;
  on(ev: 'error', cb: (e: Error) => void): unknown;
  readonly isOpen: boolean;
}

/**
 * A simulated CO2 probe or heartbeat detector: its registers (device), its Modbus application
 * layer (slave, with switchable faults), served over Modbus TCP and/or Modbus RTU on a serial
 * port (a socat pty in tests and the demo). Tell it which vehicle is at the lane with
 * `vehicleArrives` (the demo does so from the scanner simulator's 'vehicle' event).
 */
export class SensorSimulator {
  readonly device: Co2ProbeSim | HeartbeatSim;
  readonly slave: ModbusSlave;
  readonly #tcp: ModbusTcpServer;
  readonly #rng: Rng;
  #serial: { port: SerialPortLike; rtu: { stop(): void } } | null = null;
  tcpAddress: { host: string; port: number } | null = null;

  constructor(
    readonly kind: SimSensorKind,
    opts: { unitId?: number; seed?: number } = {},
  ) {
    const seed = opts.seed ?? 1;
    this.device = kind === 'co2' ? new Co2ProbeSim(seed) : new HeartbeatSim(seed);
    this.slave = new ModbusSlave(opts.unitId ?? 1, this.device);
    this.#tcp = new ModbusTcpServer(this.slave);
    this.#rng = new Rng(seed, 11);
  }

  /** Serves Modbus TCP on 127.0.0.1 (port 0: any free port). */
  async listenTcp(port = 0, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    this.tcpAddress = await this.#tcp.listen(port, host);
    return this.tcpAddress;
  }

  /** Serves Modbus RTU on a serial port (8 data bits, no parity, 1 stop bit). */
  async openSerial(path: string, baudRate = 9600): Promise<void> {
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path, baudRate, autoOpen: false }) as unknown as SerialPortLike;
    await new Promise<void>((resolve, reject) =>
      port.open((err) =>
        err ? reject(new Error(`sim ${this.kind}: cannot open serial port ${path}: ${err.message}`)) : resolve(),
      ),
    );
    port.on('error', () => {});
    // One character at 9600 baud 8N1 is ~1 ms: 3.5 characters of silence end a frame.
    this.#serial = {
      port,
      rtu: serveRtu(this.slave, port, { silenceMs: Math.max(5, Math.ceil((3.5 * 10 * 1000) / baudRate) + 2) }),
    };
  }

  /** Draws how the vehicle meets this sensor (time shut in, disturbances, noise) and serves it. */
  vehicleArrives(v: VehicleDraw, overrides: Partial<SensedVehicle> = {}): SensedVehicle {
    const sensed = { ...drawSensedVehicle(v, this.#rng), ...overrides };
    this.device.setVehicle(sensed);
    return sensed;
  }

  /** The same vehicle as another simulator drew it (the CO2 probe and detector see one vehicle). */
  setVehicle(v: SensedVehicle | null): void {
    this.device.setVehicle(v);
  }

  vehicleLeaves(): void {
    this.device.setVehicle(null);
  }

  async closeSerial(): Promise<void> {
    const s = this.#serial;
    this.#serial = null;
    if (!s) return;
    s.rtu.stop();
    if (s.port.isOpen) await new Promise<void>((r) => s.port.close(() => r()));
  }

  async stop(): Promise<void> {
    await this.closeSerial();
    await this.#tcp.close();
  }
}
