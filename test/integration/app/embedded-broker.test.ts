import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { MqttLink } from '../../../outputs/mqtt/mqtt-link.js';
import { EmbeddedBroker } from '../../../app/embedded-broker.js';
import { alertFor } from '../../../pipeline/lane-pipeline.js';
import { silentLogger } from '../../../core/logger.js';
import { Collector, dedup, emitScans, fakeScan, mqttSite, siteConfig, waitFor } from '../outputs/mqtt/helpers.js';

/** The demo's path: the embedded aedes broker with MQTT 3.1.1, as `npm start` runs it. */
describe('MQTT output against the embedded aedes broker (MQTT 3.1.1)', () => {
  const broker = new EmbeddedBroker({ port: 0 });
  let collector: Collector | null = null;
  afterAll(async () => {
    await collector?.close();
    await broker.stop();
  });

  it('publishes, and on an orderly stop flushes the outbox and says offline', async () => {
    await broker.start();
    collector = await Collector.connect(broker.url, ['checkpoint/#'], { protocolVersion: 4, clean: true });
    const config = validateConfig(
      siteConfig({
        url: broker.url,
        dataDir: mkdtempSync(join(tmpdir(), 'mqtt-aedes-')),
        lanes: ['lane-1'],
        protocolVersion: 4,
        site: 'demo',
      }),
    );
    const { lanes, services } = mqttSite(config, silentLogger());
    const lane = lanes[0];
    for (const s of services) await s.start();
    await waitFor('online', () => collector!.on('/availability').some((m) => m.payload === 'online'));
    const ids = emitScans(lane, 'demo', 1, 20, (n) => (n % 5 === 0 ? 'person' : 'clear'));
    for (const s of services) await s.stop(); // at once: stop() waits for the outbox to drain
    expect(lane.health.get('mqtt')).toMatchObject({
      state: 'offline',
      info: expect.objectContaining({ outboxDepth: 0 }),
    });
    const got = () =>
      collector!.messages
        .filter((m) => /\/(scan|alert)$/.test(m.topic))
        .map((m) => (JSON.parse(m.payload) as { messageId: string }).messageId);
    await waitFor('every message', () => dedup(got()).unique.length >= ids.length);
    expect(dedup(got()).unique).toEqual(ids);
    await waitFor('offline', () => collector!.on('/availability').at(-1)?.payload === 'offline');
  });
});

describe('an outbox file that cannot be opened', () => {
  it('falls back to an outbox in memory, still publishes, and says so in the lane status', async () => {
    const broker = new EmbeddedBroker({ port: 0 });
    await broker.start();
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-badfile-'));
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    const config = validateConfig(
      siteConfig({
        url: broker.url,
        dataDir: dir,
        lanes: ['lane-1'],
        protocolVersion: 4,
        site: 'bad',
        extra: { outbox: { path: join(dir, 'not-a-folder', 'outbox.sqlite'), maxMessages: 1000, synchronous: 'full' } },
      }),
    );
    const { lanes, services } = mqttSite(config, silentLogger());
    const collector = await Collector.connect(broker.url, ['checkpoint/bad/#'], { protocolVersion: 4, clean: true });
    try {
      for (const s of services) await s.start();
      await waitFor('degraded mqtt', () => lanes[0].health.get('mqtt')?.state === 'degraded');
      expect(lanes[0].health.get('mqtt')?.detail).toMatch(
        /connected to .*; MQTT outbox .*not-a-folder.*cannot open the SQLite file.*queueing in memory/,
      );
      const result = fakeScan('bad', 'lane-1', 1, 'person');
      lanes[0].bus.emit('scan.decided', { result });
      lanes[0].bus.emit('alert.raised', alertFor(result)!);
      await waitFor('the alert', () => collector.on('/alert').length === 1);
    } finally {
      for (const s of services) await s.stop();
      await collector.close();
      await broker.stop();
    }
  });
});

describe('MqttLink with a broker that never acknowledges', () => {
  it('rejects the publishes left without PUBACK when the connection is dropped, so nothing waits forever', async () => {
    const aedes = await Aedes.createBroker({
      authorizePublish: (_client, packet, cb) => {
        if (packet.topic !== 'held') cb(null);
      },
    });
    const server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const link = new MqttLink({
      url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`,
      protocolVersion: 4,
      clientId: 'held-test',
      keepaliveS: 30,
      reconnect: { initialMs: 50, maxMs: 100 },
      sessionExpiryS: 0,
      will: { topic: 'w', payload: 'offline' },
      log: silentLogger(),
    });
    try {
      const connected = new Promise<void>((r) => link.once('connected', () => r()));
      link.start();
      await connected;
      const held = link.publish('held', 'x', { qos: 1 });
      await link.publish('free', 'y', { qos: 1 }); // the connection works
      link.recycle('test drop');
      await expect(held).rejects.toThrow(/connection lost before PUBACK \(test drop\)/);
    } finally {
      await link.stop(100);
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
