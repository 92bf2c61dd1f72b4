import type { DeviceState, DeviceStatus } from '../../../core/domain.js';
import type { LaneHealthSnapshot } from '../../../core/health.js';
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
export function laneBanner(h: LaneHealthSnapshot, connection: Connection): Banner {
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

interface Fact {
  text: string;
  tone?: 'warn' | 'bad';
}

/** The figures of a device worth a glance, in words; every figure is in the tile's tooltip. */
function facts(d: DeviceStatus): { shown: Fact[]; all: string } {
  const i = d.info ?? {};
  const shown: Fact[] = [];
  if (typeof i.scannerState === 'string' && i.scannerState) shown.push({ text: `State: ${i.scannerState}` });
  const open = typeof i.interlocksOpen === 'string' ? i.interlocksOpen : '';
  if (open) shown.push({ text: `Interlocks OPEN: ${open.split(',').join(', ')}`, tone: 'bad' });
  else if (i.interlocksOk === false) shown.push({ text: 'Interlocks OPEN', tone: 'bad' });
  else if (i.interlocksOk === true || i.interlocks === 0 || i.interlocks === true || i.interlocksOpen === '') shown.push({ text: 'Interlocks closed' });
  else if (typeof i.interlocks === 'string') shown.push({ text: `Interlocks: ${i.interlocks}` });
  if (i.radiationOn === true) shown.push({ text: 'RADIATION ON', tone: 'warn' });
  if (typeof i.speedKmh === 'number' && i.speedKmh > 0) shown.push({ text: `Vehicle ${i.speedKmh.toFixed(1)} km/h` });
  if (typeof i.outboxDepth === 'number') shown.push({ text: `Outbox: ${i.outboxDepth} waiting`, ...(i.outboxDepth > 100 ? { tone: 'warn' as const } : {}) });
  if (typeof i.fps === 'number') shown.push({ text: `${i.fps} frames/s` });
  const all = Object.entries(i)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}`)
    .join('\n');
  return { shown, all };
}

/** Order: scanner first, then detection, cameras, links. */
function rank(device: string): number {
  if (device.startsWith('scanner')) return 0;
  if (device === 'model') return 1;
  if (device.startsWith('camera')) return 2;
  if (device === 'mqtt' || device === 'outbox') return 3;
  return 4;
}

export function DeviceTiles(p: { health: LaneHealthSnapshot }) {
  const devices = [...p.health.devices].sort((a, b) => rank(a.device) - rank(b.device) || a.device.localeCompare(b.device));
  if (devices.length === 0) return <div class="muted">No device has reported yet.</div>;
  return (
    <div class="tiles" data-testid="device-tiles">
      {devices.map((d) => {
        const info = facts(d);
        return (
        <div class={`tile ${stateClass(d.state)}`} data-device={d.device} data-state={d.state} title={`${d.state} since ${time(d.since)}${info.all ? `\n${info.all}` : ''}`}>
          <div class="tile-head">
            <span class="tile-name">{deviceLabel(d.device)}</span>
            <span class={`pill ${stateClass(d.state)}`}>{d.state}</span>
          </div>
          {d.detail && <div class="tile-detail">{d.detail}</div>}
          {info.shown.map((f) => (
            <div class={`tile-info ${f.tone ?? ''}`}>{f.text}</div>
          ))}
        </div>
        );
      })}
    </div>
  );
}
