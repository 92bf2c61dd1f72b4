import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector, EdgeProcess, skipWithoutMosquitto, MosquittoBroker, siteConfig, waitFor } from './helpers.js';

/**
 * Credentials from the environment (${MQTT_USERNAME}/${MQTT_PASSWORD} in the config file), and
 * the persistent session: a command sent while the lane is down is carried out when it is back.
 */
describe.skipIf(skipWithoutMosquitto)('credentials and the persistent session (mosquitto)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-cred-'));
  const broker = new MosquittoBroker({ listenerExtra: `allow_anonymous false\npassword_file ${join(dir, 'passwd')}` });
  const edges: EdgeProcess[] = [];
  let central: Collector | null = null;
  const cfg = join(dir, 'site.yaml');

  beforeAll(async () => {
    execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'lane-1', 's3cret-lane'], { stdio: 'ignore' });
    execFileSync('mosquitto_passwd', ['-b', join(dir, 'passwd'), 'central', 's3cret-central'], { stdio: 'ignore' });
    await broker.start();
    central = await Collector.connect(broker.url, ['checkpoint/site-cred/#'], {
      username: 'central',
      password: 's3cret-central',
    });
    writeFileSync(
      cfg,
      stringify(
        siteConfig({
          url: broker.url,
          dataDir: join(dir, 'data'),
          lanes: ['lane-1'],
          site: 'site-cred',
          extra: { username: '${MQTT_USERNAME}', password: '${MQTT_PASSWORD}' },
        }),
      ),
    );
  });
  afterAll(async () => {
    for (const e of edges) await e.kill('SIGKILL');
    await central?.close();
    await broker.stop();
  });

  it('a wrong password from the environment is reported with what to check, and the lane keeps trying', async () => {
    const edge = new EdgeProcess(cfg, [], { MQTT_USERNAME: 'lane-1', MQTT_PASSWORD: 'wrong' });
    edges.push(edge);
    await edge.waitLine('mqtt lane-1 disconnected');
    await edge.waitLine('not authorised (check mqtt.username/mqtt.password');
    await waitFor('a second attempt', () => edge.out.split('mqtt lane-1 disconnected').length > 2);
    await edge.kill('SIGKILL');
  });

  it('connects with the right credentials; a command sent while the lane is down is carried out when it is back', {
    timeout: 90_000,
  }, async () => {
    const env = { MQTT_USERNAME: 'lane-1', MQTT_PASSWORD: 's3cret-lane' };
    const first = new EdgeProcess(cfg, ['--produce', '1'], env); // scan 1: a person alert
    edges.push(first);
    await waitFor('the alert', () => central!.on('/alert').length === 1, 40_000);
    const alertId = central!.json<{ alertId: string }>('/alert')[0].alertId;
    await first.kill('SIGKILL');
    await waitFor('offline (last will)', () => central!.on('/availability').at(-1)?.payload === 'offline');

    await central!.client.publishAsync(
      'checkpoint/site-cred/lane-1/cmd/ack',
      JSON.stringify({ transaction: 'while-down', alertId, operator: 'hq' }),
      { qos: 1 },
    );
    const second = new EdgeProcess(cfg, [], env);
    edges.push(second);
    await waitFor('the answer after the restart', () => central!.on('/cmd/ack/response').length === 1, 40_000);
    expect(JSON.parse(central!.on('/cmd/ack/response')[0].payload)).toMatchObject({
      status: 'ok',
      transaction: 'while-down',
      data: { alertId, type: 'acknowledged', origin: 'central' },
    });
    await waitFor('the event', () => central!.json<{ alertId: string }>('/event').some((e) => e.alertId === alertId));
  });
});
