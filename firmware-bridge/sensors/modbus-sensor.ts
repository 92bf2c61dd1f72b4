import type { SensorConfig } from '../../config/schema/sensors.js';
import { Backoff } from '../../core/backoff.js';
import type { DeviceState, DeviceStatus } from '../../core/domain.js';
import { deviceStatus } from '../../core/health.js';
import type { Logger } from '../../core/logger.js';
import type { SensorReading } from '../../core/senses.js';
import type { Service } from '../../core/service.js';
import { co2Reading } from './co2-translator.js';
import { heartbeatReading } from './heartbeat-translator.js';
import { ModbusError, ModbusLink } from './modbus-link.js';
import { blockOf } from './register-map.js';

export interface ModbusSensorOptions {
  laneId: string;
  sensor: SensorConfig;
  publishStatus: (s: DeviceStatus) => void;
  publishReading: (r: SensorReading) => void;
  log: Logger;
  /** Reconnect pacing; default 500 ms doubling to 30 s. */
  backoff?: Backoff;
}

export interface ModbusSensorCounters {
  polls: number;
  readings: number;
  exceptions: number;
  timeouts: number;
  linkErrors: number;
  opens: number;
}

/**
 * Polls one CO2 probe or heartbeat detector over Modbus RTU or TCP and puts its readings and its
 * health on the lane's bus (device `co2.<id>` / `heartbeat.<id>`). Each poll is one block read
 * bounded by the request timeout; a device that answers with exceptions stays connected and
 * says so (degraded); `offlineAfter` timeouts in a row report it offline and reopen the link;
 * a link that cannot be opened is disconnected and retried with backoff. Nothing here ever
 * waits on a scan: the pipeline uses whatever readings have arrived.
 */
export class ModbusSensorService implements Service {
  readonly name: string;
  readonly device: string;
  readonly counters: ModbusSensorCounters = {
    polls: 0,
    readings: 0,
    exceptions: 0,
    timeouts: 0,
    linkErrors: 0,
    opens: 0,
  };
  readonly #options: ModbusSensorOptions;
  readonly #link: ModbusLink;
  readonly #backoff: Backoff;
  readonly #block: { address: number; count: number };
  #stopped = true;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #last: { state: DeviceState; detail?: string } | null = null;
  #failures = 0;

  constructor(opts: ModbusSensorOptions) {
    this.#options = opts;
    const s = opts.sensor;
    this.device = `${s.kind}.${s.id}`;
    this.name = `sensor:${opts.laneId}:${this.device}`;
    this.#link = new ModbusLink(s.transport, s.unitId, s.timeoutMs);
    this.#backoff = opts.backoff ?? new Backoff(500, 30_000);
    this.#block = blockOf(s.registers);
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#status('starting', `polling ${this.#link.describe} every ${this.#options.sensor.pollMs} ms`);
    this.#loop = this.#run();
  }

  /**
   * Stops polling at once: a request in flight is abandoned (its answer or timeout is ignored),
   * so stopping never waits a whole request timeout.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    const loop = this.#loop;
    this.#loop = null;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([loop, new Promise<void>((r) => (timer = setTimeout(r, 100)))]);
    clearTimeout(timer);
    await this.#link.close();
  }

  async #run(): Promise<void> {
    const s = this.#options.sensor;
    while (!this.#stopped) {
      if (!this.#link.isOpen) {
        try {
          this.counters.opens++;
          await this.#link.open();
          if (this.#stopped) {
            // Stopped while the link was opening: stop() closed the link before it was open.
            await this.#link.close();
            break;
          }
        } catch (err) {
          if (this.#stopped) break;
          this.counters.linkErrors++;
          this.#status('disconnected', `${(err as Error).message}; retrying`);
          await this.#sleep(this.#backoff.next());
          continue;
        }
      }
      this.counters.polls++;
      try {
        const regs = await this.#link.read(s.registers.table, this.#block.address, this.#block.count);
        if (this.#stopped) break;
        const at = { device: s.id, laneId: this.#options.laneId, at: new Date().toISOString() };
        const reading =
          s.kind === 'co2'
            ? co2Reading(s.registers, this.#block, regs, at)
            : heartbeatReading(s.registers, this.#block, regs, at);
        this.counters.readings++;
        this.#failures = 0;
        this.#backoff.reset();
        this.#options.publishReading(reading);
        if (reading.quality === 'ok') this.#status('ok', `${this.#link.describe}`);
        else if (reading.quality === 'sensor-fault') this.#status('fault', `${this.#link.describe}: ${reading.detail}`);
        else this.#status('degraded', `${this.#link.describe}: ${reading.quality}: ${reading.detail}`);
        await this.#sleep(s.pollMs);
      } catch (err) {
        if (this.#stopped) break;
        // A translator error (a map that does not fit the block) is this device's fault, not the lane's.
        const f =
          err instanceof ModbusError
            ? err.failure
            : {
                kind: 'exception' as const,
                code: 0,
                message: `decoding the registers of ${this.device}: ${(err as Error).message}`,
              };
        this.#failures++;
        if (f.kind === 'exception') {
          // The device is there and answers: keep polling at the normal pace.
          this.counters.exceptions++;
          this.#status('degraded', `${f.message}; the device answers but gives no reading`);
          await this.#sleep(s.pollMs);
        } else if (f.kind === 'timeout') {
          this.counters.timeouts++;
          if (this.#failures >= s.offlineAfter) {
            this.#status('offline', `${f.message} (${this.#failures} polls in a row); reopening the link`);
            await this.#link.close();
            await this.#sleep(this.#backoff.next());
          } else {
            this.#status('degraded', `${f.message}`);
            await this.#sleep(s.pollMs);
          }
        } else {
          this.counters.linkErrors++;
          this.#status('disconnected', `${f.message}; reconnecting`);
          await this.#link.close();
          await this.#sleep(this.#backoff.next());
        }
      }
    }
  }

  #status(state: DeviceState, detail: string): void {
    // Said once per change; the runtime logs every device status change it sees.
    if (this.#last && this.#last.state === state && this.#last.detail === detail) return;
    this.#last = { state, detail };
    this.#options.log.debug(
      { device: this.device, state, counters: this.counters },
      `${this.device}: ${state}: ${detail}`,
    );
    this.#options.publishStatus(deviceStatus(this.device, state, detail));
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        this.#wake = null;
        resolve();
      };
    });
  }
}
