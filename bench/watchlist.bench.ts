import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connectAsync } from 'mqtt';
import { iso6346CheckDigit } from '../core/watchlist/iso6346.js';
import { LIST_FORMAT, type WatchlistEntryInput } from '../core/watchlist/list-format.js';
import { signedMessage } from '../core/watchlist/signing.js';
import { silentLogger } from '../core/logger.js';
import { ListKeeper } from '../watchlist/list-keeper.js';
import { MqttListFeed } from '../watchlist/mqtt-list-feed.js';
import { haveMosquitto, MosquittoBroker } from '../test/integration/outputs/mqtt/helpers.js';
import { defineBench, percentile } from './harness.js';

/** WATCHLIST_BENCH_ENTRIES: a smaller list for a quick run; the figures in docs/benchmarks.md are for 1M. */
const ENTRIES = Number(process.env.WATCHLIST_BENCH_ENTRIES ?? 1_000_000);
const LOOKUPS = 200_000;
const DELTA = 1000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A deterministic plate per index: 2 letters, 2 letters, up to 4 digits, unique. */
function plate(i: number): string {
  const L = 'ACDEFGHJKLMNPRSTUVWXY';
  const a = L[i % 21]! + L[Math.floor(i / 21) % 21]!;
  const b = L[Math.floor(i / 441) % 21]! + L[Math.floor(i / 9261) % 21]!;
  return `${a}-${b} ${Math.floor(i / 194481) + 1}${String(i % 1000).padStart(3, '0')}`;
}

function container(i: number): string {
  const first10 = `BEN${'UJZR'[i % 4]}${String(i).padStart(6, '0')}`;
  return `${first10}${iso6346CheckDigit(first10)}`;
}

function entries(n: number, from = 0): WatchlistEntryInput[] {
  const out: WatchlistEntryInput[] = [];
  for (let i = from; i < from + n; i++) {
    const base = {
      id: `e${i}`,
      category: i % 3 ? 'stolen-vehicle' : 'wanted-person',
      action: 'stop and search',
      priority: 1 + (i % 5),
      source: 'national-police',
      ...(i % 7 === 0 ? { expiresAt: '2099-01-01T00:00:00Z' } : {}),
    };
    out.push(i % 20 === 0 ? { ...base, containerCode: container(i) } : { ...base, plate: plate(i), country: 'DE' });
  }
  return out;
}

export default defineBench({
  area: 'watchlist',
  async run(ctx) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keys = new Map([['bench', publicKey]]);
    const dir = mkdtempSync(join(tmpdir(), 'wl-bench-'));
    try {
      const list = entries(ENTRIES);
      const t0 = performance.now();
      const message = Buffer.from(
        signedMessage(
          {
            format: LIST_FORMAT,
            listId: 'national',
            version: 1,
            issuedAt: new Date().toISOString(),
            kind: 'snapshot',
            entries: list,
          },
          'bench',
          privateKey,
        ),
      );
      const signMs = performance.now() - t0;
      list.length = 0;
      ctx.report(
        'watchlist.1m.snapshot-size',
        message.length / 1024 / 1024,
        'MiB',
        `${ENTRIES} entries (5 % container codes), JSON in a signed envelope`,
      );
      ctx.report('watchlist.1m.snapshot-sign', signMs, 'ms', 'central: serialise and Ed25519-sign');

      gc();
      const heap0 = process.memoryUsage().heapUsed;
      const keeper = new ListKeeper({ keys, dir, maxBytes: 512 * 1024 * 1024 });
      keeper.load();
      const cpu0 = process.cpuUsage();
      const applied = keeper.receive(message);
      const cpu = process.cpuUsage(cpu0);
      if (applied.outcome !== 'applied') throw new Error(`snapshot not applied: ${JSON.stringify(applied)}`);
      ctx.report(
        'watchlist.1m.snapshot-apply',
        applied.ms,
        'ms',
        'at the lane: verify the signature, validate every entry, build the index (one run, wall time)',
      );
      ctx.report(
        'watchlist.1m.snapshot-apply-cpu',
        (cpu.user + cpu.system) / 1000,
        'ms',
        'CPU time of the same step (all threads, GC included): what it costs on an idle machine',
      );
      await keeper.flushed();
      gc();
      ctx.report(
        'watchlist.1m.memory',
        (process.memoryUsage().heapUsed - heap0) / 1024 / 1024,
        'MiB',
        'JS heap held by the index of 1M entries (after GC)',
      );

      const index = keeper.lists.get('national')!;
      const now = Date.now();
      const samples: number[] = [];
      let hits = 0;
      const confusable = (s: string) => s.replace('1', 'I');
      for (let k = 0; k < LOOKUPS; k++) {
        const i = (k * 7919) % (ENTRIES * 2); // half of them listed, half not
        const value =
          i < ENTRIES ? (i % 20 === 0 ? container(i) : k % 4 === 0 ? confusable(plate(i)) : plate(i)) : plate(i);
        const kind = i < ENTRIES && i % 20 === 0 ? 'container' : 'plate';
        const t = performance.now();
        hits += index.lookup({ kind, value }, now).length;
        samples.push(performance.now() - t);
      }
      if (hits < LOOKUPS / 3)
        throw new Error(`only ${hits} hits in ${LOOKUPS} lookups: the bench's reads do not fit its list`);
      const us = samples.map((ms) => ms * 1000);
      ctx.report(
        'watchlist.1m.lookup.p50',
        percentile(us, 50),
        'µs',
        `${LOOKUPS} reads on 1M entries, half listed (a quarter of those with one O/0, I/1 confusion)`,
      );
      ctx.report('watchlist.1m.lookup.p99', percentile(us, 99), 'µs');
      ctx.report(
        'watchlist.1m.lookup.max',
        us.reduce((a, b) => Math.max(a, b), 0),
        'µs',
        'the slowest single lookup (GC pauses included)',
      );

      if (haveMosquitto) {
        const broker = new MosquittoBroker({ extra: 'message_size_limit 0' });
        await broker.start();
        try {
          const lane = new ListKeeper({ keys, dir: join(dir, 'lane'), maxBytes: 512 * 1024 * 1024 });
          lane.load();
          const arrived: { version: number; at: number }[] = [];
          const feed = new MqttListFeed({
            url: broker.url,
            clientId: 'bench-lane',
            topics: ['checkpoint/watchlist/+/snapshot', 'checkpoint/watchlist/+/delta'],
            maxBytes: 512 * 1024 * 1024,
            reconnectMs: 1000,
            log: silentLogger(),
          });
          let connected = false;
          await feed.start({
            message: (_t, bytes) => {
              const r = lane.receive(bytes);
              if (r.outcome === 'applied') arrived.push({ version: r.version, at: performance.now() });
            },
            state: (c) => {
              connected = c;
            },
          });
          while (!connected) await new Promise((r) => setTimeout(r, 10));
          const central = await connectAsync(broker.url, { clientId: 'bench-central' });
          const until = async (v: number) => {
            while (!arrived.some((a) => a.version === v)) await new Promise((r) => setTimeout(r, 2));
            return arrived.find((a) => a.version === v)!.at;
          };
          let t = performance.now();
          await central.publishAsync('checkpoint/watchlist/national/snapshot', message, { qos: 1, retain: true });
          ctx.report(
            'watchlist.1m.snapshot-publish-to-applied',
            (await until(1)) - t,
            'ms',
            'central publishes the 1M snapshot on mosquitto; the lane receives, verifies and indexes it (one run)',
          );
          const deltaTimes: number[] = [];
          for (let v = 2; v <= 6; v++) {
            const upsert = entries(DELTA, ENTRIES + v * DELTA);
            const body = {
              format: LIST_FORMAT,
              listId: 'national',
              version: v,
              baseVersion: v - 1,
              issuedAt: new Date().toISOString(),
              kind: 'delta',
              upsert,
              remove: [`e${v}`],
            };
            const msg = signedMessage(body, 'bench', privateKey);
            t = performance.now();
            await central.publishAsync('checkpoint/watchlist/national/delta', msg, { qos: 1, retain: true });
            deltaTimes.push((await until(v)) - t);
          }
          ctx.report(
            'watchlist.1m.delta-publish-to-applied',
            deltaTimes,
            'ms',
            `a delta of ${DELTA} entries on the 1M list, central publish to applied at the lane (mosquitto)`,
          );
          await central.endAsync(true);
          await feed.stop();
          await lane.flushed();
        } finally {
          await broker.stop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
