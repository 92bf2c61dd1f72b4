import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../config/schema.js';
import type { Lane } from '../../../app/context.js';
import { alertFor } from '../../../pipeline/lane-pipeline.js';
import { silentLogger } from '../../../core/logger.js';
import type { Service } from '../../../core/service.js';
import { openPostgresDriver } from '../../../central/store/postgres-driver.js';
import { CentralProcess } from '../../helpers/central-process.js';
import { NATS_SERVER, NatsCluster } from '../../helpers/nats-cluster.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { fakeScan, mqttSite, siteConfig } from '../outputs/mqtt/helpers.js';

const SITES = ['north', 'east', 'south'];
const LANES_PER_SITE = 7; // 21 lanes
const SCANS_PER_LANE = 40;
const canRun = existsSync(NATS_SERVER) && existsSync('/usr/lib/postgresql/15/bin/initdb');

// nats-server 2.9 answers an MQTT QoS 1 PUBLISH with a PUBACK once it has handed the message to
// NATS as a plain publish: the stream takes it only if its leader is reachable then. The node
// killed here is the stream's leader, so while the others elect a new one every lane's messages
// go nowhere, PUBACK or not. The lanes therefore confirm by central's receipt
// (mqtt.delivery.confirmBy central). CENTRAL_NATS_CONFIRM_BY=broker runs the same test with the
// PUBACK as the confirmation: it loses alerts.
const CONFIRM_BY = process.env.CENTRAL_NATS_CONFIRM_BY === 'broker' ? 'broker' : 'central';

describe.runIf(canRun)('central on a 3-node NATS JetStream cluster and PostgreSQL', () => {
  let dir: string;
  let pg: TestPostgres;
  let nats: NatsCluster;
  const workers: CentralProcess[] = [];
  const lanes: Lane[] = [];
  const services: Service[] = [];
  let killed = -1;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'central-nats-'));
    pg = await startPostgres();
    nats = new NatsCluster(3);
    await nats.start();
    const central = {
      dataDir: join(dir, 'central'),
      http: { host: '127.0.0.1', port: 0 },
      store: { kind: 'postgres', url: pg.url, poolSize: 8 },
      ingest: { kind: 'nats', servers: nats.servers, mqttUrl: nats.mqttUrl(0), ackWaitS: 3, replicas: 3, batch: 50 },
      accounts: { bootstrapAdmin: { name: 'admin', password: 'admin-password-1' } },
    };
    writeFileSync(join(dir, 'central.json'), JSON.stringify(central));
    // The first worker creates the stream and consumer; the second joins the same durable consumer.
    workers.push(new CentralProcess(join(dir, 'central.json'), 'w1'));
    await workers[0]!.ready();
    workers.push(new CentralProcess(join(dir, 'central.json'), 'w2'));
    await workers[1]!.ready();
    // The last site's lanes publish to the node that leads the stream: the one killed mid-run.
    // nats-server keeps MQTT QoS 1 messages in its own stream $MQTT_msgs too (created at the first
    // MQTT connection); were its leader killed as well, the surviving nodes would stop answering
    // QoS 1 publishes during the election (nothing acknowledged, so nothing lost), and the test
    // would not meet the loss. So the stream's leader is moved off $MQTT_msgs's node first.
    const probe = await mqtt.connectAsync(nats.mqttUrl(0), {
      protocolVersion: 4,
      clientId: 'probe',
      reconnectPeriod: 0,
    });
    await probe.publishAsync('probe/creates-the-mqtt-streams', 'x', { qos: 1 });
    await probe.endAsync();
    const leader = await nats.moveStreamLeaderOff('CHECKPOINT', await nats.streamLeader('$MQTT_msgs'));
    killed = nats.nodes.findIndex((n) => n.name === leader);
    expect(killed, `stream leader ${leader} is one of the nodes`).toBeGreaterThanOrEqual(0);
    const order = [...nats.nodes.keys()].filter((i) => i !== killed).concat(killed);
    // Real lane MQTT outputs (durable outbox, QoS 1, MQTT 3.1.1), each site on its own node's listener.
    // An edge computer serves at most 4 lanes: a site's lanes are split over several, in order.
    for (const [i, site] of SITES.entries()) {
      const siteLanes = Array.from({ length: LANES_PER_SITE }, (_, j) => `lane-${j + 1}`);
      for (let box = 0; box * 4 < siteLanes.length; box++) {
        const config = configSchema.parse(
          siteConfig({
            site,
            url: nats.mqttUrl(order[i]!),
            protocolVersion: 4,
            dataDir: join(dir, site, `box-${box + 1}`),
            lanes: siteLanes.slice(box * 4, box * 4 + 4),
            extra: { delivery: { confirmBy: CONFIRM_BY, receiptTimeoutS: 5 } },
          }),
        );
        const s = mqttSite(config, silentLogger());
        lanes.push(...s.lanes);
        services.push(...s.services);
      }
    }
    for (const s of services) await s.start();
  }, 180_000);

  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    // A lane output drains its outbox for a bounded time at stop; do not wait on it beyond that.
    await Promise.all(
      services.map((s) => Promise.race([s.stop().catch(() => {}), new Promise((r) => setTimeout(r, 15_000))])),
    );
    await nats?.stop();
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  it('stores every alert of 21 lanes exactly once while a NATS node and a central worker are killed', async () => {
    const expected = new Set<string>();
    let killedNode = false;
    for (let n = 1; n <= SCANS_PER_LANE; n++) {
      for (const lane of lanes) {
        const siteId = SITES[Math.floor(lanes.indexOf(lane) / LANES_PER_SITE)]!;
        const result = fakeScan(siteId, lane.id, n, n % 2 === 0 ? 'person' : 'clear');
        lane.bus.emit('scan.decided', { result });
        const alert = alertFor(result);
        if (alert) {
          lane.bus.emit('alert.raised', alert);
          expected.add(`${siteId}/${lane.id}/${alert.alertId}`);
        }
      }
      if (n === 10) await workers[0]!.kill('SIGKILL');
      if (n === 20) {
        // The stream leader, and the node the "south" lanes publish to: they lose their link mid-run
        // and queue in their outboxes, while the other lanes publish into a leader election.
        await nats.kill(killed);
        killedNode = true;
      }
      if (n === 32 && killedNode) await nats.startNode(killed);
      await new Promise((r) => setTimeout(r, 60));
    }
    expect(expected.size).toBe(SITES.length * LANES_PER_SITE * (SCANS_PER_LANE / 2));

    const db = await openPostgresDriver({ url: pg.url, poolSize: 2 });
    try {
      const t0 = Date.now();
      let rows: { k: string }[] = [];
      // Generous: on a loaded machine the restarted node rejoins, and its lanes replay, slowly.
      while (Date.now() - t0 < 180_000) {
        rows = await db.query<{ k: string }>("select site_id || '/' || lane_id || '/' || alert_id as k from alerts");
        if (rows.length >= expected.size) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const stored = rows.map((r) => r.k);
      const missing = [...expected].filter((k) => !stored.includes(k));
      expect(
        missing,
        `alerts never stored (of ${expected.size}); worker w2 log: ${workers[1]!.err.slice(-2000)}`,
      ).toEqual([]);
      expect(stored.length, 'alert rows (a duplicate would add one)').toBe(expected.size);
      const [scans] = await db.query<{ n: number }>('select count(*)::int as n from scans');
      expect(scans!.n).toBe(SITES.length * LANES_PER_SITE * SCANS_PER_LANE);
    } finally {
      await db.close();
    }

    // In the UI: the surviving worker's API lists each alert once.
    const w = workers[1]!;
    const login = await w.login('admin', 'admin-password-1');
    expect(login.status).toBe(200);
    const cookieHeader = login.cookie!;
    const api = (await (await fetch(`${w.url}/api/alerts`, { headers: { cookie: cookieHeader } })).json()) as {
      alerts: { siteId: string; laneId: string; alertId: string }[];
    };
    const shown = api.alerts.map((a) => `${a.siteId}/${a.laneId}/${a.alertId}`);
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown.length).toBe(expected.size);
  }, 360_000);
});
