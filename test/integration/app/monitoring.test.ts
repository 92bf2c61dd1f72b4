import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserDirectory } from '../../../console/server/users.js';
import { configSchema } from '../../../config/schema.js';
import { encodeFrame } from '../../../firmware-bridge/scanner/protocol/frames.js';
import { SiteRuntime } from '../../../app/site-runtime.js';
import type { CompletedScan, ScanMeta } from '../../../core/domain.js';
import { EmbeddedBroker } from '../../../app/embedded-broker.js';
import { silentLogger } from '../../../core/logger.js';
import { waitFor } from '../outputs/mqtt/helpers.js';

// A whole site runtime (no model: detection unavailable), its console, a scanner line stream
// from a TCP peer that sends garbage then a valid frame, and an embedded broker. Read as a
// monitoring system reads it: /healthz anonymous and logged in, /metrics, and the shipped
// Prometheus rules and Grafana dashboard against the metric names really served.
const monitoring = join(import.meta.dirname, '../../../docs/monitoring');
const PROMTOOL = '/usr/bin/promtool';
let dir: string;
let broker: EmbeddedBroker;
let runtime: SiteRuntime;
let scanner: Server;
const sockets: Socket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'monitoring-'));
  const users = new UserDirectory(join(dir, 'users.json'));
  await users.set('olga', 'operator', 'olga-password-1');
  broker = new EmbeddedBroker({ port: 0 });
  await broker.start();
  scanner = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.write(Buffer.from('line noise before the first frame'));
    s.write(encodeFrame({ type: 'hello', heartbeatMs: 60_000, device: 'test-scanner', firmware: '1.0' }, 1));
  });
  await new Promise<void>((r) => scanner.listen(0, '127.0.0.1', () => r()));
  const port = (scanner.address() as { port: number }).port;
  const config = configSchema.parse({
    site: { id: 'mon-site' },
    dataDir: join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { url: broker.url, protocolVersion: 4 },
    console: { usersFile: join(dir, 'users.json') },
    lanes: [{ id: 'lane-1', scanner: { transport: { type: 'tcp', host: '127.0.0.1', port } } }],
  });
  runtime = new SiteRuntime({ config, log: silentLogger(), version: 'test', announce: () => {} });
  await runtime.start();
  await waitFor('the scanner link up', () => runtime.lanes[0]!.health.get('scanner')?.state === 'ok', 15_000);
}, 40_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  scanner?.close();
  await runtime?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function healthz(
  cookie?: string,
): Promise<{ status: number; body: Record<string, unknown> & { lanes: { devices: Record<string, unknown>[] }[] } }> {
  const r = await fetch(`${runtime.http.url}/healthz`, { headers: cookie ? { cookie } : {} });
  return { status: r.status, body: (await r.json()) as never };
}

describe('/healthz as a monitoring system and a logged-in operator read it', () => {
  it('answers 503 detection-unavailable with its reason first, and no device details to an anonymous caller', async () => {
    const h = await healthz();
    expect(h.status).toBe(503);
    expect(Object.keys(h.body).slice(0, 2)).toEqual(['status', 'reason']);
    expect(h.body.status).toBe('detection-unavailable');
    expect(h.body.reason).toMatch(/^lane-1 detection unavailable: model unavailable/);
    expect(JSON.stringify(h.body)).not.toMatch(/127\.0\.0\.1|tcp:|\/tmp\/|lanes\[\]\.model/);
    expect(h.body.lanes[0]!.devices.every((d) => d.detail === undefined && d.info === undefined)).toBe(true);
  });

  it('shows the device details to a logged-in console user', async () => {
    const login = await fetch(`${runtime.http.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-console-request': '1' },
      body: JSON.stringify({ user: 'olga', password: 'olga-password-1' }),
    });
    expect(login.status).toBe(200);
    const h = await healthz(login.headers.get('set-cookie')!.split(';')[0]!);
    expect(h.body.details).toBe('shown');
    expect(JSON.stringify(h.body)).toContain('lanes[].model');
    expect(h.body.lanes[0]!.devices.find((d) => d.device === 'scanner')?.info).toMatchObject({
      resyncBytes: expect.any(Number),
    });
  });
});

describe('/metrics', () => {
  let text = '';
  beforeAll(async () => {
    const bus = runtime.lanes[0]!.bus;
    const meta: ScanMeta = {
      scanId: 'mon-1',
      laneId: 'lane-1',
      startedAt: new Date().toISOString(),
      channels: 64,
      energies: 1,
      pixelMm: 5,
      source: 'stream',
    };
    const done: CompletedScan = {
      meta,
      endedAt: new Date().toISOString(),
      image: { width: 200, height: 64, pixelMm: 5, high: new Uint16Array(200 * 64).fill(60000) },
    };
    bus.emit('scan.begin', meta);
    bus.emit('scan.end', done);
    for (
      const t0 = Date.now();
      !text.includes('checkpoint_edge_alerts_unacknowledged{lane="lane-1"} 1');
      await new Promise((r) => setTimeout(r, 50))
    ) {
      if (Date.now() - t0 > 15_000) throw new Error(`no unacknowledged alert on /metrics after the scan:\n${text}`);
      text = await (await fetch(`${runtime.http.url}/metrics`)).text();
    }
  });

  it('serves the lane state, open alerts, verdict latency, the scanner link counters and standard process metrics', () => {
    expect(text).toContain('checkpoint_edge_lane_state{lane="lane-1",state="detection-unavailable"} 1');
    expect(text).toContain('checkpoint_edge_alerts_open{lane="lane-1"} 1');
    expect(text).toMatch(/checkpoint_edge_verdict_latency_seconds_count\{lane="lane-1",verdict="unavailable"\} 1/);
    expect(
      Number(/checkpoint_edge_scanner_link_resync_bytes_total\{lane="lane-1",device="scanner"\} (\d+)/.exec(text)?.[1]),
    ).toBe('line noise before the first frame'.length);
    expect(text).toContain('checkpoint_edge_scanner_link_frames_total{lane="lane-1",device="scanner"} 1');
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    expect(text).not.toContain('process_process_');
  });

  it('has every checkpoint_edge_* metric that the shipped alert rules and dashboard use', () => {
    const served = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap((m) =>
        m[2] === 'histogram' ? [`${m[1]}_bucket`, `${m[1]}_count`, `${m[1]}_sum`] : [m[1]!],
      ),
    );
    const used = (file: string) =>
      new Set(
        [
          ...readFileSync(join(monitoring, file), 'utf8').matchAll(
            /\b((?:checkpoint_edge|process|nodejs)_[a-z0-9_]+)/g,
          ),
        ].map((m) => m[1]!),
      );
    for (const file of ['prometheus-rules.yml', 'grafana-dashboard.json']) {
      const missing = [...used(file)].filter((n) => !served.has(n));
      expect(missing, `${file} uses metrics that /metrics does not serve`).toEqual([]);
    }
  });

  it.skipIf(!existsSync(PROMTOOL) && !process.env.CI)(
    'the alert rules pass promtool check and their unit tests',
    () => {
      const run = (args: string[]) => execFileSync(PROMTOOL, args, { cwd: monitoring, encoding: 'utf8' });
      expect(run(['check', 'rules', 'prometheus-rules.yml'])).toContain('SUCCESS');
      expect(run(['test', 'rules', 'prometheus-rules.test.yml'])).toContain('SUCCESS');
      expect(() => JSON.parse(readFileSync(join(monitoring, 'grafana-dashboard.json'), 'utf8'))).not.toThrow();
    },
  );
});
