import type { DeviceState, DeviceStatus } from '../core/domain.js';
import type { LaneHealthSnapshot, LaneHealthView } from '../core/health.js';
import type { EventBus } from '../core/event-bus.js';
import type { LaneEvents } from '../core/events.js';
import { redactInfo, redactText } from '../core/redact.js';

/** States that mean the lane cannot screen as designed; shown and published as degraded. */
const BAD: ReadonlySet<DeviceState> = new Set([
  'offline',
  'disconnected',
  'fault',
  'unavailable',
  'stalled',
  'degraded',
]);

/** Collects the latest status of each device of one lane. */
export class LaneHealth implements LaneHealthView {
  readonly #devices = new Map<string, DeviceStatus>();
  #updatedAt = new Date().toISOString();
  readonly #listeners = new Set<(s: LaneHealthSnapshot) => void>();

  constructor(readonly laneId: string) {}

  /** Records the status; returns true if the device's state changed. */
  update(given: DeviceStatus): boolean {
    // Whoever built the status, what is kept (and so served and published) carries no credentials.
    const status: DeviceStatus = {
      ...given,
      ...(given.detail !== undefined ? { detail: redactText(given.detail) } : {}),
      ...(given.info ? { info: redactInfo(given.info) } : {}),
    };
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
    if (model?.state !== 'ok') overall = 'detection-unavailable';
    return { laneId: this.laneId, overall, devices, updatedAt: this.#updatedAt };
  }

  /** Keeps this health current from the bus's device.status events. */
  attach(bus: EventBus<LaneEvents>, owner = `lane-health:${this.laneId}`): () => void {
    return bus.on('device.status', owner, (s) => {
      this.update(s);
    });
  }
}
