import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
 * The broker is stopped for over 10 s while the edge process keeps producing scans on two
 * lanes, then restarted: every scan result and alert produced arrives, each id exactly once
 * after de-duplication, in production order per lane.
 */
describe.skipIf(skipWithoutMosquitto)('broker outage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-outage-'));
  const broker = new MosquittoBroker({ persistence: true }); // keeps the collector's session across the restart
  let edge: EdgeProcess | null = null;
  let collector: Collector | null = null;
  afterAll(async () => {
    await edge?.kill('SIGKILL');
    await collector?.close();
    await broker.stop();
  });

  it('delivers everything produced during a 10 s broker outage, in order per lane', { timeout: 60_000 }, async () => {
    await broker.start();
    collector = await Collector.connect(broker.url, ['checkpoint/site-out/#']);
    const cfg = join(dir, 'site.yaml');
    writeFileSync(
      cfg,
      stringify(
        siteConfig({
          url: broker.url,
          dataDir: join(dir, 'data'),
          lanes: ['lane-1', 'lane-2'],
          site: 'site-out',
          extra: { outbox: { maxMessages: 100_000, synchronous: 'full' } },
        }),
      ),
    );
    edge = new EdgeProcess(cfg, ['--produce', '90', '--interval-ms', '150']);
    await edge.waitLine('ready');
    await waitFor('the first messages', () => collector!.messages.some((m) => m.topic.endsWith('/scan')));

    await broker.stop();
    const atStop = edge.produced.length;
    await waitFor(
      'the edge to notice',
      () => edge!.out.includes('mqtt lane-1 disconnected') && edge!.out.includes('mqtt lane-2 disconnected'),
    );
    await new Promise((r) => setTimeout(r, 10_500));
    const atRestart = edge.produced.length;
    expect(atRestart - atStop).toBeGreaterThan(40); // scans went on during the outage
    await broker.start();

    await edge.waitLine('produced-all', 30_000);
    const produced = edge.produced;
    const dataOf = (lane: string) =>
      collector!.messages
        .filter(
          (m) => m.topic === `checkpoint/site-out/${lane}/scan` || m.topic === `checkpoint/site-out/${lane}/alert`,
        )
        .map((m) => (JSON.parse(m.payload) as { messageId: string }).messageId);
    for (const lane of ['lane-1', 'lane-2']) {
      const expected = produced.filter((p) => p.startsWith(`${lane} `)).map((p) => p.split(' ')[2]);
      await waitFor(`every message of ${lane}`, () => dedup(dataOf(lane)).unique.length >= expected.length, 20_000);
      expect(dedup(dataOf(lane)).unique).toEqual(expected);
      expect(produced.some((p) => p.startsWith(`${lane} alert `))).toBe(true);
    }
  });
});
