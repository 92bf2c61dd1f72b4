import type { DeviceState, DeviceStatus } from './domain.js';
import { redactInfo, redactText } from './redact.js';

/** The health of one lane: the latest status of each of its devices and what they add up to. */
export interface LaneHealthSnapshot {
  laneId: string;
  /** ok: everything configured works; degraded: something is down but scans still go on;
   * detection-unavailable: scans are not screened by the model. */
  overall: 'ok' | 'degraded' | 'detection-unavailable';
  devices: DeviceStatus[];
  updatedAt: string;
}

/** What parts outside the pipeline read of a lane's health (the pipeline's LaneHealth keeps it). */
export interface LaneHealthView {
  snapshot(): LaneHealthSnapshot;
  onChange(listener: (s: LaneHealthSnapshot) => void): () => void;
}

/** A device's status as of now, for a `device.status` event. */
export function deviceStatus(
  device: string,
  state: DeviceState,
  detail?: string,
  info?: DeviceStatus['info'],
): DeviceStatus {
  // Details reach the log, /healthz and the retained MQTT status: no credentials in them.
  return {
    device,
    state,
    detail: detail === undefined ? undefined : redactText(detail),
    since: new Date().toISOString(),
    ...(info ? { info: redactInfo(info) } : {}),
  };
}
