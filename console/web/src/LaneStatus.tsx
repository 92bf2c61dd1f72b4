import type { DeviceState, DeviceStatus } from '../../../runtime/domain.js';
import type { HealthSnapshot } from '../../server/messages.js';
import { deviceLabel, time } from './format.js';
import type { Connection } from './live-state.js';

const BAD: ReadonlySet<DeviceState> = new Set(['offline', 'disconnected', 'fault', 'unavailable', 'stalled', 'degraded']);
const SCANNER_DOWN: ReadonlySet<DeviceState> = new Set(['fault', 'offline', 'disconnected', 'stalled']);

export interface Banner {
  level: 'ok' | 'warn' | 'bad';
  title: string;
  lines: string[];
}

/** The one line an operator must read first about a lane. */
export function laneBanner(h: HealthSnapshot, connection: Connection): Banner {
  if (connection === 'lost') return { level: 'bad', title: 'NO CONNECTION TO THE LANE', lines: ['This page is not receiving updates: scans and alerts may be missing. Reconnecting…'] };
  const bad = h.devices.filter((d) => BAD.has(d.state));
  const lines = bad.map((d) => `${deviceLabel(d.device)}: ${d.state}${d.detail ? ` — ${d.detail}` : ''}`);
  const scanner = h.devices.find((d) => d.device.startsWith('scanner') && SCANNER_DOWN.has(d.state));
  if (h.overall === 'detection-unavailable') {
    const model = h.devices.find((d) => d.device === 'model');
    return {
      level: 'bad',
      title: 'DETECTION UNAVAILABLE — SCANS ARE NOT SCREENED FOR PEOPLE',
      lines: model ? lines : ['No detection model has reported: inspect every scan by eye.', ...lines],
    };
  }
  if (scanner) return { level: 'bad', title: `SCANNER ${scanner.state.toUpperCase()}`, lines };
  if (h.overall === 'degraded') return { level: 'warn', title: 'LANE DEGRADED', lines };
  return { level: 'ok', title: 'SCREENING ACTIVE', lines: ['Scanner, detection and links normal.'] };
}

export function StatusBanner(p: { banner: Banner; laneName: string }) {
  const { banner } = p;
  return (
    <section class={`status-banner ${banner.level}`} data-testid="status-banner" data-level={banner.level} role={banner.level === 'ok' ? 'status' : 'alert'}>
      <div class="status-icon" aria-hidden="true">{banner.level === 'ok' ? '●' : '▲'}</div>
      <div>
        <div class="status-title">
          <span class="status-lane">{p.laneName}</span> {banner.title}
        </div>
        {banner.lines.map((l) => (
          <div class="status-line">{l}</div>
        ))}
      </div>
    </section>
  );
}

function stateClass(s: DeviceState): string {
  if (s === 'ok') return 'ok';
  if (s === 'not-configured' || s === 'starting') return 'idle';
  if (s === 'degraded' || s === 'stalled') return 'warn';
  return 'bad';
}

function infoText(d: DeviceStatus): string[] {
  if (!d.info) return [];
  return Object.entries(d.info)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .slice(0, 6)
    .map(([k, v]) => `${k}: ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}`);
}

/** Order: scanner first, then detection, cameras, links. */
function rank(device: string): number {
  if (device.startsWith('scanner')) return 0;
  if (device === 'model') return 1;
  if (device.startsWith('camera')) return 2;
  if (device === 'mqtt' || device === 'outbox') return 3;
  return 4;
}

export function DeviceTiles(p: { health: HealthSnapshot }) {
  const devices = [...p.health.devices].sort((a, b) => rank(a.device) - rank(b.device) || a.device.localeCompare(b.device));
  if (devices.length === 0) return <div class="muted">No device has reported yet.</div>;
  return (
    <div class="tiles" data-testid="device-tiles">
      {devices.map((d) => (
        <div class={`tile ${stateClass(d.state)}`} data-device={d.device} data-state={d.state} title={`since ${time(d.since)}`}>
          <div class="tile-head">
            <span class="tile-name">{deviceLabel(d.device)}</span>
            <span class={`pill ${stateClass(d.state)}`}>{d.state}</span>
          </div>
          {d.detail && <div class="tile-detail">{d.detail}</div>}
          {infoText(d).map((t) => (
            <div class="tile-info">{t}</div>
          ))}
        </div>
      ))}
    </div>
  );
}
