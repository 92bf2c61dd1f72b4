import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../config/load.js';
import { CentralClient } from '../../../../outputs/mqtt/central-client.js';
import { silentLogger } from '../../../../core/logger.js';
import type { Service } from '../../../../core/service.js';
import {
  Collector,
  haveMosquitto,
  MosquittoBroker,
  mqttSite,
  siteConfig,
  waitFor,
  skipWithoutMosquitto,
} from './helpers.js';
import { makeTestPki } from '../../../helpers/pki.js';

/**
 * The broker files shipped in docs/examples/mosquitto/, run by mosquitto as they are: only the
 * folder they name (/etc/mosquitto/checkpoint) and the listener's port are replaced, and
 * `user root` is added because the tests run as root in a temporary folder.
 */
const examples = join(import.meta.dirname, '../../../../docs/examples/mosquitto');
const dir = mkdtempSync(join(tmpdir(), 'mosq-acl-'));
const f = (name: string) => join(dir, name);

function shipped(confName: string): (port: number) => string {
  const text = readFileSync(join(examples, confName), 'utf8');
  expect(text).toContain('listener 8883\n');
  return (port) =>
    `${text.replaceAll('/etc/mosquitto/checkpoint', dir).replace('listener 8883\n', `listener ${port} 127.0.0.1\n`)}\nuser root\n`;
}

const LANE_1 = 'crossing-north-lane-1';
const LANE_2 = 'crossing-north-lane-2';
const topic = (lane: string, leaf: string) => `checkpoint/crossing-north/${lane}/${leaf}`;

async function client(url: string, opts: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    clientId: `acl-probe-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: 0,
    ca: readFileSync(f('ca.pem')),
    ...opts,
  });
  c.on('error', () => {});
  return c;
}

/** A QoS 1 publish under MQTT 5: resolves on PUBACK success, rejects on a refusal (0x87 "Not authorized"). */
const publish = (c: MqttClient, t: string, body: string) => c.publishAsync(t, body, { qos: 1 });

if (haveMosquitto) mkdirSync(dir, { recursive: true });

describe.skipIf(skipWithoutMosquitto)(
  'the documented broker ACL and password_file (docs/examples/mosquitto), run by mosquitto',
  () => {
    let broker: MosquittoBroker;
    let url = '';
    const running: Service[] = [];
    let watcher: Collector;
    const secret = (id: string) => readFileSync(f(`secrets/${id}`), 'utf8');

    beforeAll(async () => {
      makeTestPki(dir, { caName: 'checkpoint-acl-test-ca', clients: [], server: true });
      execFileSync('bash', [join(examples, 'make-passwords.sh'), dir, LANE_1, LANE_2, 'central'], { stdio: 'pipe' });
      writeFileSync(f('acl'), readFileSync(join(examples, 'acl')));
      broker = new MosquittoBroker({ config: shipped('mosquitto-passwords.conf') });
      await broker.start();
      url = `mqtts://127.0.0.1:${broker.port}`;
      watcher = await Collector.connect(url, ['checkpoint/#'], {
        ca: readFileSync(f('ca.pem')),
        username: 'central',
        password: secret('central'),
      });
      // Both lanes on one edge computer, each with its own broker account (lanes[].mqtt): the ACL
      // lets each write only its own lane's topics, so both come online only with their own.
      const raw = siteConfig({
        url,
        dataDir: join(dir, 'edge'),
        lanes: ['lane-1', 'lane-2'],
        site: 'crossing-north',
        extra: { tls: { ca: f('ca.pem') } },
      }) as { lanes: Record<string, unknown>[] };
      for (const lane of raw.lanes) {
        const identity = `crossing-north-${lane.id as string}`;
        lane.mqtt = { username: identity, password: secret(identity) };
      }
      const s = mqttSite(validateConfig(raw), silentLogger());
      for (const svc of s.services) {
        await svc.start();
        running.push(svc);
      }
      await waitFor('both lanes online', () =>
        ['lane-1', 'lane-2'].every((l) =>
          watcher.messages.some((m) => m.topic === topic(l, 'availability') && m.payload === 'online'),
        ),
      );
    });
    afterAll(async () => {
      for (const s of running.reverse()) await s.stop();
      await watcher?.close();
      await broker?.stop();
    });

    it('central command can command every lane and reads every lane', async () => {
      const central = new CentralClient({
        url,
        prefix: 'checkpoint',
        protocolVersion: 5,
        username: 'central',
        password: secret('central'),
        ca: readFileSync(f('ca.pem')),
        scans: false,
        print: () => {},
      });
      await central.connect(false);
      try {
        for (const lane of ['lane-1', 'lane-2']) {
          const r = await central.send('crossing-north', lane, 'status', {}, 10_000);
          expect(r).toMatchObject({ status: 'ok', laneId: lane });
        }
      } finally {
        await central.close();
      }
    });

    it('a lane cannot command itself or another lane (PUBACK 0x87), and neither lane acts on it', async () => {
      const rogue = await client(url, { username: LANE_1, password: secret(LANE_1) });
      try {
        await expect(
          publish(rogue, topic('lane-1', 'cmd/test-alert'), '{"operator":"op1","transaction":"self"}'),
        ).rejects.toThrow(/Not authorized/);
        await expect(
          publish(rogue, topic('lane-2', 'cmd/test-alert'), '{"operator":"op1","transaction":"other"}'),
        ).rejects.toThrow(/Not authorized/);
        await expect(publish(rogue, topic('lane-1', 'cmd/ack'), '{"alertId":"x","operator":"op1"}')).rejects.toThrow(
          /Not authorized/,
        );
        await publish(rogue, topic('lane-1', 'event'), '{"marker":"after-commands"}'); // allowed: the control
        await waitFor('the marker', () => watcher.messages.some((m) => m.payload === '{"marker":"after-commands"}'));
        expect(watcher.messages.filter((m) => /\/cmd\/(test-alert|ack)/.test(m.topic)).map((m) => m.topic)).toEqual([]);
        expect(watcher.messages.filter((m) => m.topic.endsWith('/alert'))).toEqual([]);
      } finally {
        await rogue.endAsync(true);
      }
    });

    it("a lane cannot write another lane's topics, and central command cannot write a lane's", async () => {
      const rogue = await client(url, { username: LANE_1, password: secret(LANE_1) });
      const central = await client(url, { username: 'central', password: secret('central') });
      try {
        for (const leaf of ['alert', 'scan', 'event', 'status', 'availability', 'cmd/status/response']) {
          await expect(
            publish(rogue, topic('lane-2', leaf), '{"forged":true}'),
            `lane-1 writing lane-2/${leaf}`,
          ).rejects.toThrow(/Not authorized/);
          await expect(
            publish(central, topic('lane-2', leaf), '{"forged":true}'),
            `central writing lane-2/${leaf}`,
          ).rejects.toThrow(/Not authorized/);
        }
        await publish(rogue, topic('lane-1', 'event'), '{"marker":"after-forgeries"}');
        await waitFor('the marker', () => watcher.messages.some((m) => m.payload === '{"marker":"after-forgeries"}'));
        expect(watcher.messages.filter((m) => m.payload.includes('forged'))).toEqual([]);
      } finally {
        await rogue.endAsync(true);
        await central.endAsync(true);
      }
    });

    it("central command writes receipts, a lane reads only its own and cannot forge another lane's", async () => {
      const lane1 = await client(url, { username: LANE_1, password: secret(LANE_1) });
      const central = await client(url, { username: 'central', password: secret('central') });
      try {
        // mosquitto grants the subscription and applies the read ACL to each message it would deliver.
        await lane1.subscribeAsync([topic('lane-1', 'receipt'), topic('lane-2', 'receipt')], { qos: 0 });
        const got: string[] = [];
        lane1.on('message', (t) => void got.push(t));
        const receipt = JSON.stringify({
          schemaVersion: 1,
          stored: [{ kind: 'alert', id: 'A1' }],
          at: new Date().toISOString(),
        });
        await publish(central, topic('lane-2', 'receipt'), receipt);
        await publish(central, topic('lane-1', 'receipt'), receipt);
        await waitFor("lane-1's receipt", () => got.includes(topic('lane-1', 'receipt')));
        expect(got).toEqual([topic('lane-1', 'receipt')]);
        await expect(publish(lane1, topic('lane-2', 'receipt'), receipt)).rejects.toThrow(/Not authorized/);
        await expect(publish(lane1, topic('lane-1', 'receipt'), receipt)).rejects.toThrow(/Not authorized/);
      } finally {
        await lane1.endAsync(true);
        await central.endAsync(true);
      }
    });

    it("a CA file that did not sign the broker's certificate is explained, at the central client and on the lane", async () => {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          f('other-ca.key'),
          '-out',
          f('other-ca.pem'),
          '-days',
          '2',
          '-subj',
          '/CN=another-site-ca',
        ],
        { stdio: 'ignore' },
      );
      const central = new CentralClient({
        url,
        prefix: 'checkpoint',
        protocolVersion: 5,
        username: 'central',
        password: secret('central'),
        ca: readFileSync(f('other-ca.pem')),
        caFile: f('other-ca.pem'),
        scans: false,
        print: () => {},
      });
      await expect(central.connect(false)).rejects.toThrow(
        new RegExp(
          `the broker's certificate is not signed by the CA in --ca \\(${f('other-ca.pem').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`,
        ),
      );
      const config = validateConfig(
        siteConfig({
          url,
          dataDir: join(dir, 'wrong-ca'),
          lanes: ['lane-1'],
          site: 'crossing-north',
          extra: { username: LANE_1, password: secret(LANE_1), tls: { ca: f('other-ca.pem') } },
        }),
      );
      const s = mqttSite(config, silentLogger());
      for (const svc of s.services) {
        await svc.start();
        running.push(svc);
      }
      await waitFor('the lane to explain its TLS failure', () =>
        /is not signed by the CA in mqtt\.tls\.ca/.test(s.lanes[0]!.health.get('mqtt')?.detail ?? ''),
      );
      expect(s.lanes[0]!.health.get('mqtt')?.detail).toContain('openssl s_client');
    });

    it('a wrong password is refused at connect', async () => {
      await expect(client(url, { username: LANE_1, password: 'not-the-password' })).rejects.toThrow(
        /Bad User Name or Password|Not authorized/,
      );
    });
  },
);

describe.skipIf(skipWithoutMosquitto)(
  'the documented ACL with client certificates (docs/examples/mosquitto/mosquitto-certificates.conf)',
  () => {
    let broker: MosquittoBroker;
    let url = '';
    const cert = (id: string) => ({ cert: readFileSync(f(`${id}.pem`)), key: readFileSync(f(`${id}.key`)) });

    beforeAll(async () => {
      makeTestPki(dir, { caName: 'checkpoint-acl-test-ca', clients: [LANE_1, 'central'], server: true });
      writeFileSync(f('acl'), readFileSync(join(examples, 'acl')));
      broker = new MosquittoBroker({ config: shipped('mosquitto-certificates.conf') });
      await broker.start();
      url = `mqtts://127.0.0.1:${broker.port}`;
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it("the certificate's CN is the identity: the lane writes its own results but neither commands nor another lane; central commands every lane", async () => {
      const lane = await client(url, cert(LANE_1));
      const central = await client(url, cert('central'));
      try {
        await publish(lane, topic('lane-1', 'alert'), '{"own":true}');
        await publish(lane, topic('lane-1', 'cmd/status/response'), '{"own":true}');
        await expect(publish(lane, topic('lane-1', 'cmd/status'), '{}')).rejects.toThrow(/Not authorized/);
        await expect(publish(lane, topic('lane-2', 'cmd/status'), '{}')).rejects.toThrow(/Not authorized/);
        await expect(publish(lane, topic('lane-2', 'alert'), '{}')).rejects.toThrow(/Not authorized/);
        for (const l of ['lane-1', 'lane-2', 'lane-9']) await publish(central, topic(l, 'cmd/status'), '{}');
        await expect(publish(central, topic('lane-1', 'alert'), '{}')).rejects.toThrow(/Not authorized/);
      } finally {
        await lane.endAsync(true);
        await central.endAsync(true);
      }
    });

    it('a client without a certificate is refused', async () => {
      await expect(client(url, {})).rejects.toThrow();
    });
  },
);
