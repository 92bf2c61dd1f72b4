import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Collector,
  dedup,
  EdgeProcess,
  skipWithoutMosquitto,
  MosquittoBroker,
  siteConfig,
  waitFor,
} from './helpers.js';

/**
 * The edge process is killed with SIGKILL while it publishes a backlog, then started again on
 * the same data folder: the outbox on disk is replayed, and every message produced arrives,
 * each id exactly once after de-duplication, in order per lane.
 */
describe.skipIf(skipWithoutMosquitto)('edge process killed mid-publish', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-kill-'));
  const broker = new MosquittoBroker();
  const edges: EdgeProcess[] = [];
  let collector: Collector | null = null;
  afterAll(async () => {
    for (const e of edges) await e.kill('SIGKILL');
    await collector?.close();
    await broker.stop();
  });

  it('replays the outbox after a restart: nothing lost, order kept', { timeout: 60_000 }, async () => {
    await broker.start();
    collector = await Collector.connect(broker.url, ['checkpoint/site-kill/#']);
    const cfg = join(dir, 'site.yaml');
    const dataDir = join(dir, 'data');
    writeFileSync(
      cfg,
      stringify(
        siteConfig({
          url: broker.url,
          dataDir,
          lanes: ['lane-1', 'lane-2'],
          site: 'site-kill',
          extra: { outbox: { maxMessages: 100_000, synchronous: 'normal' } },
        }),
      ),
    );
    const data = () => collector!.messages.filter((m) => m.topic.endsWith('/scan') || m.topic.endsWith('/alert'));

    // A backlog: 1000 scans per lane (about 3 500 messages) go into the outbox before the first
    // publish. synchronous=normal: a killed process must lose nothing even so (docs/mqtt.md).
    const first = new EdgeProcess(cfg, ['--produce', '1000']);
    edges.push(first);
    await first.waitLine('produced-all', 40_000);
    await waitFor('publishing under way', () => data().length >= 30, 20_000);
    await first.kill('SIGKILL');
    const receivedAtKill = data().length;
    const db = new Database(join(dataDir, 'outbox.sqlite'));
    const queued = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
    db.close();
    expect(queued).toBeGreaterThan(0); // killed mid-publish: part of the backlog is still on disk
    expect(receivedAtKill).toBeLessThan(first.produced.length);

    const second = new EdgeProcess(cfg, ['--produce', '5', '--first', '10000']);
    edges.push(second);
    await second.waitLine('produced-all', 30_000);
    const produced = [...first.produced, ...second.produced];
    for (const lane of ['lane-1', 'lane-2']) {
      const expected = produced.filter((p) => p.startsWith(`${lane} `)).map((p) => p.split(' ')[2]);
      const got = () =>
        data()
          .filter((m) => m.topic.includes(`/${lane}/`))
          .map((m) => (JSON.parse(m.payload) as { messageId: string }).messageId);
      await waitFor(`every message of ${lane}`, () => dedup(got()).unique.length >= expected.length, 30_000);
      expect(dedup(got()).unique).toEqual(expected);
    }
    await second.kill('SIGTERM');
  });
});
