import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CentralCommand } from '../../../central/central-service.js';
import { parseCentralConfig } from '../../../central/config.js';
import { silentLogger } from '../../../core/logger.js';
import { configSchema } from '../../../config/schema.js';
import { alertFor } from '../../../pipeline/lane-pipeline.js';
import { fakeScan, haveMosquitto, MosquittoBroker, mqttSite, siteConfig, waitFor } from '../outputs/mqtt/helpers.js';
import { alertMsg, scanMsg, statusMsg } from './fixtures.js';

describe.runIf(haveMosquitto)('central on one site: mosquitto and the embedded store', () => {
  let dir: string;
  let broker: MosquittoBroker;
  let lane: MqttClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'central-mqtt-'));
    broker = new MosquittoBroker({ persistence: true });
    await broker.start();
    lane = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'lane-sim', reconnectPeriod: 0 });
  }, 30_000);
  afterAll(async () => {
    await lane?.endAsync();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const central = () =>
    new CentralCommand({
      config: parseCentralConfig({
        dataDir: dir,
        http: { host: '127.0.0.1', port: 0 },
        store: { kind: 'pglite', dir: join(dir, 'db') },
        ingest: { kind: 'mqtt', url: broker.url, protocolVersion: 5, clientId: 'central-test' },
      }),
      log: silentLogger(),
      noWebUi: true,
    });
  const publish = (topic: string, body: unknown) =>
    lane.publishAsync(`checkpoint/${topic}`, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });

  it('stores each message once, drops invalid ones with a count, and gets what was sent while it was down', async () => {
    let c = central();
    await c.start();
    const a1 = alertMsg({ scanId: 'M1' });
    await publish('site-a/lane-1/alert', a1);
    await publish('site-a/lane-1/alert', a1); // a redelivery
    await publish('site-a/lane-1/scan', scanMsg({ scanId: 'M1', verdict: 'person' }));
    await publish('site-a/lane-1/status', statusMsg({ at: new Date(), overall: 'ok' }));
    await publish('site-a/lane-1/availability', 'online');
    await publish('site-a/lane-1/alert', '{"not":"an alert"}');
    await publish('site-a/lane-2/alert', alertMsg({ scanId: 'M9', laneId: 'lane-1' })); // payload and topic disagree
    await waitFor('all 7 messages taken in', () => Object.values(c.counters.totals).reduce((a, b) => a + b, 0) >= 7);
    expect(c.counters.totals).toEqual({ stored: 4, duplicate: 1, ignored: 0, invalid: 2, error: 0 });
    await c.stop();

    // Central is down: the broker keeps its session's QoS 1 messages.
    for (let i = 2; i <= 6; i++) await publish('site-a/lane-1/alert', alertMsg({ scanId: `M${i}` }));
    c = central();
    await c.start();
    await waitFor('the 5 alerts queued while central was down', () => c.counters.totals.stored >= 5, 15_000);
    const alerts = await c.store.alerts();
    expect(alerts.map((a) => a.alertId).sort()).toEqual([
      'M1-person',
      'M2-person',
      'M3-person',
      'M4-person',
      'M5-person',
      'M6-person',
    ]);
    const [l] = await c.store.lanes();
    expect(l).toMatchObject({
      siteId: 'site-a',
      laneId: 'lane-1',
      availability: 'online',
      overall: 'ok',
      lastScanId: 'M1',
    });
    await c.stop();
  }, 90_000);

  it("a lane that confirms by central's receipt keeps a message the broker acknowledged until central has stored it", async () => {
    const config = configSchema.parse(
      siteConfig({
        site: 'site-r',
        url: broker.url,
        dataDir: join(dir, 'lane-r'),
        lanes: ['lane-1'],
        extra: { delivery: { confirmBy: 'central', receiptTimeoutS: 2 } },
      }),
    );
    const site = mqttSite(config, silentLogger());
    const publisher = site.services[0] as unknown as { outboxDepth(): number | null };
    const seen: string[] = [];
    const watcher = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'watcher',
      reconnectPeriod: 0,
    });
    await watcher.subscribeAsync('checkpoint/site-r/lane-1/alert', { qos: 1 });
    watcher.on('message', (_t, p) => seen.push((JSON.parse(p.toString()) as { messageId: string }).messageId));
    for (const s of site.services) await s.start();
    let c: CentralCommand | null = null;
    try {
      const result = fakeScan('site-r', 'lane-1', 1, 'person');
      site.lanes[0]!.bus.emit('scan.decided', { result });
      site.lanes[0]!.bus.emit('alert.raised', alertFor(result)!);
      // Central is not running: the broker acknowledges the alert, and it is sent again after 2 s
      // without a receipt; it stays in the outbox all the while.
      await waitFor('the alert published twice (no receipt)', () => seen.length >= 2, 15_000);
      expect(new Set(seen).size).toBe(1);
      expect(publisher.outboxDepth()).toBe(2); // the scan and its alert
      c = central();
      await c.start();
      await waitFor('the outbox emptied by the receipts', () => publisher.outboxDepth() === 0, 20_000);
      const stored = (await c.store.alerts()).filter((a) => a.siteId === 'site-r');
      expect(stored.map((a) => a.alertId)).toEqual([seen[0]]);
    } finally {
      await watcher.endAsync();
      for (const s of site.services) await s.stop();
      await c?.stop();
    }
  }, 90_000);

  it('names its central identity in each command, so a lane with two identities records the right one as acting', async () => {
    const config = configSchema.parse(
      siteConfig({
        site: 'site-i',
        url: broker.url,
        dataDir: join(dir, 'lane-i'),
        lanes: ['lane-1'],
        extra: { commands: { identities: [{ name: 'central-hq' }, { name: 'central-night' }] } },
      }),
    );
    const site = mqttSite(config, silentLogger());
    const events: { operator: string; onBehalfOf?: string }[] = [];
    site.lanes[0]!.bus.on('alert.event', 'test', (e) => void events.push(e));
    for (const s of site.services) await s.start();
    const c = new CentralCommand({
      config: parseCentralConfig({
        dataDir: dir,
        http: { host: '127.0.0.1', port: 0 },
        store: { kind: 'pglite', dir: join(dir, 'db') },
        ingest: { kind: 'mqtt', url: broker.url, protocolVersion: 5, clientId: 'central-test' },
        commands: { identity: 'central-night' },
        accounts: { bootstrapAdmin: { name: 'admin', password: 'admin-password-1' } },
      }),
      log: silentLogger(),
      noWebUi: true,
    });
    await c.start();
    try {
      const result = fakeScan('site-i', 'lane-1', 1, 'person');
      const alert = alertFor(result)!;
      site.lanes[0]!.bus.emit('scan.decided', { result });
      site.lanes[0]!.bus.emit('alert.raised', alert);
      for (let t0 = Date.now(); !(await c.store.alert('site-i', 'lane-1', alert.alertId)); ) {
        if (Date.now() - t0 > 15_000) throw new Error('the alert did not reach central within 15 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      const login = await fetch(`${c.url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'admin', password: 'admin-password-1' }),
      });
      expect(login.status).toBe(200);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const ack = await fetch(`${c.url}/api/alerts/site-i/lane-1/${alert.alertId}/ack`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: '{}',
      });
      const answer = (await ack.json()) as { error?: string; lane?: { data: { operator: string } } };
      expect(ack.status, answer.error).toBe(200);
      expect(answer.lane!.data.operator).toBe('central-night');
      expect(events).toMatchObject([{ operator: 'central-night', onBehalfOf: 'admin' }]);
    } finally {
      for (const s of site.services) await s.stop();
      await c.stop();
    }
  }, 90_000);
});
