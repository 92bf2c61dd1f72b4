import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, JSONCodec } from 'nats';
import { CentralCommand } from '../central/central-service.js';
import { parseCentralConfig } from '../central/config.js';
import { hashPassword } from '../central/server/accounts.js';
import { openStore } from '../central/store/open-store.js';
import { configSchema } from '../config/schema.js';
import { silentLogger } from '../core/logger.js';
import { alertFor } from '../pipeline/lane-pipeline.js';
import { NatsCluster } from '../test/helpers/nats-cluster.js';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import { fakeScan, MosquittoBroker, mqttSite, siteConfig } from '../test/integration/outputs/mqtt/helpers.js';
import { scanPayload } from '../core/mqtt-payloads.js';
import { defineBench, percentile } from './harness.js';

const INGEST_MESSAGES = 10_000;
const LATENCY_ALERTS = 200;
const CROSSINGS = 1_000_000;

/** Central command: ingest into PostgreSQL, lane alert to the central UI, movement search. */
export default defineBench({
  area: 'central',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-central-'));
    const pg = await startPostgres({ fsync: true });
    try {
      if (ctx.wants('central.ingest.nats-to-postgres')) await ingestRate(ctx, dir, pg);
      if (ctx.wants('central.alert-to-ui.p50') || ctx.wants('central.alert-to-ui.p99')) await alertToUi(ctx, dir, pg);
      if (ctx.wants('central.movements.query.p50')) await movements(ctx, dir, pg);
    } finally {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

function central(dir: string, pg: TestPostgres, ingest: Record<string, unknown>): CentralCommand {
  return new CentralCommand({
    config: parseCentralConfig({
      dataDir: join(dir, 'central'),
      http: { host: '127.0.0.1', port: 0 },
      store: { kind: 'postgres', url: pg.url, poolSize: 20 },
      ingest,
    }),
    log: silentLogger(),
    noWebUi: true,
  });
}

/** Scan messages already in a JetStream stream (1 node), taken in by one central worker (16 at a time). */
async function ingestRate(
  ctx: Parameters<Parameters<typeof defineBench>[0]['run']>[0],
  dir: string,
  pg: TestPostgres,
): Promise<void> {
  const nats = new NatsCluster(1);
  await nats.start();
  try {
    const c = central(dir, pg, {
      kind: 'nats',
      servers: nats.servers,
      mqttUrl: nats.mqttUrl(0),
      replicas: 1,
      stream: 'BENCH',
      durable: 'bench',
      batch: 200,
      concurrency: 16,
    });
    // Create the stream and consumer, then stop: the messages wait in the stream.
    await c.start();
    await c.stop();
    const nc = await connect({ servers: nats.servers });
    const js = nc.jetstream();
    const codec = JSONCodec();
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < INGEST_MESSAGES; i++) {
      const lane = `lane-${i % 50}`;
      const p = scanPayload(fakeScan('bench', lane, i, i % 10 === 0 ? 'person' : 'clear'), 'https://lane.example');
      acks.push(js.publish(`checkpoint.bench.${lane}.scan`, codec.encode(p)));
      if (acks.length >= 500) await Promise.all(acks.splice(0));
    }
    await Promise.all(acks);
    await nc.close();
    const worker = central(dir, pg, {
      kind: 'nats',
      servers: nats.servers,
      mqttUrl: nats.mqttUrl(0),
      replicas: 1,
      stream: 'BENCH',
      durable: 'bench',
      batch: 200,
      concurrency: 16,
    });
    const t0 = performance.now();
    await worker.start();
    while (worker.counters.totals.stored + worker.counters.totals.duplicate < INGEST_MESSAGES)
      await new Promise((r) => setTimeout(r, 20));
    const s = (performance.now() - t0) / 1000;
    await worker.stop();
    ctx.report(
      'central.ingest.nats-to-postgres',
      INGEST_MESSAGES / s,
      'messages/s',
      `${INGEST_MESSAGES} scan messages waiting in a JetStream stream (nats-server 2.9, 1 node), validated and stored by one central worker (16 at a time) into PostgreSQL 15 with fsync on, with a receipt to the lane (NATS) and a live note (PostgreSQL NOTIFY, gathered per 25 ms) for each, loopback`,
    );
  } finally {
    await nats.stop();
  }
}

/** A real lane output (outbox, QoS 1) → mosquitto → central (PostgreSQL) → live note → the alert in the API the UI reads. */
async function alertToUi(
  ctx: Parameters<Parameters<typeof defineBench>[0]['run']>[0],
  dir: string,
  pg: TestPostgres,
): Promise<void> {
  const broker = new MosquittoBroker();
  await broker.start();
  const c = central(dir, pg, { kind: 'mqtt', url: broker.url, protocolVersion: 5, clientId: 'bench-central' });
  await c.start();
  await c.store.putAccount('bench', 'analyst', await hashPassword('bench-password'));
  const login = await fetch(`${c.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', password: 'bench-password' }),
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const config = configSchema.parse(
    siteConfig({ site: 'latency', url: broker.url, dataDir: join(dir, 'lane'), lanes: ['lane-1'] }),
  );
  const site = mqttSite(config, silentLogger());
  for (const s of site.services) await s.start();
  const lane = site.lanes[0]!;
  // The UI's live stream: on each note, the alert list is fetched as the page does.
  const seen = new Map<string, number>();
  const sse = await fetch(`${c.url}/api/live`, { headers: { cookie } });
  const reader = sse.body!.getReader();
  const pending = new Set<string>();
  void (async () => {
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value);
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const ev = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const m = /^data: (.*)$/m.exec(ev);
        if (!m) continue;
        const note = JSON.parse(m[1]!) as { kind: string; id?: string };
        if (note.kind === 'alert' && note.id && pending.has(note.id)) void refresh();
      }
    }
  })();
  // As the page does: one fetch of the alert list at a time, again if notes came in meanwhile.
  let fetching = false;
  let again = false;
  async function refresh(): Promise<void> {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    do {
      again = false;
      const list = (await (await fetch(`${c.url}/api/alerts?open=1`, { headers: { cookie } })).json()) as {
        alerts: { alertId: string }[];
      };
      const t = performance.now();
      for (const a of list.alerts) {
        if (pending.delete(a.alertId)) seen.set(a.alertId, t);
      }
    } while (again);
    fetching = false;
  }
  const raisedAt = new Map<string, number>();
  for (let n = 0; n < LATENCY_ALERTS; n++) {
    const alert = alertFor(fakeScan('latency', 'lane-1', n, 'person'))!;
    pending.add(alert.alertId);
    raisedAt.set(alert.alertId, performance.now());
    lane.bus.emit('alert.raised', alert);
    await new Promise((r) => setTimeout(r, 50));
  }
  const until = Date.now() + 30_000;
  while (seen.size < LATENCY_ALERTS && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  if (seen.size < LATENCY_ALERTS)
    throw new Error(`only ${seen.size} of ${LATENCY_ALERTS} alerts reached the central UI`);
  const ms = [...seen].map(([id, t]) => t - raisedAt.get(id)!);
  await reader.cancel();
  for (const s of site.services) await s.stop();
  await c.stop();
  await broker.stop();
  const note = `${LATENCY_ALERTS} alerts, one every 50 ms: lane outbox (SQLite, synchronous normal) → mosquitto (MQTT 5, QoS 1) → central ingest → PostgreSQL (fsync on) → live note (and its NOTIFY to other processes) → GET /api/alerts lists it`;
  ctx.report('central.alert-to-ui.p50', percentile(ms, 50), 'ms', note);
  ctx.report('central.alert-to-ui.p99', percentile(ms, 99), 'ms', note);
}

/** 1 million crossings (200 000 plates seen 5 times), then searches of a plate written loosely. */
async function movements(
  ctx: Parameters<Parameters<typeof defineBench>[0]['run']>[0],
  dir: string,
  pg: TestPostgres,
): Promise<void> {
  const store = await openStore({ kind: 'postgres', url: pg.url, poolSize: 2 }, dir);
  const t0 = performance.now();
  await store.db.query(
    `insert into scans (site_id, lane_id, message_id, scan_id, decided_at, verdict, outcome, score, model_name, model_version, plate, plate_norm, payload)
     select 'site-' || (i % 40), 'lane-' || (i % 7), 'm' || i, 's' || i, now() - (i || ' seconds')::interval, case when i % 50 = 0 then 'person' else 'clear' end, 'completed', 0.1,
            'person-fcn', '1.2.0', 'PL ' || (i % 200000), 'PL' || (i % 200000), '{"evidence":[]}'::jsonb
     from generate_series(1, $1::int) as i on conflict do nothing`,
    [CROSSINGS],
  );
  await store.db.query('analyze scans');
  const loadS = (performance.now() - t0) / 1000;
  const ms: number[] = [];
  for (let k = 0; k < 200; k++) {
    const plate = `pl ${(k * 7919) % 200000}`;
    const q0 = performance.now();
    const rows = await store.movements(plate);
    ms.push(performance.now() - q0);
    if (rows.length !== 5) throw new Error(`movements of ${plate}: ${rows.length} crossings, expected 5`);
  }
  await store.close();
  ctx.report(
    'central.movements.query.p50',
    percentile(ms, 50),
    'ms',
    `one plate (5 crossings) among ${CROSSINGS.toLocaleString('en')} stored crossings in PostgreSQL 15, normalised search, 200 queries; loading the rows took ${loadS.toFixed(0)} s`,
  );
  ctx.report('central.movements.query.p99', percentile(ms, 99), 'ms', `as above, 99th percentile`);
}
