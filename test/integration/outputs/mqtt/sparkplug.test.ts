import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { Collector, EdgeProcess, skipWithoutMosquitto, MosquittoBroker, siteConfig, waitFor } from './helpers.js';

/** Eclipse Tahu's reference decoder plays the SCADA host. */
const tahu = (
  createRequire(import.meta.url)('sparkplug-payload') as {
    get(ns: string): {
      encodePayload(p: unknown): Uint8Array;
      decodePayload(b: Uint8Array): { seq?: unknown; metrics: { name: string; value: unknown }[] };
    };
  }
).get('spBv1.0');
const n = (v: unknown) =>
  v && typeof v === 'object' && 'low' in v ? Number((v as { toString(): string }).toString()) : v;
const metric = (p: { metrics: { name: string; value: unknown }[] }, name: string) =>
  n(p.metrics.find((m) => m.name === name)?.value);

describe.skipIf(skipWithoutMosquitto)('Sparkplug B output (mosquitto)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-spb-'));
  const broker = new MosquittoBroker();
  const edges: EdgeProcess[] = [];
  let host: Collector | null = null;
  afterAll(async () => {
    for (const e of edges) await e.kill('SIGKILL');
    await host?.close();
    await broker.stop();
  });

  it('NBIRTH with bdSeq on connect, NDATA on scans, Rebirth on NCMD, NDEATH with the same bdSeq when the edge is killed', {
    timeout: 40_000,
  }, async () => {
    await broker.start();
    host = await Collector.connect(broker.url, ['spBv1.0/#'], { protocolVersion: 4, clean: true });
    const cfg = join(dir, 'site.yaml');
    writeFileSync(
      cfg,
      stringify(
        siteConfig({
          url: broker.url,
          dataDir: join(dir, 'data'),
          lanes: ['lane-1'],
          site: 'site-sp',
          protocolVersion: 4,
          extra: { sparkplug: { enabled: true, groupId: 'border' } },
        }),
      ),
    );
    const of = (type: string) =>
      host!.messages
        .filter((m) => m.topic === `spBv1.0/border/${type}/site-sp-lane-1`)
        .map((m) => tahu.decodePayload(m.raw));

    const first = new EdgeProcess(cfg, ['--produce', '3', '--interval-ms', '400']);
    edges.push(first);
    await waitFor('NBIRTH', () => of('NBIRTH').length > 0, 20_000);
    const birth = of('NBIRTH')[0];
    expect(n(birth.seq)).toBe(0);
    const bdSeq = metric(birth, 'bdSeq') as number;
    expect(typeof bdSeq).toBe('number');
    expect(metric(birth, 'Node Control/Rebirth')).toBe(false);
    expect(metric(birth, 'Properties/Lane')).toBe('lane-1');
    expect(metric(birth, 'Lane/Overall')).toBe('detection-unavailable');

    await first.waitLine('produced-all');
    await waitFor('NDATA with the scans', () => of('NDATA').some((d) => metric(d, 'Scans/Count') === 3));
    const seqs = of('NDATA').map((d) => n(d.seq) as number);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // 1, 2, 3 ... after the birth's 0
    await waitFor('NDATA with the last alert', () =>
      of('NDATA').some(
        (d) => metric(d, 'Alerts/Last/Kind') === 'detection-unavailable' && metric(d, 'Alerts/Count') === 2,
      ),
    );

    await host.client.publishAsync(
      'spBv1.0/border/NCMD/site-sp-lane-1',
      Buffer.from(
        tahu.encodePayload({
          timestamp: Date.now(),
          metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }],
        }),
      ),
      { qos: 0 },
    );
    await waitFor('the rebirth', () => of('NBIRTH').length === 2);
    expect(metric(of('NBIRTH')[1], 'bdSeq')).toBe(bdSeq);
    expect(metric(of('NBIRTH')[1], 'Scans/Count')).toBe(3);

    await first.kill('SIGKILL');
    await waitFor('NDEATH', () => of('NDEATH').length === 1);
    expect(metric(of('NDEATH')[0], 'bdSeq')).toBe(bdSeq);

    const second = new EdgeProcess(cfg);
    edges.push(second);
    await waitFor('a new NBIRTH', () => of('NBIRTH').length === 3, 20_000);
    expect(metric(of('NBIRTH')[2], 'bdSeq')).toBe((bdSeq + 1) % 256);
    await second.kill('SIGTERM');
    await waitFor('NDEATH on an orderly stop', () => of('NDEATH').length === 2);
    expect(metric(of('NDEATH')[1], 'bdSeq')).toBe((bdSeq + 1) % 256);
  });
});
