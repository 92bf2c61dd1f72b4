import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { EmbeddedBroker } from '../../../runtime/embedded-broker.js';
import { alertFor } from '../../../runtime/lane-pipeline.js';
import { silentLogger } from '../../../runtime/logger.js';
import { Collector, dedup, fakeScan, mqttSite, siteConfig, waitFor } from './helpers.js';

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
    const config = validateConfig(siteConfig({ url: broker.url, dataDir: mkdtempSync(join(tmpdir(), 'mqtt-aedes-')), lanes: ['lane-1'], protocolVersion: 4, site: 'demo' }));
    const { lanes, services } = mqttSite(config, silentLogger());
    const lane = lanes[0];
    for (const s of services) await s.start();
    await waitFor('online', () => collector!.on('/availability').some((m) => m.payload === 'online'));
    const ids: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const result = fakeScan('demo', 'lane-1', i, i % 5 === 0 ? 'person' : 'clear');
      lane.bus.emit('scan.decided', { result });
      ids.push(result.scanId);
      const alert = alertFor(result);
      if (alert) {
        lane.bus.emit('alert.raised', alert);
        ids.push(alert.alertId);
      }
    }
    for (const s of services) await s.stop(); // at once: stop() waits for the outbox to drain
    expect(lane.health.get('mqtt')).toMatchObject({ state: 'offline', info: expect.objectContaining({ outboxDepth: 0 }) });
    const got = () => collector!.messages.filter((m) => /\/(scan|alert)$/.test(m.topic)).map((m) => (JSON.parse(m.payload) as { messageId: string }).messageId);
    await waitFor('every message', () => dedup(got()).unique.length >= ids.length);
    expect(dedup(got()).unique).toEqual(ids);
    await waitFor('offline', () => collector!.on('/availability').at(-1)?.payload === 'offline');
  });
});
