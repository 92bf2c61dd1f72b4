import { describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../../../core/domain.js';
import type { LaneHealthSnapshot } from '../../../core/health.js';
import { deviceStatus } from '../../../core/health.js';
import { LaneHealth } from '../../../pipeline/lane-health.js';
import { RuntimeMetrics } from '../../../app/runtime-metrics.js';
import { exportLinkCounters, healthz, laneReason, OpenAlerts } from '../../../app/monitoring.js';

const dev = (device: string, state: DeviceStatus['state'], detail?: string): DeviceStatus => ({
  device,
  state,
  since: '2026-01-01T00:00:00.000Z',
  ...(detail ? { detail } : {}),
});
const lane = (laneId: string, overall: LaneHealthSnapshot['overall'], devices: DeviceStatus[]): LaneHealthSnapshot => ({
  laneId,
  overall,
  devices,
  updatedAt: 'x',
});

describe('/healthz', () => {
  const ok = lane('lane-1', 'ok', [dev('model', 'ok'), dev('scanner', 'ok')]);
  const camera = lane('lane-2', 'degraded', [
    dev('model', 'ok'),
    dev('camera.front', 'offline', 'rtsp://10.0.0.9/stream: connection refused'),
  ]);
  const noModel = lane('lane-3', 'detection-unavailable', [
    dev('model', 'unavailable', 'cannot load /opt/models/person/model.onnx'),
    dev('scanner.opcua', 'disconnected', 'opc.tcp://10.0.0.5:4840'),
  ]);

  it('gives the worst state first, with one line saying why, and keeps detection-unavailable apart from degraded', () => {
    const a = healthz([ok], { version: 'v', details: false });
    expect([a.code, a.body.status, a.body.reason]).toEqual([200, 'ok', 'lane-1: every device ok']);
    const b = healthz([ok, camera], { version: 'v', details: false });
    expect([b.code, b.body.status, b.body.reason]).toEqual([200, 'degraded', 'lane-2 degraded: camera.front offline']);
    const c = healthz([ok, camera, noModel], { version: 'v', details: false });
    expect([c.code, c.body.status, c.body.reason]).toEqual([
      503,
      'detection-unavailable',
      'lane-3 detection unavailable: model unavailable; scanner.opcua disconnected',
    ]);
    expect(Object.keys(c.body).slice(0, 2)).toEqual(['status', 'reason']);
    expect(laneReason(lane('l', 'detection-unavailable', []))).toBe('detection unavailable: no model has reported');
  });

  it('shows device details (URLs, file paths) only when asked to', () => {
    const hidden = JSON.stringify(healthz([camera, noModel], { version: 'v', details: false }).body);
    expect(hidden).not.toMatch(/rtsp:|opc\.tcp:|\/opt\/models/);
    expect(hidden).toContain('hidden: log in to the console, or set http.healthDetails: true');
    const shown = JSON.stringify(healthz([camera, noModel], { version: 'v', details: true }).body);
    expect(shown).toContain('rtsp://10.0.0.9/stream');
    expect(shown).toContain('/opt/models/person/model.onnx');
  });
});

describe('open alerts', () => {
  it('counts open and unacknowledged alerts and the age of the oldest; a disposition closes, test alerts do not count', () => {
    const a = new OpenAlerts(3);
    const t0 = Date.parse('2026-01-01T10:00:00Z');
    a.raised({ alertId: 'A', raisedAt: '2026-01-01T10:00:00Z', kind: 'person-suspected' });
    a.raised({ alertId: 'B', raisedAt: '2026-01-01T10:01:00Z', kind: 'detection-unavailable' });
    a.raised({ alertId: 'T', raisedAt: '2026-01-01T09:00:00Z', kind: 'test' });
    expect(a.summary(t0 + 120_000)).toEqual({
      open: 2,
      unacknowledged: 2,
      oldestOpenS: 120,
      oldestUnacknowledgedS: 120,
    });
    a.event({ alertId: 'A', type: 'acknowledged' });
    expect(a.summary(t0 + 120_000)).toEqual({
      open: 2,
      unacknowledged: 1,
      oldestOpenS: 120,
      oldestUnacknowledgedS: 60,
    });
    a.event({ alertId: 'A', type: 'false-alarm' });
    a.event({ alertId: 'B', type: 'person-found' });
    expect(a.summary(t0 + 120_000)).toEqual({ open: 0, unacknowledged: 0, oldestOpenS: 0, oldestUnacknowledgedS: 0 });
  });

  it('is bounded: past its cap it counts alerts without keeping them', () => {
    const a = new OpenAlerts(2);
    for (let i = 0; i < 5; i++)
      a.raised({ alertId: `A${i}`, raisedAt: new Date().toISOString(), kind: 'person-suspected' });
    expect(a.summary().open).toBe(5);
    expect(a.summary().unacknowledged).toBe(2);
  });
});

describe('/metrics', () => {
  it('has Node process metrics under their standard names, not a doubled prefix', async () => {
    const text = await new RuntimeMetrics().registry.metrics();
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).not.toContain('process_process_');
    expect(text).not.toContain('checkpoint_edge_process_');
  });

  it('exports the lane state, open alerts, verdict latency and scanner link counters', async () => {
    const m = new RuntimeMetrics();
    const health = new LaneHealth('lane-1');
    health.update(deviceStatus('model', 'ok'));
    health.update(deviceStatus('camera.front', 'offline', 'x'));
    const alerts = m.lanes.addLane('lane-1', () => health.snapshot());
    alerts.raised({ alertId: 'A', raisedAt: new Date(Date.now() - 90_000).toISOString(), kind: 'person-suspected' });
    m.lanes.verdictLatency.observe({ lane: 'lane-1', verdict: 'clear' }, 0.7);
    const counters = {
      bytes: 1000,
      frames: 10,
      crcErrors: 2,
      lengthErrors: 1,
      malformed: 0,
      unsupported: 0,
      seqGaps: 1,
      lostFrames: 3,
      resyncBytes: 17,
      truncatedBytes: 0,
    };
    exportLinkCounters(m.registry, 'lane-1', 'scanner', counters);
    let text = await m.registry.metrics();
    expect(text).toContain('checkpoint_edge_lane_state{lane="lane-1",state="degraded"} 1');
    expect(text).toContain('checkpoint_edge_lane_state{lane="lane-1",state="ok"} 0');
    expect(text).toContain('checkpoint_edge_alerts_open{lane="lane-1"} 1');
    expect(text).toContain('checkpoint_edge_alerts_unacknowledged{lane="lane-1"} 1');
    expect(
      Number(/checkpoint_edge_alert_oldest_unacknowledged_age_seconds\{lane="lane-1"\} (\S+)/.exec(text)![1]),
    ).toBeGreaterThanOrEqual(90);
    expect(text).toContain('checkpoint_edge_verdict_latency_seconds_bucket{le="1",lane="lane-1",verdict="clear"} 1');
    expect(text).toContain('checkpoint_edge_scanner_link_crc_errors_total{lane="lane-1",device="scanner"} 2');
    expect(text).toContain('checkpoint_edge_scanner_link_lost_frames_total{lane="lane-1",device="scanner"} 3');
    expect(text).toContain('checkpoint_edge_scanner_link_resync_bytes_total{lane="lane-1",device="scanner"} 17');
    expect(text).toContain('checkpoint_edge_scanner_link_length_errors_total{lane="lane-1",device="scanner"} 1');
    counters.crcErrors = 5; // the parser counts on; the next scrape reads it
    health.update(deviceStatus('model', 'unavailable', 'x'));
    text = await m.registry.metrics();
    expect(text).toContain('checkpoint_edge_scanner_link_crc_errors_total{lane="lane-1",device="scanner"} 5');
    expect(text).toContain('checkpoint_edge_lane_state{lane="lane-1",state="detection-unavailable"} 1');
  });
});
