import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnprMqttSource } from '../../../../firmware-bridge/camera/anpr-mqtt.js';
import { configSchema } from '../../../../config/schema.js';
import type { DeviceStatus } from '../../../../core/domain.js';
import { SiteRuntime } from '../../../../app/site-runtime.js';
import type { LaneEvents } from '../../../../core/events.js';
import { createLogger } from '../../../../core/logger.js';
import { skipWithoutMosquitto, MosquittoBroker, waitFor } from '../../outputs/mqtt/helpers.js';

// A site runtime whose lane takes plate reads from a topic on Debian's mosquitto, as an ANPR
// system that publishes over MQTT would send them; the broker is stopped and started again.
const TOPIC = 'anpr/lane-1/read';
let dir: string;
let broker: MosquittoBroker;
let runtime: SiteRuntime;
let camera: MqttClient;
const plates: LaneEvents['vehicle.plate'][] = [];
const warnings: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anpr-mqtt-'));
  broker = new MosquittoBroker();
  await broker.start();
  const config = configSchema.parse({
    site: { id: 'anpr-site' },
    dataDir: join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0 },
    lanes: [
      {
        id: 'lane-1',
        scanner: { fileDrop: { dir: join(dir, 'drop') } },
        anpr: { mqtt: { url: broker.url, topic: TOPIC } },
      },
    ],
  });
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as { level: number; msg: string };
      if (entry.level === 40) warnings.push(entry.msg);
    }
  });
  runtime = new SiteRuntime({
    config,
    log: createLogger({ level: 'info', destination: out }),
    version: 'test',
    announce: () => {},
  });
  await runtime.start();
  runtime.lanes[0]!.bus.on('vehicle.plate', 'test', (p) => void plates.push(p));
  camera = await connectAsync(broker.url, { clientId: 'anpr-camera', reconnectPeriod: 200 });
}, 30_000);

afterAll(async () => {
  await camera?.endAsync(true);
  await runtime?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const anprDevice = () => runtime.lanes[0]!.health.get('anpr.mqtt');

describe.skipIf(skipWithoutMosquitto)('ANPR reads over MQTT', () => {
  it('subscribes, and puts a published read on the lane bus', async () => {
    await waitFor('the anpr.mqtt device ok', () => anprDevice()?.state === 'ok');
    expect(anprDevice()?.detail).toBe(`subscribed to ${TOPIC} at ${broker.url}`);
    await camera.publishAsync(TOPIC, JSON.stringify({ plate: 'B-AB 1234', cameraId: 'plate-cam', confidence: 0.97 }), {
      qos: 1,
    });
    const read = await waitFor('the plate on the bus', () => plates.find((p) => p.plate === 'B-AB 1234'));
    expect(read).toMatchObject({ laneId: 'lane-1', cameraId: 'plate-cam' });
  });

  it('logs a message that is not a valid read, naming the topic and the problem, and goes on', async () => {
    await camera.publishAsync(TOPIC, '{"plate": "unterminated', { qos: 1 });
    await camera.publishAsync(TOPIC, JSON.stringify({ containerCode: 'MSCU12' }), { qos: 1 });
    await camera.publishAsync(TOPIC, JSON.stringify({ containerCode: 'MSCU 123456-5' }), { qos: 1 });
    const read = await waitFor('the valid read after the bad ones', () =>
      plates.find((p) => p.containerCode === 'MSCU1234565'),
    );
    expect(read.laneId).toBe('lane-1');
    expect(warnings.filter((w) => w.startsWith(`ANPR over MQTT: message on ${TOPIC} ignored`))).toEqual([
      expect.stringMatching(/invalid ANPR read: not JSON \(.*JSON.*\)$/),
      expect.stringMatching(/invalid ANPR read: containerCode: containerCode must be an ISO 6346 code/),
    ]);
    expect(anprDevice()).toMatchObject({ state: 'ok', info: expect.objectContaining({ invalid: 2 }) });
  });

  it('shows the feed offline while the broker is down, and takes reads again once it is back', async () => {
    await broker.stop();
    await waitFor('the anpr.mqtt device offline', () => anprDevice()?.state === 'offline');
    expect(anprDevice()?.detail).toMatch(/plate reads from this feed are missed meanwhile|ECONNREFUSED/);
    expect(runtime.lanes[0]!.health.snapshot().devices).toContainEqual(
      expect.objectContaining({ device: 'anpr.mqtt', state: 'offline' }),
    );
    await broker.start();
    await waitFor('the anpr.mqtt device ok again', () => anprDevice()?.state === 'ok', 20_000);
    await waitFor('the camera client reconnected', () => camera.connected);
    await camera.publishAsync(TOPIC, JSON.stringify({ plate: 'HH-XY 99' }), { qos: 1 });
    await waitFor('the plate after the outage', () => plates.find((p) => p.plate === 'HH-XY 99'));
  }, 40_000);
});

/** One AnprMqttSource on its own, with its reads, statuses and warnings. */
function source(url: string, topic: string, extra: { username?: string; password?: string } = {}) {
  const reads: string[] = [];
  const statuses: DeviceStatus[] = [];
  const warns: string[] = [];
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as { level: number; msg: string };
      if (entry.level === 40) warns.push(entry.msg);
    }
  });
  const src = new AnprMqttSource({
    laneId: 'lane-x',
    url,
    topic,
    clientId: `anpr-test-${Math.random().toString(36).slice(2)}`,
    reconnectMs: 200,
    ...extra,
    accept: (read) => void reads.push(read.plate ?? read.containerCode ?? '?'),
    publish: (s) => void statuses.push(s),
    log: createLogger({ level: 'info', destination: out }),
  });
  return { src, reads, statuses, warns, state: () => statuses.at(-1)?.state };
}

describe.skipIf(skipWithoutMosquitto)('ANPR over MQTT: stale and refused', () => {
  it('ignores a retained read, which the broker sends on subscribing, and takes the live ones', async () => {
    const topic = 'anpr/retained/read';
    await camera.publishAsync(topic, JSON.stringify({ plate: 'OLD 1' }), { qos: 1, retain: true });
    const s = source(broker.url, topic);
    await s.src.start();
    try {
      await waitFor('subscribed', () => s.state() === 'ok');
      await waitFor('the warning about the retained read', () =>
        s.warns.find((w) => w.includes(`retained message on ${topic} ignored`)),
      );
      await camera.publishAsync(topic, JSON.stringify({ plate: 'NEW 2' }), { qos: 1 });
      await waitFor('the live read', () => s.reads.includes('NEW 2'));
      expect(s.reads).toEqual(['NEW 2']);
    } finally {
      await s.src.stop();
      await camera.publishAsync(topic, '', { qos: 1, retain: true }); // clears the retained message
    }
  });

  it('reports a refused log-in as a fault, and connects once the broker accepts the account', async () => {
    const passwd = join(dir, 'anpr-passwd');
    writeFileSync(passwd, '');
    execFileSync('mosquitto_passwd', ['-b', passwd, 'other', 'other-secret'], { stdio: 'ignore' });
    const secured = new MosquittoBroker({ listenerExtra: `allow_anonymous false\npassword_file ${passwd}` });
    await secured.start();
    const s = source(secured.url, 'anpr/lane-x/read', { username: 'anpr-edge', password: 'anpr-secret-1' });
    try {
      await s.src.start();
      const fault = await waitFor('the fault', () => s.statuses.find((st) => st.state === 'fault'));
      expect(fault.detail).toMatch(/log-in refused: check anpr\.mqtt\.username and password/);
      expect(fault.detail).not.toContain('anpr-secret-1');
      expect(s.warns.filter((w) => w.includes('check lanes[].anpr.mqtt.username'))).toHaveLength(1); // once, not at every retry
      execFileSync('mosquitto_passwd', ['-b', passwd, 'anpr-edge', 'anpr-secret-1'], { stdio: 'ignore' });
      secured.child!.kill('SIGHUP'); // mosquitto reloads its password file
      await waitFor('ok once the account exists', () => s.state() === 'ok', 15_000);
    } finally {
      await s.src.stop();
      await secured.stop();
    }
  }, 30_000);
});
