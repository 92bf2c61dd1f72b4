import type { DeviceState } from '../../../core/domain.js';
import type { LaneHealthSnapshot } from '../../../core/health.js';
import { deviceLabel, time } from './format.js';
import { deviceFacts, type Banner } from './lane-headline.js';

export { laneBanner, type Banner } from './lane-headline.js';

export function StatusBanner(p: { banner: Banner; laneName: string }) {
  const { banner } = p;
  return (
    <section
      class={`status-banner ${banner.level}`}
      data-testid="status-banner"
      data-level={banner.level}
      role={banner.level === 'ok' ? 'status' : 'alert'}
    >
      <div class="status-icon" aria-hidden="true">
        {banner.level === 'ok' ? '●' : '▲'}
      </div>
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

/** Order: scanner first, then detection, cameras, links. */
function rank(device: string): number {
  if (device.startsWith('scanner')) return 0;
  if (device === 'model') return 1;
  if (device.startsWith('camera')) return 2;
  if (device === 'mqtt' || device === 'outbox') return 3;
  return 4;
}

export function DeviceTiles(p: { health: LaneHealthSnapshot }) {
  const devices = [...p.health.devices].sort(
    (a, b) => rank(a.device) - rank(b.device) || a.device.localeCompare(b.device),
  );
  if (devices.length === 0) return <div class="muted">No device has reported yet.</div>;
  return (
    <div class="tiles" data-testid="device-tiles">
      {devices.map((d) => {
        const info = deviceFacts(d);
        return (
          <div
            class={`tile ${stateClass(d.state)}`}
            data-device={d.device}
            data-state={d.state}
            title={`${d.state} since ${time(d.since)}${info.all ? `\n${info.all}` : ''}`}
          >
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
