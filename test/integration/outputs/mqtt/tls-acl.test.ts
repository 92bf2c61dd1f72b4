import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../config/load.js';
import { alertFor } from '../../../../pipeline/lane-pipeline.js';
import { silentLogger } from '../../../../core/logger.js';
import type { Service } from '../../../../core/service.js';
import {
  Collector,
  fakeScan,
  skipWithoutMosquitto,
  MosquittoBroker,
  mqttSite,
  siteConfig,
  waitFor,
} from './helpers.js';
import { makeTestPki } from '../../../helpers/pki.js';

const dir = mkdtempSync(join(tmpdir(), 'mqtt-tls-'));
const f = (name: string) => join(dir, name);

describe.skipIf(skipWithoutMosquitto)('TLS with client certificates and a per-lane ACL (mosquitto)', () => {
  let broker: MosquittoBroker;
  let url = '';
  const running: Service[] = [];
  let central: Collector;

  beforeAll(async () => {
    makeTestPki(dir, { caName: 'checkpoint-test-ca', clients: ['lane-1', 'central'], server: true });
    const acl = [
      'user lane-1',
      ...['availability', 'status', 'scan', 'alert', 'event', 'cmd/+/response'].map(
        (leaf) => `topic write checkpoint/site-tls/lane-1/${leaf}`,
      ),
      'topic read checkpoint/site-tls/lane-1/cmd/+',
      'user central',
      'topic readwrite checkpoint/#',
    ];
    writeFileSync(f('acl'), `${acl.join('\n')}\n`);
    broker = new MosquittoBroker({
      listenerExtra: [
        `cafile ${f('ca.pem')}`,
        `certfile ${f('server.pem')}`,
        `keyfile ${f('server.key')}`,
        'require_certificate true',
        'use_identity_as_username true',
        'allow_anonymous false',
        `acl_file ${f('acl')}`,
      ].join('\n'),
    });
    await broker.start();
    url = `mqtts://127.0.0.1:${broker.port}`;
    central = await Collector.connect(url, ['checkpoint/#'], {
      ca: readFileSync(f('ca.pem')),
      cert: readFileSync(f('central.pem')),
      key: readFileSync(f('central.key')),
    });
  });
  afterAll(async () => {
    for (const s of running.reverse()) await s.stop();
    await central?.close();
    await broker?.stop();
  });

  async function edge(laneId: string) {
    const config = validateConfig(
      siteConfig({
        url,
        dataDir: join(dir, laneId),
        lanes: [laneId],
        site: 'site-tls',
        extra: { tls: { ca: f('ca.pem'), cert: f('lane-1.pem'), key: f('lane-1.key') } },
      }),
    );
    const s = mqttSite(config, silentLogger());
    for (const svc of s.services) {
      await svc.start();
      running.push(svc);
    }
    return { lane: s.lanes[0], config };
  }

  it('a lane with its certificate publishes under its own prefix; central command receives it', async () => {
    const { lane } = await edge('lane-1');
    await waitFor('lane-1 online', () =>
      central.messages.some((m) => m.topic === 'checkpoint/site-tls/lane-1/availability' && m.payload === 'online'),
    );
    const result = fakeScan('site-tls', 'lane-1', 1, 'person');
    lane.bus.emit('scan.decided', { result });
    const alert = alertFor(result)!;
    lane.bus.emit('alert.raised', alert);
    await waitFor('the alert', () => central.on('lane-1/alert').length === 1);
    expect(central.json<{ alertId: string }>('lane-1/alert')[0].alertId).toBe(alert.alertId);
    expect(lane.health.get('mqtt')?.state).toBe('ok');
  });

  it('the ACL refuses a publish under another lane\'s prefix (PUBACK "not authorized"), and nothing reaches central command', async () => {
    const rogue = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      clientId: 'rogue-lane-1',
      ca: readFileSync(f('ca.pem')),
      cert: readFileSync(f('lane-1.pem')),
      key: readFileSync(f('lane-1.key')),
      reconnectPeriod: 0,
    });
    try {
      await expect(
        rogue.publishAsync('checkpoint/site-tls/lane-2/alert', '{"forged":true}', { qos: 1 }),
      ).rejects.toThrow(/Not authorized/);
      await rogue.publishAsync('checkpoint/site-tls/lane-1/event', '{"marker":true}', { qos: 1 });
      await waitFor('the marker after the refused publish', () =>
        central.messages.some((m) => m.payload === '{"marker":true}'),
      );
      expect(central.messages.some((m) => m.topic.startsWith('checkpoint/site-tls/lane-2/'))).toBe(false);
    } finally {
      await rogue.endAsync(true);
    }
  });

  it('an edge whose certificate does not match its lane reports a fault and keeps its messages in the outbox', async () => {
    const { lane, config } = await edge('lane-2');
    await waitFor('mqtt fault on lane-2', () => lane.health.get('mqtt')?.state === 'fault');
    expect(lane.health.get('mqtt')?.detail).toMatch(/Not authorized.*ACL/);
    lane.bus.emit('scan.decided', { result: fakeScan('site-tls', 'lane-2', 1, 'clear') });
    const db = new Database(join(config.dataDir, 'outbox.sqlite'), { readonly: true });
    expect((db.prepare("SELECT count(*) AS n FROM outbox WHERE lane = 'lane-2'").get() as { n: number }).n).toBe(1);
    db.close();
    expect(central.messages.some((m) => m.topic.startsWith('checkpoint/site-tls/lane-2/'))).toBe(false);
  });
});
