import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connectAsync } from 'mqtt';
import { iso6346CheckDigit } from '../core/watchlist/iso6346.js';
import { signedListMessage } from '../core/watchlist/list-binary.js';
import { checkEntry, LIST_FORMAT, type WatchlistEntry, type WatchlistVersion } from '../core/watchlist/list-format.js';
import { silentLogger } from '../core/logger.js';
import { ListKeeper } from '../watchlist/list-keeper.js';
import { MqttListFeed } from '../watchlist/mqtt-list-feed.js';
import { haveMosquitto, MosquittoBroker } from '../test/integration/outputs/mqtt/helpers.js';
import { defineBench, percentile } from './harness.js';
import { watchlistFilters, watchlistTopic } from '../core/mqtt-topics.js';

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

/** A valid ISO 6346 code per index: the serial has 6 digits, so the owner code changes every million. */
function container(i: number): string {
  const first10 = `BE${'NMPQRS'[Math.floor(i / 1_000_000) % 6]}${'UJZR'[i % 4]}${String(i % 1_000_000).padStart(6, '0')}`;
  return `${first10}${iso6346CheckDigit(first10)}`;
}

/**
 * Entries as central holds them: checked and normalised by checkEntry, as the desk and the CLI
 * have them when they sign (objects of the shapes checkEntry makes).
 */
function entries(n: number, from = 0): WatchlistEntry[] {
  const out: WatchlistEntry[] = [];
  const problems: string[] = [];
  for (let i = from; i < from + n; i++) {
    const base = {
      id: `e${i}`,
      category: i % 3 ? 'stolen-vehicle' : 'wanted-person',
      action: 'stop and search',
      priority: 1 + (i % 5),
      source: 'national-police',
      ...(i % 7 === 0 ? { expiresAt: '2099-01-01T00:00:00Z' } : {}),
    };
    const raw = i % 20 === 0 ? { ...base, containerCode: container(i) } : { ...base, plate: plate(i), country: 'DE' };
    const e = checkEntry(raw, `entries.${i}`, problems);
    if (!e) throw new Error(`the bench made an invalid entry: ${problems.join('; ')}`);
    out.push(e);
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
      gc(); // the garbage of making the list is not central's signing
      const signCpu0 = process.cpuUsage();
      const t0 = performance.now();
      const message = signedListMessage(
        {
          format: LIST_FORMAT,
          listId: 'national',
          version: 2,
          issuedAt: new Date().toISOString(),
          kind: 'snapshot',
          entries: list,
        },
        'bench',
        privateKey,
      );
      const signMs = performance.now() - t0;
      const signCpu = process.cpuUsage(signCpu0);
      list.length = 0;
      ctx.report(
        'watchlist.1m.snapshot-size',
        message.length / 1024 / 1024,
        'MiB',
        `${ENTRIES} entries (5 % container codes), the signed binary form (columns; before it: 170.4 MiB of JSON)`,
      );
      ctx.report(
        'watchlist.1m.snapshot-sign',
        signMs,
        'ms',
        'central: encode the checked entries as columns and Ed25519-sign them (before the binary form: 3.1 s)',
      );
      ctx.report(
        'watchlist.1m.snapshot-sign-cpu',
        (signCpu.user + signCpu.system) / 1000,
        'ms',
        'CPU time of the same step (GC included)',
      );

      gc();
      const mem0 = process.memoryUsage();
      const keeper = new ListKeeper({ keys, dir, maxBytes: 512 * 1024 * 1024, warmThread: true });
      await keeper.load();
      await keeper.threadReady(); // a lane that has been running: its thread is up
      // A small list held first: while the large one is applied, reads are matched against it.
      const small = await keeper.receive(
        signedListMessage(
          {
            format: LIST_FORMAT,
            listId: 'national',
            version: 1,
            issuedAt: new Date().toISOString(),
            kind: 'snapshot',
            entries: entries(1000),
          },
          'bench',
          privateKey,
        ),
      );
      if (small.outcome !== 'applied') throw new Error(`small snapshot not applied: ${JSON.stringify(small)}`);
      // What a lane sees meanwhile: a read matched every 5 ms; how late each one runs (event-loop
      // delay: what a verdict or a hit would wait) and how long the lookup takes.
      const lateMs: number[] = [];
      let looked = 0;
      let due = performance.now() + 5;
      const probe = setInterval(() => {
        const t = performance.now();
        lateMs.push(Math.max(0, t - due));
        due = t + 5;
        looked += keeper.lists.get('national')!.lookup({ kind: 'plate', value: plate(7) }, Date.now()).length;
      }, 5);
      const cpu0 = process.cpuUsage();
      const applied = await keeper.receive(message);
      const cpu = process.cpuUsage(cpu0);
      clearInterval(probe);
      if (applied.outcome !== 'applied') throw new Error(`snapshot not applied: ${JSON.stringify(applied)}`);
      if (looked < lateMs.length) throw new Error('reads during the apply did not match the list held');
      ctx.report(
        'watchlist.1m.snapshot-apply',
        applied.ms,
        'ms',
        `at the lane: verify the signature, validate every entry, build the compact index, in a worker thread (one run, wall time, load average ${loadavg()[0].toFixed(1)} on the machine)`,
      );
      ctx.report(
        'watchlist.1m.snapshot-apply-cpu',
        (cpu.user + cpu.system) / 1000,
        'ms',
        'CPU time of the same step (all threads, GC included): what it costs on an idle machine',
      );
      ctx.report(
        'watchlist.1m.lane-delay-while-applying.p99',
        percentile(lateMs, 99),
        'ms',
        `event-loop delay seen by a read matched every 5 ms while the 1M snapshot is applied (${lateMs.length} reads, all matched against the list held before)`,
      );
      ctx.report(
        'watchlist.1m.lane-delay-while-applying.max',
        lateMs.reduce((a, b) => Math.max(a, b), 0),
        'ms',
        'the longest of those delays (the swap, GC)',
      );
      await keeper.flushed();
      gc();
      const heapMiB = (process.memoryUsage().heapUsed - mem0.heapUsed) / 1024 / 1024;
      const compactMiB = keeper.lists.get('national')!.footprint.compactBytes / 1024 / 1024;
      ctx.report(
        'watchlist.1m.memory',
        heapMiB + compactMiB,
        'MiB',
        `memory held by the index of 1M entries after GC: ${compactMiB.toFixed(0)} MiB of typed arrays (the compact index, outside the JS heap) and ${Math.abs(heapMiB) < 1 ? 'no measurable JS heap (its string table is a few distinct texts)' : `${heapMiB.toFixed(0)} MiB of JS heap (its string table and the rest)`}; before the binary form 82 MiB, before the compact index 420 MiB of JS heap`,
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

      await keeper.close();

      if (haveMosquitto) {
        const broker = new MosquittoBroker({ extra: 'message_size_limit 0' });
        await broker.start();
        try {
          const lane = new ListKeeper({ keys, dir: join(dir, 'lane'), maxBytes: 512 * 1024 * 1024, warmThread: true });
          await lane.load();
          await lane.threadReady();
          const arrived: { version: number; at: number }[] = [];
          /** When the lane's MQTT client handed over each message (its size and time). */
          const received: { bytes: number; at: number }[] = [];
          const feed = new MqttListFeed({
            url: broker.url,
            clientId: 'bench-lane',
            topics: watchlistFilters('checkpoint', undefined),
            maxBytes: 512 * 1024 * 1024,
            reconnectMs: 1000,
            log: silentLogger(),
          });
          let connected = false;
          let refused: string | null = null;
          await feed.start({
            message: (_t, bytes) => {
              if (bytes.length === 0) return;
              received.push({ bytes: bytes.length, at: performance.now() });
              void lane.receive(bytes).then((r) => {
                if (r.outcome === 'applied') arrived.push({ version: r.version, at: performance.now() });
                else if (r.outcome === 'refused') refused = `${r.reason}: ${r.detail}`;
              });
            },
            state: (c) => {
              connected = c;
            },
          });
          while (!connected) await new Promise((r) => setTimeout(r, 10));
          const central = await connectAsync(broker.url, { clientId: 'bench-central' });
          const until = async (v: number) => {
            while (!arrived.some((a) => a.version === v)) {
              // A refused version never arrives: say why instead of waiting for ever.
              if (refused) throw new Error(`list v${v} refused at the lane: ${refused}`);
              await new Promise((r) => setTimeout(r, 2));
            }
            return arrived.find((a) => a.version === v)!.at;
          };
          // CPU time of the whole path: this process (central's client, the lane's client and
          // keeper, its worker thread) and mosquitto.
          const brokerCpuMs = () => {
            const f = readFileSync(`/proc/${broker.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
            return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, at 100 ticks/s
          };
          const pathCpu0 = process.cpuUsage();
          const brokerCpu0 = brokerCpuMs();
          let t = performance.now();
          await central.publishAsync(watchlistTopic('checkpoint', 'national', 'snapshot'), message, {
            qos: 1,
            retain: true,
          });
          const appliedAt = await until(2);
          const pathCpu = process.cpuUsage(pathCpu0);
          const brokerCpu = brokerCpuMs() - brokerCpu0;
          const handedOver = received.find((r) => r.bytes === message.length)!.at;
          ctx.report(
            'watchlist.1m.snapshot-publish-to-applied',
            appliedAt - t,
            'ms',
            `central publishes the 1M snapshot on mosquitto; the lane receives, verifies and indexes it (one run, load average ${loadavg()[0].toFixed(1)} on the machine)`,
          );
          ctx.report(
            'watchlist.1m.snapshot-publish-applied-cpu',
            (pathCpu.user + pathCpu.system) / 1000 + brokerCpu,
            'ms',
            `CPU time of that path: ${((pathCpu.user + pathCpu.system) / 1000).toFixed(0)} ms in central's and the lane's process (MQTT clients, keeper, worker thread), ${brokerCpu.toFixed(0)} ms in mosquitto; the wall time it would take on an idle machine, the steps being one after the other`,
          );
          ctx.report(
            'watchlist.1m.snapshot-publish-to-received',
            handedOver - t,
            'ms',
            "the part of it until the lane's MQTT client hands the whole message over (central's client, mosquitto, the lane's client)",
          );
          const deltaTimes: number[] = [];
          for (let v = 3; v <= 7; v++) {
            const upsert = entries(DELTA, ENTRIES + v * DELTA);
            const body: WatchlistVersion = {
              format: LIST_FORMAT,
              listId: 'national',
              version: v,
              baseVersion: v - 1,
              issuedAt: new Date().toISOString(),
              kind: 'delta',
              upsert,
              remove: [`e${v}`],
            };
            const msg = signedListMessage(body, 'bench', privateKey);
            t = performance.now();
            await central.publishAsync(watchlistTopic('checkpoint', 'national', 'delta'), msg, {
              qos: 1,
              retain: true,
            });
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
          await lane.close();
        } finally {
          await broker.stop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
