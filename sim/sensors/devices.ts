import { CO2_DEFAULT_MAP, HEARTBEAT_DEFAULT_MAP } from '../../config/schema/sensors.js';
import { Rng } from '../xray/prng.js';
import type { RegisterSource } from './modbus-slave.js';
import { ambientCo2Ppm, heartbeatScore, probeCo2Ppm, type SensedVehicle } from './physics.js';

/** Faults of the sensing itself (the Modbus faults are the slave's). */
export interface SensingFaults {
  /** Write the error value 0xFFFF into the main value register (an NDIR cell gone bad). */
  outOfRange: boolean;
  /** Set the status word's fault bit. */
  sensorFault: boolean;
}

/**
 * A register table: the device's values by address at the moment of a read, built by `values`.
 * Addresses not in the table answer exception 2 (illegal data address).
 */
abstract class SimSensor implements RegisterSource {
  readonly sensing: SensingFaults = { outOfRange: false, sensorFault: false };
  /** The vehicle in the lane now; null between vehicles. */
  vehicle: SensedVehicle | null = null;
  protected readonly rng: Rng;
  /** Outdoor air and probe drift while no vehicle is in the lane. */
  protected ambient = { outdoorPpm: 420, driftPpm: 0 };
  /** When the vehicle arrived: its load space keeps filling with CO2 while it waits. */
  protected arrivedAtMs = Date.now();

  constructor(
    readonly table: 'holding' | 'input',
    seed: number,
  ) {
    this.rng = new Rng(seed, 7);
  }

  /** The vehicle now at the probe and detector (the same vehicle the scanner simulator scans). */
  setVehicle(v: SensedVehicle | null): void {
    this.vehicle = v;
    this.arrivedAtMs = Date.now();
    if (v) this.ambient = { outdoorPpm: v.outdoorPpm, driftPpm: v.driftPpm };
  }

  protected abstract values(): number[];

  read(table: 'holding' | 'input', address: number, count: number): number[] | null {
    if (table !== this.table) return null;
    const regs = this.values();
    if (address + count > regs.length) return null;
    return regs.slice(address, address + count);
  }
}

const u16 = (v: number) => Math.max(0, Math.min(0xffff, Math.round(v)));
const s16 = (v: number) => Math.round(v) & 0xffff;

/** A CO2 probe on the default map: holding 0 ppm, 1 temperature ×0.1, 2 humidity ×0.1, 3 status. */
export class Co2ProbeSim extends SimSensor {
  constructor(seed = 1) {
    super(CO2_DEFAULT_MAP.table, seed);
  }

  /** The last ppm served, for the demo's log and the tests. */
  lastPpm = 0;

  /** The probe is not plugged in for this vehicle: it does not answer at all. */
  unplugged(): boolean {
    return this.vehicle?.probeDisconnected ?? false;
  }

  protected values(): number[] {
    const v = this.vehicle;
    const ppm = v
      ? probeCo2Ppm(v, this.rng, (Date.now() - this.arrivedAtMs) / 3_600_000)
      : ambientCo2Ppm(this.ambient, this.rng);
    this.lastPpm = ppm;
    const temperature = 18 + 2 * this.rng.normal() * 0.2 + (v && v.people > 0 && !v.doorOpened ? 3 : 0);
    const humidity = 55 + (v && v.people > 0 && !v.doorOpened ? 15 : 0) + this.rng.normal();
    const status = this.sensing.sensorFault ? 2 : 0;
    return [this.sensing.outOfRange ? 0xffff : u16(ppm), s16(temperature * 10), u16(humidity * 10), status];
  }
}

/** A heartbeat detector on the default map: input 0 score ×0.001, 1 signal quality ×0.001, 2 engine off, 3 status. */
export class HeartbeatSim extends SimSensor {
  constructor(seed = 1) {
    super(HEARTBEAT_DEFAULT_MAP.table, seed);
  }

  protected values(): number[] {
    const v = this.vehicle;
    const status = this.sensing.sensorFault ? 2 : 0;
    if (!v) {
      // No vehicle: ground noise only, the engine-off condition does not apply.
      const q = 0.5 + 0.1 * this.rng.normal();
      return [
        this.sensing.outOfRange ? 0xffff : u16(20 + 10 * Math.abs(this.rng.normal())),
        u16(Math.max(0, Math.min(1, q)) * 1000),
        0,
        status,
      ];
    }
    const { score, signalQuality } = heartbeatScore(v, this.rng);
    // An engine left running drowns the heartbeat: the detector says so and its score is meaningless.
    const shown = v.engineRunning ? 0.5 + 0.4 * this.rng.next() : score;
    return [
      this.sensing.outOfRange ? 0xffff : u16(shown * 1000),
      u16(signalQuality * 1000),
      v.engineRunning ? 0 : 1,
      status,
    ];
  }
}
