import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../config/load.js';
import type { AlertEvent, AuditRecord } from '../../../../core/domain.js';
import { silentLogger } from '../../../../core/logger.js';
import type { Service } from '../../../../core/service.js';
import { evidenceUrlSigner } from '../../../../outputs/evidence/evidence-urls.js';
import {
  alertPayloadSchema,
  commandResponseSchema,
  eventPayloadSchema,
  scanPayloadSchema,
  statusPayloadSchema,
} from '../../../../core/mqtt-payloads.js';
import {
  Collector,
  EdgeProcess,
  emitScans,
  skipWithoutMosquitto,
  MosquittoBroker,
  mqttSite,
  siteConfig,
  waitFor,
} from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mqtt-delivery-'));

describe.skipIf(skipWithoutMosquitto)('MQTT output against mosquitto', () => {
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
    const config = validateConfig(
      siteConfig({
        url: broker.url,
        dataDir: join(dir, siteId),
        lanes: ['lane-1'],
        protocolVersion,
        site: siteId,
        extra,
      }),
    );
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
      expect(scan).toMatchObject({
        schemaVersion: 1,
        siteId,
        laneId: 'lane-1',
        scanId: 'lane-1-scan-00001',
        verdict: 'person',
      });
      expect(scan.evidence[0]).toEqual({
        name: 'scan.jpg',
        kind: 'scan',
        contentType: 'image/jpeg',
        path: '/evidence/lane-1-scan-1/scan.jpg',
        url: expect.stringMatching(
          /^https:\/\/lane\.example:8080\/evidence\/lane-1-scan-1\/scan\.jpg\?exp=\d+&sig=[\w-]{43}$/,
        ),
      });
      // Signed with the site key in <dataDir>/evidence.key, which the lane's evidence store checks.
      const signer = evidenceUrlSigner(config);
      await signer.load();
      const link = new URL(scan.evidence[0]!.url!);
      expect(signer.verify(link.pathname, link.searchParams)).toMatchObject({ ok: true });
      const alert = alertPayloadSchema.parse(JSON.parse(got[1].payload));
      expect(alert).toMatchObject({
        alertId: ids[1],
        kind: 'person-suspected',
        severity: 'critical',
        scanId: 'lane-1-scan-00001',
      });
      expect(got[0].topic).toBe(`checkpoint/${siteId}/lane-1/scan`);
      expect(got[1].topic).toBe(`checkpoint/${siteId}/lane-1/alert`);
      const db = new Database(join(config.dataDir, 'outbox.sqlite'), { readonly: true });
      await waitFor(
        'an empty outbox',
        () => (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n === 0,
      );
      db.close();
    });
  }

  it('keeps availability and status retained for subscribers that come later', async () => {
    const late = await Collector.connect(
      broker.url,
      ['checkpoint/site-v5/lane-1/availability', 'checkpoint/site-v5/lane-1/status'],
      { clean: true, properties: {} },
    );
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
    const { lane, collector, metrics } = await site(siteId, 5, {
      commands: {
        identities: [{ name: 'central-hq' }, { name: 'central-ro', commands: ['status'] }],
        allowedOperators: ['hq-alice'],
      },
    });
    const events: AlertEvent[] = [];
    const audit: AuditRecord[] = [];
    lane.bus.on('alert.event', 'test', (e) => void events.push(e));
    lane.bus.on('audit', 'test', (a) => void audit.push(a));
    emitScans(lane, siteId, 1, 1); // scan 1 -> person alert
    await waitFor('the alert', () => collector.on('/alert').length === 1);
    const base = `checkpoint/${siteId}/lane-1/cmd`;
    const send = async (name: string, body: unknown, identity: string | null = 'central-hq') => {
      const before = collector.on(`/cmd/${name}/response`).length;
      await collector.client.publishAsync(`${base}/${name}`, typeof body === 'string' ? body : JSON.stringify(body), {
        qos: 1,
        ...(identity ? { properties: { userProperties: { 'central-identity': identity } } } : {}),
      });
      await waitFor(`response to ${name}`, () => collector.on(`/cmd/${name}/response`).length > before);
      return commandResponseSchema.parse(JSON.parse(collector.on(`/cmd/${name}/response`)[before].payload));
    };
    const alertId = (JSON.parse(collector.on('/alert')[0].payload) as { alertId: string }).alertId;

    expect(await send('ack', '{not json')).toMatchObject({
      status: 'error',
      error: expect.stringContaining('not JSON'),
    });
    expect(await send('ack', { transaction: 't0', alertId, operator: 'mallory' })).toMatchObject({
      status: 'error',
      transaction: 't0',
      error: expect.stringContaining('not allowed'),
    });
    expect(await send('ack', { transaction: 't1', alertId: 'no-such-alert', operator: 'hq-alice' })).toMatchObject({
      status: 'error',
      error: expect.stringContaining('no alert no-such-alert'),
    });
    expect(
      await send('disposition', { transaction: 't2', alertId, operator: 'hq-alice', disposition: 'maybe' }),
    ).toMatchObject({ status: 'error', error: expect.stringContaining('disposition') });
    expect(await send('reboot', { transaction: 't3' })).toMatchObject({
      status: 'error',
      error: expect.stringContaining('unknown command'),
    });
    // The acting identity comes from the configured identities, never from the payload.
    expect(await send('ack', { transaction: 'a1', alertId, operator: 'hq-alice' }, null)).toMatchObject({
      status: 'error',
      error: expect.stringContaining('name yours in the MQTT 5 user property central-identity'),
    });
    expect(await send('ack', { transaction: 'a2', alertId, operator: 'hq-alice' }, 'op1')).toMatchObject({
      status: 'error',
      error: expect.stringContaining('central identity "op1" is not allowed'),
    });
    expect(await send('ack', { transaction: 'a3', alertId, operator: 'hq-alice' }, 'central-ro')).toMatchObject({
      status: 'error',
      error: expect.stringContaining('central-ro may not send ack'),
    });
    expect(events).toEqual([]);

    const ok = await send('ack', { transaction: 't4', alertId, operator: 'hq-alice', note: 'seen' });
    expect(ok).toMatchObject({
      status: 'ok',
      error: null,
      transaction: 't4',
      command: 'ack',
      siteId,
      laneId: 'lane-1',
    });
    expect(events).toEqual([
      expect.objectContaining({
        alertId,
        type: 'acknowledged',
        operator: 'central-hq',
        onBehalfOf: 'hq-alice',
        origin: 'central',
        note: 'seen',
      }),
    ]);
    // the same transaction again (a redelivery): same answer, nothing recorded twice
    expect(await send('ack', { transaction: 't4', alertId, operator: 'hq-alice', note: 'seen' })).toEqual(ok);
    expect(await send('ack', { transaction: 't5', alertId, operator: 'hq-alice' })).toMatchObject({
      status: 'error',
      error: expect.stringContaining('already acknowledged by central-hq'),
    });
    expect(events).toHaveLength(1);

    expect(
      await send('disposition', { transaction: 't6', alertId, operator: 'hq-alice', disposition: 'false-alarm' }),
    ).toMatchObject({ status: 'ok' });
    expect(events[1]).toMatchObject({ type: 'false-alarm', origin: 'central', operator: 'central-hq' });
    await waitFor('two events published', () => collector.on('/event').length === 2);
    const published = collector.json('/event').map((e) => eventPayloadSchema.parse(e));
    expect(published.map((e) => [e.type, e.origin, e.operator, e.onBehalfOf, e.messageId])).toEqual([
      ['acknowledged', 'central', 'central-hq', 'hq-alice', events[0].eventId],
      ['false-alarm', 'central', 'central-hq', 'hq-alice', events[1].eventId],
    ]);
    // Every command, done or refused, is audited with the identity it came in under.
    expect(
      audit.filter((a) => a.action === 'acknowledge-alert').map((a) => [a.user, a.ok, a.detail?.onBehalfOf ?? null]),
    ).toEqual([
      ['central-hq', false, null],
      ['central-hq', false, 'mallory'],
      ['central-hq', false, 'hq-alice'],
      [null, false, null],
      ['op1', false, null],
      ['central-ro', false, null],
      ['central-hq', true, 'hq-alice'],
      ['central-hq', false, 'hq-alice'],
    ]);

    const status = await send('status', { transaction: 't7' }, 'central-ro');
    expect(statusPayloadSchema.parse(status.data).laneId).toBe('lane-1');

    const test = await send('test-alert', { transaction: 't8', operator: 'hq-alice', message: 'drill' });
    const testId = (test.data as { alertId: string }).alertId;
    await waitFor('the test alert', () =>
      collector.json<{ alertId: string }>('/alert').some((a) => a.alertId === testId),
    );
    expect(collector.json<{ alertId: string; kind: string }>('/alert').find((a) => a.alertId === testId)?.kind).toBe(
      'test',
    );

    // An MQTT 5 response topic pointing elsewhere (another site's alert topic) is not used:
    // the answer goes to the lane's own response topic, with the correlation data.
    const foreign = 'checkpoint/other-site/lane-9/alert';
    const spy = await Collector.connect(broker.url, [foreign]);
    collectors.push(spy);
    const before = collector.on('/cmd/status/response').length;
    await collector.client.publishAsync(`${base}/status`, JSON.stringify({ transaction: 'rt' }), {
      qos: 1,
      properties: {
        responseTopic: foreign,
        correlationData: Buffer.from('corr-1'),
        userProperties: { 'central-identity': 'central-hq' },
      },
    });
    await waitFor('the reply on the own response topic', () => collector.on('/cmd/status/response').length > before);
    await new Promise((r) => setTimeout(r, 300));
    expect(spy.messages).toEqual([]);

    // Bounded: a transaction over 200 characters is refused and not echoed; a 5 MB command is
    // never delivered (the lane announces its maximum packet size); unknown names share one label.
    expect(await send('status', { transaction: 'x'.repeat(201) })).toMatchObject({
      status: 'error',
      transaction: null,
      error: expect.stringContaining('transaction'),
    });
    const statusAnswers = collector.on('/cmd/status/response').length;
    await collector.client.publishAsync(`${base}/status`, JSON.stringify({ transaction: 'y'.repeat(5 << 20) }), {
      qos: 1,
    });
    for (let i = 0; i < 30; i++)
      await collector.client.publishAsync(`${base}/probe-${i}`, '{}', {
        qos: 1,
        properties: { userProperties: { 'central-identity': 'central-hq' } },
      });
    await waitFor(
      'answers to the 30 unknown commands',
      () => collector.messages.filter((m) => /\/cmd\/probe-\d+\/response$/.test(m.topic)).length === 30,
    );
    expect(collector.on('/cmd/status/response').length).toBe(statusAnswers);
    expect(lane.health.get('mqtt')?.state).toBe('ok');
    const series = (await metrics.registry.getSingleMetric('checkpoint_edge_mqtt_commands_total')!.get()).values.map(
      (v) => v.labels.command,
    );
    expect(new Set(series)).toEqual(new Set(['ack', 'disposition', 'status', 'test-alert', 'unknown']));
  });

  it('the last will: mosquitto_sub sees availability go offline when the edge process is killed with SIGKILL', async () => {
    const cfgFile = join(dir, 'lwt.yaml');
    writeFileSync(
      cfgFile,
      stringify(siteConfig({ url: broker.url, dataDir: join(dir, 'lwt'), lanes: ['lane-7'], site: 'site-lwt' })),
    );
    const sub = spawn(
      'mosquitto_sub',
      ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'checkpoint/site-lwt/+/availability', '-v', '-q', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let lines = '';
    sub.stdout.on('data', (d: Buffer) => (lines += d.toString()));
    const edge = new EdgeProcess(cfgFile);
    try {
      await edge.waitLine('mqtt lane-7 ok');
      await waitFor('online via mosquitto_sub', () => lines.includes('checkpoint/site-lwt/lane-7/availability online'));
      await edge.kill('SIGKILL');
      await waitFor('offline via mosquitto_sub', () =>
        lines.includes('checkpoint/site-lwt/lane-7/availability offline'),
      );
      expect(lines.trim().split('\n').at(-1)).toBe('checkpoint/site-lwt/lane-7/availability offline');
    } finally {
      await edge.kill('SIGKILL');
      sub.kill('SIGTERM');
    }
  });
});
