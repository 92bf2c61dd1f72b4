import { redactText } from './redact.js';
import type { DeviceState, DeviceStatus } from './domain.js';
import type { EventBus } from './event-bus.js';
import type { LaneEvents } from './events.js';

/** States that mean the lane cannot screen as designed; shown and published as degraded. */
const BAD: ReadonlySet<DeviceState> = new Set(['offline', 'disconnected', 'fault', 'unavailable', 'stalled', 'degraded']);

export interface LaneHealthSnapshot {
  laneId: string;
  /** ok: everything configured works; degraded: something is down but scans still go on;
   * detection-unavailable: scans are not screened by the model. */
  overall: 'ok' | 'degraded' | 'detection-unavailable';
  devices: DeviceStatus[];
  updatedAt: string;
}

/** Collects the latest status of each device of one lane. */
export class LaneHealth {
  readonly #devices = new Map<string, DeviceStatus>();
  #updatedAt = new Date().toISOString();
  readonly #listeners = new Set<(s: LaneHealthSnapshot) => void>();

  constructor(readonly laneId: string) {}

  /** Records the status; returns true if the device's state changed. */
  update(given: DeviceStatus): boolean {
    // Whoever built the status, what is kept (and so served and published) carries no credentials.
    const status: DeviceStatus = { ...given, ...(given.detail !== undefined ? { detail: redactText(given.detail) } : {}), ...(given.info ? { info: redactInfo(given.info) } : {}) };
    const prev = this.#devices.get(status.device);
    this.#devices.set(status.device, status);
    this.#updatedAt = new Date().toISOString();
    const changed = !prev || prev.state !== status.state || prev.detail !== status.detail;
    if (changed) for (const l of this.#listeners) l(this.snapshot());
    return changed;
  }

  get(device: string): DeviceStatus | undefined {
    return this.#devices.get(device);
  }

  onChange(listener: (s: LaneHealthSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): LaneHealthSnapshot {
    const devices = [...this.#devices.values()].sort((a, b) => a.device.localeCompare(b.device));
    const model = this.#devices.get('model');
    let overall: LaneHealthSnapshot['overall'] = 'ok';
    if (devices.some((d) => BAD.has(d.state))) overall = 'degraded';
    if (!model || model.state !== 'ok') overall = 'detection-unavailable';
    return { laneId: this.laneId, overall, devices, updatedAt: this.#updatedAt };
  }

  /** Keeps this health current from the bus's device.status events. */
  attach(bus: EventBus<LaneEvents>, owner = `lane-health:${this.laneId}`): () => void {
    return bus.on('device.status', owner, (s) => {
      this.update(s);
    });
  }
}

export function deviceStatus(device: string, state: DeviceState, detail?: string, info?: DeviceStatus['info']): DeviceStatus {
  // Details reach the log, /healthz and the retained MQTT status: no credentials in them.
  return { device, state, detail: detail === undefined ? undefined : redactText(detail), since: new Date().toISOString(), ...(info ? { info: redactInfo(info) } : {}) };
}

function redactInfo(info: NonNullable<DeviceStatus['info']>): NonNullable<DeviceStatus['info']> {
  const out: NonNullable<DeviceStatus['info']> = {};
  for (const [k, v] of Object.entries(info)) out[k] = typeof v === 'string' ? redactText(v) : v;
  return out;
}
