import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../config/load.js';
import type { AlertEvent } from '../../../../core/domain.js';
import { silentLogger } from '../../../../core/logger.js';
import type { Service } from '../../../../core/service.js';
import { evidenceUrlSigner } from '../../../../outputs/evidence/evidence-urls.js';
import { alertPayloadSchema, commandResponseSchema, eventPayloadSchema, scanPayloadSchema, statusPayloadSchema } from '../../../../outputs/mqtt/payloads.js';
import { Collector, EdgeProcess, emitScans, haveMosquitto, MosquittoBroker, mqttSite, siteConfig, waitFor } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mqtt-delivery-'));

describe.skipIf(!haveMosquitto)('MQTT output against mosquitto', () => {
  const broker = new MosquittoBroker();
  const running: Service[] = [];
  const collectors: Collector[] = [];

  beforeAll(async () => {
    await broker.start();
  });
  afterAll(async () => {
    for (const s of running.reverse()) await s.stop();
    for (const c of collectors) await c.close();
    await broker.stop();
  });

  async function site(siteId: string, protocolVersion: 4 | 5, extra: Record<string, unknown> = {}) {
    const config = validateConfig(siteConfig({ url: broker.url, dataDir: join(dir, siteId), lanes: ['lane-1'], protocolVersion, site: siteId, extra }));
    const s = mqttSite(config, silentLogger());
    const collector = await Collector.connect(broker.url, [`checkpoint/${siteId}/#`]);
    collectors.push(collector);
    for (const svc of s.services) {
      await svc.start();
      running.push(svc);
    }
    await waitFor('availability online', () => collector.on('/availability').some((m) => m.payload === 'online'));
    return { ...s, lane: s.lanes[0], collector, config };
  }

  for (const version of [5, 4] as const) {
    it(`MQTT ${version === 5 ? '5' : '3.1.1'}: scan results and alerts arrive with QoS 1, in order, as the contract says; the outbox empties on PUBACK`, async () => {
      const siteId = `site-v${version}`;
      const { lane, collector, config } = await site(siteId, version);
      const ids = emitScans(lane, siteId, 1, 6);
      const data = () => collector.messages.filter((m) => m.topic.endsWith('/scan') || m.topic.endsWith('/alert'));
      await waitFor('all scans and alerts', () => data().length >= ids.length);
      const got = data();
      expect(got.map((m) => (JSON.parse(m.payload) as { messageId: string }).messageId)).toEqual(ids);
      expect(got.every((m) => m.qos === 1 && !m.retain)).toBe(true);
      const scan = scanPayloadSchema.parse(JSON.parse(got[0].payload));
      expect(scan).toMatchObject({ schemaVersion: 1, siteId, laneId: 'lane-1', scanId: 'lane-1-scan-00001', verdict: 'person' });
      expect(scan.evidence[0]).toEqual({ name: 'scan.jpg', kind: 'scan', contentType: 'image/jpeg', path: '/evidence/lane-1-scan-1/scan.jpg', url: expect.stringMatching(/^https:\/\/lane\.example:8080\/evidence\/lane-1-scan-1\/scan\.jpg\?exp=\d+&sig=[\w-]{43}$/) });
      // Signed with the site key in <dataDir>/evidence.key, which the lane's evidence store checks.
      const signer = evidenceUrlSigner(config);
      await signer.load();
      const link = new URL(scan.evidence[0]!.url!);
      expect(signer.verify(link.pathname, link.searchParams)).toMatchObject({ ok: true });
      const alert = alertPayloadSchema.parse(JSON.parse(got[1].payload));
      expect(alert).toMatchObject({ alertId: ids[1], kind: 'person-suspected', severity: 'critical', scanId: 'lane-1-scan-00001' });
      expect(got[0].topic).toBe(`checkpoint/${siteId}/lane-1/scan`);
      expect(got[1].topic).toBe(`checkpoint/${siteId}/lane-1/alert`);
      const db = new Database(join(config.dataDir, 'outbox.sqlite'), { readonly: true });
      await waitFor('an empty outbox', () => (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n === 0);
      db.close();
    });
  }

  it('keeps availability and status retained for subscribers that come later', async () => {
    const late = await Collector.connect(broker.url, ['checkpoint/site-v5/lane-1/availability', 'checkpoint/site-v5/lane-1/status'], { clean: true, properties: {} });
    collectors.push(late);
    await waitFor('retained availability and status', () => late.messages.length >= 2);
    const avail = late.on('/availability')[0];
    expect(avail).toMatchObject({ payload: 'online', retain: true });
    const status = statusPayloadSchema.parse(JSON.parse(late.on('/status')[0].payload));
    expect(late.on('/status')[0].retain).toBe(true);
    expect(status.devices.find((d) => d.device === 'mqtt')?.state).toBe('ok');
    expect(status.versions.edge).toBe('test');
  });

  it('answers commands: ack and disposition record an alert.event from central; bad or unauthorised commands change nothing', async () => {
    const siteId = 'site-cmd';
    const { lane, collector } = await site(siteId, 5, { commands: { allowedOperators: ['hq-alice'] } });
    const events: AlertEvent[] = [];
    lane.bus.on('alert.event', 'test', (e) => void events.push(e));
    emitScans(lane, siteId, 1, 1); // scan 1 -> person alert
    await waitFor('the alert', () => collector.on('/alert').length === 1);
    const base = `checkpoint/${siteId}/lane-1/cmd`;
    const send = async (name: string, body: unknown) => {
      const before = collector.on(`/cmd/${name}/response`).length;
      await collector.client.publishAsync(`${base}/${name}`, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });
      await waitFor(`response to ${name}`, () => collector.on(`/cmd/${name}/response`).length > before);
      return commandResponseSchema.parse(JSON.parse(collector.on(`/cmd/${name}/response`)[before].payload));
    };
    const alertId = (JSON.parse(collector.on('/alert')[0].payload) as { alertId: string }).alertId;

    expect(await send('ack', '{not json')).toMatchObject({ status: 'error', error: expect.stringContaining('not JSON') });
    expect(await send('ack', { transaction: 't0', alertId, operator: 'mallory' })).toMatchObject({ status: 'error', transaction: 't0', error: expect.stringContaining('not allowed') });
    expect(await send('ack', { transaction: 't1', alertId: 'no-such-alert', operator: 'hq-alice' })).toMatchObject({ status: 'error', error: expect.stringContaining('no alert no-such-alert') });
    expect(await send('disposition', { transaction: 't2', alertId, operator: 'hq-alice', disposition: 'maybe' })).toMatchObject({ status: 'error', error: expect.stringContaining('disposition') });
    expect(await send('reboot', { transaction: 't3' })).toMatchObject({ status: 'error', error: expect.stringContaining('unknown command') });
    expect(events).toEqual([]);

    const ok = await send('ack', { transaction: 't4', alertId, operator: 'hq-alice', note: 'seen' });
    expect(ok).toMatchObject({ status: 'ok', error: null, transaction: 't4', command: 'ack', siteId, laneId: 'lane-1' });
    expect(events).toEqual([expect.objectContaining({ alertId, type: 'acknowledged', operator: 'hq-alice', origin: 'central', note: 'seen' })]);
    // the same transaction again (a redelivery): same answer, nothing recorded twice
    expect(await send('ack', { transaction: 't4', alertId, operator: 'hq-alice', note: 'seen' })).toEqual(ok);
    expect(await send('ack', { transaction: 't5', alertId, operator: 'hq-alice' })).toMatchObject({ status: 'error', error: expect.stringContaining('already acknowledged by hq-alice') });
    expect(events).toHaveLength(1);

    expect(await send('disposition', { transaction: 't6', alertId, operator: 'hq-alice', disposition: 'false-alarm' })).toMatchObject({ status: 'ok' });
    expect(events[1]).toMatchObject({ type: 'false-alarm', origin: 'central' });
    await waitFor('two events published', () => collector.on('/event').length === 2);
    const published = collector.json('/event').map((e) => eventPayloadSchema.parse(e));
    expect(published.map((e) => [e.type, e.origin, e.messageId])).toEqual([['acknowledged', 'central', events[0].eventId], ['false-alarm', 'central', events[1].eventId]]);

    const status = await send('status', { transaction: 't7' });
    expect(statusPayloadSchema.parse(status.data).laneId).toBe('lane-1');

    const test = await send('test-alert', { transaction: 't8', operator: 'hq-alice', message: 'drill' });
    const testId = (test.data as { alertId: string }).alertId;
    await waitFor('the test alert', () => collector.json<{ alertId: string }>('/alert').some((a) => a.alertId === testId));
    expect(collector.json<{ alertId: string; kind: string }>('/alert').find((a) => a.alertId === testId)?.kind).toBe('test');

    // MQTT 5 request/response: the response topic and correlation data of the request are honoured
    const rt = `central/replies/${Math.random().toString(16).slice(2)}`;
    await collector.client.subscribeAsync(rt, { qos: 1 });
    await collector.client.publishAsync(`${base}/status`, JSON.stringify({}), { qos: 1, properties: { responseTopic: rt, correlationData: Buffer.from('corr-1') } });
    await waitFor('the reply on the response topic', () => collector.messages.some((m) => m.topic === rt));
  });

  it('the last will: mosquitto_sub sees availability go offline when the edge process is killed with SIGKILL', async () => {
    const cfgFile = join(dir, 'lwt.yaml');
    writeFileSync(cfgFile, stringify(siteConfig({ url: broker.url, dataDir: join(dir, 'lwt'), lanes: ['lane-7'], site: 'site-lwt' })));
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'checkpoint/site-lwt/+/availability', '-v', '-q', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = '';
    sub.stdout.on('data', (d: Buffer) => (lines += d.toString()));
    const edge = new EdgeProcess(cfgFile);
    try {
      await edge.waitLine('mqtt lane-7 ok');
      await waitFor('online via mosquitto_sub', () => lines.includes('checkpoint/site-lwt/lane-7/availability online'));
      await edge.kill('SIGKILL');
      await waitFor('offline via mosquitto_sub', () => lines.includes('checkpoint/site-lwt/lane-7/availability offline'));
      expect(lines.trim().split('\n').at(-1)).toBe('checkpoint/site-lwt/lane-7/availability offline');
    } finally {
      await edge.kill('SIGKILL');
      sub.kill('SIGTERM');
    }
  });
});
