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

/** Figures worth a glance; the rest are in the tile's tooltip. */
const KEY_INFO = ['interlocks', 'scannerState', 'radiationOn', 'speedKmh', 'outboxDepth', 'fps', 'lastPlate'];

function infoText(d: DeviceStatus): { shown: string[]; all: string } {
  const fmt = ([k, v]: [string, unknown]) => `${k}: ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}`;
  const entries = Object.entries(d.info ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== '');
  return { shown: entries.filter(([k]) => KEY_INFO.includes(k)).map(fmt), all: entries.map(fmt).join('\n') };
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
      {devices.map((d) => {
        const info = infoText(d);
        return (
        <div class={`tile ${stateClass(d.state)}`} data-device={d.device} data-state={d.state} title={`${d.state} since ${time(d.since)}${info.all ? `\n${info.all}` : ''}`}>
          <div class="tile-head">
            <span class="tile-name">{deviceLabel(d.device)}</span>
            <span class={`pill ${stateClass(d.state)}`}>{d.state}</span>
          </div>
          {d.detail && <div class="tile-detail">{d.detail}</div>}
          {info.shown.map((t) => (
            <div class="tile-info">{t}</div>
          ))}
        </div>
        );
      })}
    </div>
  );
}
