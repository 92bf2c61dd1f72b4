import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CentralProcess } from '../../helpers/central-process.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { haveMosquitto, MosquittoBroker } from '../outputs/mqtt/helpers.js';
import { alertMsg } from './fixtures.js';

const canRun = haveMosquitto && existsSync('/usr/lib/postgresql/15/bin/initdb');

/** The notes of one page's live stream (GET /api/live), as they arrive. */
async function liveStream(
  url: string,
  cookie: string,
): Promise<{ notes: { kind: string; id?: string }[]; close(): void }> {
  const ac = new AbortController();
  const res = await fetch(`${url}/api/live`, { headers: { cookie }, signal: ac.signal });
  expect(res.status).toBe(200);
  const notes: { kind: string; id?: string }[] = [];
  const reader = res.body!.getReader();
  void (async () => {
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += Buffer.from(value).toString('utf8');
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const event = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (event.startsWith('data: ')) notes.push(JSON.parse(event.slice(6)) as { kind: string; id?: string });
        }
      }
    } catch {
      // aborted
    }
  })();
  return { notes, close: () => ac.abort() };
}

describe.runIf(canRun)('two central processes on one PostgreSQL', () => {
  let dir: string;
  let pg: TestPostgres;
  let broker: MosquittoBroker;
  let lane: MqttClient;
  const workers: CentralProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'central-workers-'));
    pg = await startPostgres();
    broker = new MosquittoBroker({ persistence: false });
    await broker.start();
    // Each process has its own MQTT session; the one that stores a message first sends the note.
    for (const name of ['w1', 'w2']) {
      const file = join(dir, `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          dataDir: join(dir, name),
          http: { host: '127.0.0.1', port: 0 },
          store: { kind: 'postgres', url: pg.url, poolSize: 4 },
          ingest: { kind: 'mqtt', url: broker.url, protocolVersion: 5, clientId: `central-${name}` },
          accounts: { bootstrapAdmin: { name: 'admin', password: 'admin-password-1' } },
        }),
      );
      const w = new CentralProcess(file, name);
      workers.push(w);
      await w.ready(); // one at a time: the first makes the admin account
    }
    lane = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'lane-sim', reconnectPeriod: 0 });
  }, 180_000);

  afterAll(async () => {
    await lane?.endAsync();
    for (const w of workers) await w.kill('SIGTERM');
    await broker?.stop();
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("shows every stored message on every process's live stream (LISTEN/NOTIFY)", async () => {
    const streams: Awaited<ReturnType<typeof liveStream>>[] = [];
    for (const w of workers) {
      const { cookie } = await w.login('admin', 'admin-password-1');
      streams.push(await liveStream(w.url, cookie!));
    }
    try {
      const alerts = ['L1', 'L2', 'L3'].map((scanId) => alertMsg({ scanId }));
      for (const a of alerts) await lane.publishAsync('checkpoint/site-a/lane-1/alert', JSON.stringify(a), { qos: 1 });
      const ids = alerts.map((a) => a.messageId).sort();
      const t0 = Date.now();
      const seen = (i: number) =>
        [...new Set(streams[i]!.notes.filter((n) => n.kind === 'alert').map((n) => n.id!))].sort();
      while ((seen(0).length < 3 || seen(1).length < 3) && Date.now() - t0 < 20_000)
        await new Promise((r) => setTimeout(r, 50));
      expect(seen(0), 'notes on w1').toEqual(ids);
      expect(seen(1), 'notes on w2').toEqual(ids);
    } finally {
      for (const s of streams) s.close();
    }
  }, 60_000);

  it('counts failed log-ins across the processes: five wrong passwords spread over both lock the name on each', async () => {
    for (let i = 0; i < 5; i++) expect((await workers[i % 2]!.login('admin', 'wrong-password')).status).toBe(401);
    // Three failures reached one process and two the other: a per-process count would not lock yet.
    expect((await workers[0]!.login('admin', 'admin-password-1')).status).toBe(429);
    expect((await workers[1]!.login('admin', 'admin-password-1')).status).toBe(429);
  }, 60_000);
});
