import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../../app/embedded-broker.js';
import { runCli } from '../../../helpers/cli.js';

/**
 * The whole demo lane, end to end, with nothing scripted: the scanner simulator streams
 * synthesized scans over TCP, the bridge assembles them, the shipped model decides, and the
 * results reach an MQTT broker that central command would read.
 */
describe('demo lane end to end', () => {
  const broker = new EmbeddedBroker({ port: 0 });
  const received: { topic: string; payload: string }[] = [];
  let client: mqtt.MqttClient;

  beforeAll(async () => {
    await broker.start();
    client = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    await client.subscribeAsync('checkpoint/#', { qos: 1 });
    client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
  });
  afterAll(async () => {
    await client?.endAsync();
    await broker.stop();
  });

  it('decides every scan with the model and publishes each result on MQTT', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'demo-e2e-'));
    const r = await runCli(
      [
        'demo',
        '--scans',
        '3',
        '--gap-ms',
        '200',
        '--seed',
        '7',
        '--person-share',
        '0.5',
        '--port',
        '0',
        '--no-central',
        '--mqtt-url',
        broker.url,
        '--data-dir',
        dataDir,
        '--log-level',
        'warn',
      ],
      { timeoutMs: 110_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const summaries = r.stdout.split('\n').filter((l) => l.startsWith('scan '));
    expect(summaries).toHaveLength(3);
    for (const line of summaries) {
      expect(line).toMatch(/outcome=completed verdict=(person|clear) score=\d\.\d{3}/);
      expect(line).toMatch(/lines=[1-9]\d{2,}/);
      // Each vehicle's CO2 and heartbeat readings, from the Modbus simulators fed the same vehicle.
      expect(line).toMatch(
        / co2=(\d+ppm\(\+?-?\d+\)|missing|unusable) heartbeat=(\d\.\d\d|missing|unusable) fused=(person|clear)/,
      );
    }
    expect(
      summaries.some((l) => / co2=\d+ppm/.test(l)),
      summaries.join('\n'),
    ).toBe(true);
    const ids = summaries.map((l) => l.split(' ')[1]);
    await expect
      .poll(() => received.filter((m) => m.topic === 'checkpoint/demo-site/lane-1/scan').length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(3);
    const scans = received
      .filter((m) => m.topic === 'checkpoint/demo-site/lane-1/scan')
      .map((m) => JSON.parse(m.payload) as { scanId: string; verdict: string; model: { name: string } | null });
    expect(scans.map((s) => s.scanId)).toEqual(ids);
    for (const s of scans) expect(s.model?.name).toBe('person-fcn');
    const fused = received
      .filter((m) => m.topic === 'checkpoint/demo-site/lane-1/scan')
      .map((m) => JSON.parse(m.payload) as { fusion?: { senses: { sense: string }[]; missing: string[] } });
    for (const f of fused) expect(f.fusion?.senses.map((x) => x.sense)).toEqual(['xray', 'co2', 'heartbeat']);
    const persons = scans.filter((s) => s.verdict === 'person').map((s) => s.scanId);
    const alerts = received
      .filter((m) => m.topic === 'checkpoint/demo-site/lane-1/alert')
      .map((m) => JSON.parse(m.payload) as { scanId: string; kind: string });
    expect(alerts.filter((a) => a.kind === 'person-suspected').map((a) => a.scanId)).toEqual(persons);
    // The demo's watchlist has the 3rd vehicle on it: a newcomer sees a hit at once.
    expect(r.stdout).toMatch(/^watchlist: 5 entries signed and published as central would/m);
    const hits = alerts.filter((a) => a.kind === 'watchlist') as unknown as {
      scanId: string;
      watchlist: { entry: { id: string }; score: number };
    }[];
    expect(hits.map((h) => [h.scanId, h.watchlist.entry.id, h.watchlist.score])).toEqual([[ids[2], 'demo-stolen', 1]]);
    const third = scans.find((s) => s.scanId === ids[2]) as unknown as { watchlist?: { entry: { id: string } }[] };
    expect(third.watchlist?.map((h) => h.entry.id)).toEqual(['demo-stolen']);
    const availability = received
      .filter((m) => m.topic === 'checkpoint/demo-site/lane-1/availability')
      .map((m) => m.payload);
    expect(availability[0]).toBe('online');
    expect(availability.at(-1)).toBe('offline');
  });
});
