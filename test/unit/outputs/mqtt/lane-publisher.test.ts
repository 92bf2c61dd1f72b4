import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlertLedger } from '../../../../outputs/mqtt/alert-ledger.js';
import { LanePublisher } from '../../../../outputs/mqtt/lane-publisher.js';
import { MqttLink } from '../../../../outputs/mqtt/mqtt-link.js';
import { MemoryOutbox } from '../../../../outputs/mqtt/memory-outbox.js';
import { LaneTopics } from '../../../../core/mqtt-topics.js';
import type { ScanResult } from '../../../../core/domain.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { LaneHealth } from '../../../../pipeline/lane-health.js';
import { alertFor } from '../../../../pipeline/lane-pipeline.js';
import { createLogger, silentLogger } from '../../../../core/logger.js';
import { EvidenceUrlSigner } from '../../../../outputs/evidence/evidence-urls.js';
import { PassThrough } from 'node:stream';
import { scanResult } from '../../../helpers/builders.js';

/** A TCP port that accepts nothing: every connection attempt is refused. */
async function refusedPort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const scan = (n: number, verdict: ScanResult['verdict']): ScanResult =>
  scanResult({ scanId: `S${n}`, verdict, score: verdict === 'person' ? 0.9 : 0.1 });

describe('LanePublisher without a broker', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    for (const c of cleanup.splice(0)) await c();
  });

  async function offlineLane(
    maxMessages: number,
    extra: { signEvidence?: (path: string) => string; log?: ReturnType<typeof silentLogger> } = {},
  ) {
    const log = extra.log ?? silentLogger();
    const bus = new EventBus<LaneEvents>(log);
    const health = new LaneHealth('lane-1');
    health.attach(bus);
    const topics = new LaneTopics('checkpoint', 'site-a', 'lane-1');
    const delays: number[] = [];
    const link = new MqttLink({
      url: `mqtt://127.0.0.1:${await refusedPort()}`,
      protocolVersion: 5,
      clientId: 'c',
      keepaliveS: 30,
      reconnect: { initialMs: 20, maxMs: 160 },
      sessionExpiryS: 0,
      will: { topic: topics.availability, payload: 'offline' },
      log,
      random: () => 1,
    });
    link.on('disconnected', (d) => void delays.push(d.retryInMs));
    const outbox = new MemoryOutbox(maxMessages);
    const p = new LanePublisher({
      siteId: 'site-a',
      laneId: 'lane-1',
      bus,
      health,
      outbox,
      ledger: new AlertLedger({ path: ':memory:', laneId: 'lane-1' }),
      link,
      topics,
      maxInflight: 20,
      statusIntervalMs: 60_000,
      flushTimeoutMs: 100,
      edgeVersion: 't',
      modelVersion: () => null,
      evidenceBaseUrl: () => 'https://lane.example:8080',
      identities: [],
      ...(extra.signEvidence ? { signEvidence: extra.signEvidence } : {}),
      log,
    });
    await p.start();
    cleanup.push(() => p.stop());
    return { bus, health, outbox, delays, p };
  }

  it('reconnects on its own schedule, doubling the delay up to the maximum, and says why the link is down', async () => {
    // Reconnect delays run on fake time; connection attempts are real (refused at once).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { health, delays } = await offlineLane(100);
    const details = new Set<string>();
    health.onChange((s) => void details.add(s.devices.find((d) => d.device === 'mqtt')?.detail ?? ''));
    await vi.waitFor(() => expect(delays.length).toBeGreaterThanOrEqual(5), { timeout: 10_000, interval: 20 });
    vi.useRealTimers();
    expect(delays.slice(0, 5)).toEqual([20, 40, 80, 160, 160]);
    // one status change for five retries: the countdown is not in the status
    expect([...details].filter((d) => d.includes('refused'))).toHaveLength(1);
    expect(health.get('mqtt')).toMatchObject({
      state: 'disconnected',
      detail: expect.stringMatching(/refused the connection \(is it running\?\); reconnecting with backoff$/),
    });
  });

  it('queues scans and alerts while disconnected; when full, evicts scan results and keeps every alert', async () => {
    const { bus, outbox, p } = await offlineLane(4);
    const alertOf = new Map<string, string>();
    for (let i = 1; i <= 6; i++) {
      const result = scan(i, i % 2 === 0 ? 'person' : 'clear');
      bus.emit('scan.decided', { result });
      const alert = alertFor(result);
      if (alert) {
        alertOf.set(alert.alertId, `${result.scanId}-alert`);
        bus.emit('alert.raised', alert);
      }
    }
    // 9 messages (6 scans, 3 alerts) into room for 4: the 3 alerts and the newest scan remain.
    expect(outbox.pending(0, 10).map((e) => alertOf.get(e.id) ?? e.id)).toEqual([
      'S2-alert',
      'S4-alert',
      'S6',
      'S6-alert',
    ]);
    expect(p.status().outbox).toEqual({ depth: 4, alerts: 3, scans: 1, events: 0, evicted: 5 });
  });

  it('puts signed evidence links in scan and alert messages; when it cannot sign, sends the plain link and logs why', async () => {
    const signer = new EvidenceUrlSigner({ keyFile: '/unused', ttlS: 600 }).useKey(Buffer.alloc(32, 1));
    const withEvidence = (r: ScanResult): ScanResult => ({
      ...r,
      evidence: [{ name: 'scan.jpg', kind: 'scan', contentType: 'image/jpeg', url: `/evidence/${r.scanId}/scan.jpg` }],
    });
    const signed = await offlineLane(10, { signEvidence: (path) => signer.sign(path) });
    const r1 = withEvidence(scan(1, 'person'));
    signed.bus.emit('scan.decided', { result: r1 });
    signed.bus.emit('alert.raised', alertFor(r1)!);
    for (const e of signed.outbox.pending(0, 10)) {
      const ref = (JSON.parse(e.payload) as { evidence: { path: string; url: string }[] }).evidence[0]!;
      expect(ref.path).toBe('/evidence/S1/scan.jpg');
      expect(ref.url).toMatch(/^https:\/\/lane\.example:8080\/evidence\/S1\/scan\.jpg\?exp=\d+&sig=[\w-]{43}$/);
      const u = new URL(ref.url);
      expect(signer.verify(u.pathname, u.searchParams).ok).toBe(true);
    }

    const lines: string[] = [];
    const out = new PassThrough();
    out.on('data', (c: Buffer) => void lines.push(c.toString()));
    const unsigned = await offlineLane(10, {
      signEvidence: () => {
        throw new Error('the key /d/evidence.key is not loaded');
      },
      log: createLogger({ destination: out }),
    });
    unsigned.bus.emit('scan.decided', { result: withEvidence(scan(2, 'clear')) });
    const [entry] = unsigned.outbox.pending(0, 10);
    expect(JSON.parse(entry!.payload).evidence[0].url).toBe('https://lane.example:8080/evidence/S2/scan.jpg');
    expect(lines.join('')).toContain(
      'evidence link /evidence/S2/scan.jpg sent unsigned, so central command cannot open it: the key /d/evidence.key is not loaded',
    );
  });
});
