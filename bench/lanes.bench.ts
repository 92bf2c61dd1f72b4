/**
 * Several lanes on one box, and the memory budget (issue 17). `npm run bench -- --filter lanes`.
 *
 * Each run builds the release as `npm run package` does (compiled JavaScript, production
 * packages, the bundled Node) and measures its `checkpoint-edge run`: the process a site runs,
 * without the TypeScript loader of the source tree. It starts mosquitto, one scanner simulator
 * per lane in a process of its own (bench/lane-scanner.ts: synthesized 1,000-channel dual-energy
 * vehicles), and the runtime with one lane per scanner (the shipped model; MQTT 5 to mosquitto;
 * the console on), with MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 as the service unit
 * sets them, and subscribes to the scan messages as central command would. Verdict latency is
 * the time from the scan's last line (the scanner's scan-end time, carried in the message as
 * endedAt) to the message's arrival at the subscriber, per lane.
 *
 * - lanes.n<N>.*: N = 1, 2, 4 lanes, a vehicle every 10 s on each lane at 500 lines/s.
 * - lanes.memory.*: one lane, 1,000 scans sent fast (20,000 lines/s, 0.5 s apart), so that the
 *   picture thread's backlog is full between rests. RSS of the process when the first scan
 *   message arrives, its peak (VmHWM) and at the end. Every 100 scans the scanner rests 20 s:
 *   once the picture thread has nothing left to make, the bench has every thread collect its
 *   garbage (bench/inspector-gc.ts) and reads what the process keeps: RSS, split from
 *   /proc/<pid>/smaps (bench/process-memory.ts) and /metrics into V8 heaps, external buffers and
 *   native memory (glibc arenas, other anonymous mappings, files by library). Growth after
 *   warm-up is that at-rest RSS after scan 1,000 minus after scan 200, and the slope over the
 *   samples between; the running RSS (every 0.5 s, rests left out) is reported beside it, with
 *   the dead buffers that wait for the next collection. And RSS of the same lane without a
 *   model, which the difference attributes to the onnxruntime session.
 *
 * LANES_BENCH_SCANS (default 12 per lane), LANES_BENCH_MEMORY_SCANS (1000),
 * LANES_BENCH_MEMORY_EVERY (100) and LANES_BENCH_MEMORY_REST_MS (20000) shorten a trial run;
 * LANES_BENCH_RELEASE names an unpacked release folder to measure instead of building one;
 * LANES_BENCH_SMAPS_DIR keeps each sample's /proc/<pid>/smaps there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { freePort } from '../test/helpers/net.js';
import { haveMosquitto, MOSQUITTO, MosquittoBroker, waitFor } from '../test/integration/outputs/mqtt/helpers.js';
import { MALLOC_ENVIRONMENT } from '../app/memory-environment.js';
import { buildPackage } from '../deploy/package.js';
import { type BenchContext, defineBench, percentile } from './harness.js';
import { InspectorGc } from './inspector-gc.js';
import { type ProcessMemory, readProcessMemory } from './process-memory.js';

const ROOT = join(import.meta.dirname, '..');
const SITE = 'bench-site';

interface Proc {
  child: ChildProcess;
  out: () => string;
}

function start(args: string[], name: string, env: NodeJS.ProcessEnv = {}, node = process.execPath, cwd = ROOT): Proc {
  const child = spawn(node, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-50_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', (code, sig) => {
    if (code !== 0 && sig === null)
      process.stderr.write(`lanes bench: ${name} exited with ${code}:\n${out.slice(-3000)}\n`);
  });
  return { child, out: () => out };
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  await new Promise<void>((r) => {
    p.child.once('exit', () => r());
    p.child.kill('SIGTERM');
    setTimeout(() => p.child.kill('SIGKILL'), 15_000).unref();
  });
}

function rssKb(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | null {
  if (pid === undefined) return null;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Gauges of the runtime's /metrics (prom-client default metrics), in bytes. */
async function memoryMetrics(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const pick = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
  return {
    rss: pick(/^process_resident_memory_bytes (\S+)$/m),
    heapTotal: pick(/^nodejs_heap_size_total_bytes (\S+)$/m),
    heapUsed: pick(/^nodejs_heap_size_used_bytes (\S+)$/m),
    external: pick(/^nodejs_external_memory_bytes (\S+)$/m),
    pictureHeap: pick(/^checkpoint_edge_picture_thread_memory_bytes\{space="heap"\} (\S+)$/m),
    pictureExternal: pick(/^checkpoint_edge_picture_thread_memory_bytes\{space="external"\} (\S+)$/m),
    picturesPending: pick(/^checkpoint_edge_pictures_pending (\S+)$/m),
  };
}

/** Opens the inspector of a process started with --inspect-port=127.0.0.1:0 and connects to it. */
async function openInspector(p: Proc): Promise<InspectorGc> {
  p.child.kill('SIGUSR1');
  let url = '';
  await waitFor(
    "the runtime's inspector to listen",
    () => {
      url = /Debugger listening on (ws:\/\/\S+)/.exec(p.out())?.[1] ?? '';
      return url !== '';
    },
    10_000,
    50,
  );
  return InspectorGc.connect(url);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run process's memory after `scans` scan messages: /metrics and /proc/<pid>/smaps. */
interface MemorySample {
  scans: number;
  /**
   * Taken while the scanner rested and the picture thread had nothing left to make, after a full
   * garbage collection in every thread (bench/inspector-gc.ts): what the process keeps.
   */
  atRest: boolean;
  /** At rest: RSS before that collection (bytes). */
  rssBeforeGc?: number;
  metrics: Record<string, number>;
  proc: ProcessMemory;
}

interface LaneRun {
  /** Per lane: ms from last line to arrival, and from last line to the decision, per scan (first scan left out). */
  latency: Map<string, number[]>;
  decided: Map<string, number[]>;
  rss: number[];
  /** The same samples with the scan messages received by then (all lanes). */
  rssByScan: { scans: number; rss: number }[];
  /** VmHWM at the end: the highest RSS, spikes between samples included, MiB. */
  hwm: number;
  /** VmRSS when the first scan message arrived (model loaded, picture thread started), MiB. */
  startRss: number;
  memory: { start: Record<string, number>; end: Record<string, number> };
  load: string;
  scansPerLane: number;
  /** Every `sampleEvery` scan messages (and at the first), in scan order. */
  samples: MemorySample[];
}

async function runLanes(o: {
  lanes: number;
  scans: number;
  lineRate: number;
  periodMs?: number;
  gapMs?: number;
  model: boolean;
  /** onnxruntime intra-op threads per lane. */
  threads: number;
  timeoutMs: number;
  /**
   * Take a MemorySample at the first scan message and every `every` scans (all lanes together),
   * the scanners resting `restMs` there: the sample waits for the picture thread to finish.
   */
  sample?: { every: number; restMs: number };
  /** The release folder whose `checkpoint-edge run` is measured (its Node, its compiled JavaScript). */
  release: string;
}): Promise<LaneRun> {
  if (!haveMosquitto) throw new Error(`lanes bench: ${MOSQUITTO} is needed (apt-get install mosquitto)`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-lanes-'));
  const broker = new MosquittoBroker();
  const scanners: Proc[] = [];
  let edge: Proc | null = null;
  let sub: mqtt.MqttClient | null = null;
  let inspector: InspectorGc | null = null;
  try {
    await broker.start();
    const ports: number[] = [];
    for (let i = 0; i < o.lanes; i++) {
      const p = start(
        [
          'bin/run-ts.js',
          'bench/lane-scanner.ts',
          '--seed',
          String(11 + i * 100),
          '--scans',
          String(o.scans),
          '--line-rate',
          String(o.lineRate),
          ...(o.periodMs !== undefined ? ['--period-ms', String(o.periodMs)] : ['--gap-ms', String(o.gapMs ?? 500)]),
          ...(o.sample ? ['--pause-every', String(o.sample.every), '--pause-ms', String(o.sample.restMs)] : []),
        ],
        `scanner ${i + 1}`,
      );
      scanners.push(p);
    }
    for (const p of scanners) {
      await waitFor('a scanner simulator listening', () => /listening \d+/.test(p.out()), 300_000, 100);
      ports.push(Number(/listening (\d+)/.exec(p.out())![1]));
    }
    const httpPort = await freePort();
    const laneIds = ports.map((_, i) => `lane-${i + 1}`);
    const config = join(dir, 'site.yaml');
    writeFileSync(
      config,
      stringify({
        site: { id: SITE },
        dataDir: join(dir, 'data'),
        log: { level: 'warn', format: 'json' },
        http: { host: '127.0.0.1', port: httpPort },
        shutdownTimeoutMs: 10_000,
        mqtt: { url: broker.url, protocolVersion: 5, outbox: { synchronous: 'full' } },
        lanes: ports.map((port, i) => ({
          id: laneIds[i],
          scanner: { transport: { type: 'tcp', host: '127.0.0.1', port } },
          ...(o.model ? { model: { path: join(o.release, 'models/person-fcn'), threads: o.threads } } : {}),
        })),
      }),
    );
    const latency = new Map<string, number[]>(laneIds.map((id) => [id, []]));
    const decided = new Map<string, number[]>(laneIds.map((id) => [id, []]));
    const seen = new Map<string, number>(laneIds.map((id) => [id, 0]));
    const sampling: Promise<MemorySample | null>[] = [];
    let total = 0;
    let resting = false;
    sub = mqtt.connect(broker.url, { protocolVersion: 5, clientId: `bench-central-${process.pid}` });
    sub.on('message', (_topic, payload) => {
      const at = Date.now();
      const m = JSON.parse(payload.toString()) as {
        laneId: string;
        endedAt: string;
        decidedAt: string;
        outcome: string;
      };
      const n = (seen.get(m.laneId) ?? 0) + 1;
      seen.set(m.laneId, n);
      total++;
      resting = false;
      if (o.sample && total % o.sample.every === 0) {
        resting = true;
        sampling.push(sampleMemory(total, true));
      } else if (o.sample && total === 1) sampling.push(sampleMemory(total, false));
      if (n === 1 || m.outcome !== 'completed') return; // the first scan also starts the picture thread
      latency.get(m.laneId)?.push(at - Date.parse(m.endedAt));
      decided.get(m.laneId)?.push(Date.parse(m.decidedAt) - Date.parse(m.endedAt));
    });
    await new Promise<void>((r, j) => {
      sub!.once('connect', () => r());
      sub!.once('error', j);
    });
    await sub.subscribeAsync(`checkpoint/${SITE}/+/scan`, { qos: 1 });

    // As the service runs (MALLOC_ENVIRONMENT, app/memory-environment.ts): two glibc malloc arenas,
    // and scan-sized buffers mapped and given back when freed instead of kept in the heap.
    edge = start(
      [
        // The inspector, for the memory samples' garbage collections, opens only on SIGUSR1.
        ...(o.sample ? ['--inspect-port=127.0.0.1:0'] : []),
        join(o.release, 'bin/checkpoint-edge.js'),
        'run',
        '--config',
        config,
      ],
      'checkpoint-edge run',
      MALLOC_ENVIRONMENT,
      join(o.release, 'node/bin/node'),
      o.release,
    );
    const sampleMemory = async (scans: number, atRest: boolean): Promise<MemorySample | null> => {
      if (atRest && o.sample) {
        // The scan's pictures are asked for just after its message goes out; then wait for them.
        const until = Date.now() + o.sample.restMs - 1000;
        await sleep(1000);
        while ((await memoryMetrics(httpPort)).picturesPending > 0 && Date.now() < until) await sleep(200);
      }
      const pid = edge?.child.pid;
      if (pid === undefined) return null;
      let rssBeforeGc: number | undefined;
      if (atRest) {
        rssBeforeGc = (rssKb(pid) ?? Number.NaN) * 1024;
        inspector ??= await openInspector(edge!);
        await inspector.collect();
        await sleep(1000); // dead buffers are freed by the sweeper after the collection
      }
      const proc = readProcessMemory(pid);
      if (!proc) return null;
      const dump = process.env.LANES_BENCH_SMAPS_DIR;
      if (dump)
        writeFileSync(join(dump, `smaps-${String(scans).padStart(4, '0')}`), readFileSync(`/proc/${pid}/smaps`));
      const metrics = await memoryMetrics(httpPort);
      return {
        scans,
        atRest: atRest && metrics.picturesPending === 0,
        ...(rssBeforeGc !== undefined ? { rssBeforeGc } : {}),
        proc,
        metrics,
      };
    };
    const rss: number[] = [];
    const rssByScan: { scans: number; rss: number }[] = [];
    const sampler = setInterval(() => {
      const kb = rssKb(edge?.child.pid);
      if (kb === null) return;
      rss.push(kb / 1024);
      if (total > 0 && !resting) rssByScan.push({ scans: total, rss: kb / 1024 });
    }, 500);
    let startMem: Record<string, number> = {};
    await waitFor(
      'the runtime serving /metrics',
      async () => {
        try {
          startMem = await memoryMetrics(httpPort);
          return true;
        } catch {
          if (edge!.child.exitCode !== null) throw new Error(`the runtime exited:\n${edge!.out().slice(-3000)}`);
          return false;
        }
      },
      120_000,
      200,
    );
    const load0 = loadavg();
    await waitFor('the first scan message', () => [...seen.values()].some((n) => n > 0), 300_000, 20);
    const startRss = (rssKb(edge.child.pid) ?? Number.NaN) / 1024;
    await waitFor(
      `${o.scans} scan messages per lane`,
      () => [...seen.values()].every((n) => n >= o.scans),
      o.timeoutMs,
      200,
    );
    const endMem = await memoryMetrics(httpPort);
    const samples = (await Promise.all(sampling)).filter((x): x is MemorySample => x !== null);
    const hwm = (rssKb(edge.child.pid, 'VmHWM') ?? 0) / 1024;
    clearInterval(sampler);
    const load1 = loadavg();
    return {
      latency,
      decided,
      rss,
      rssByScan,
      hwm,
      startRss,
      memory: { start: startMem, end: endMem },
      load: `load average ${load0[0].toFixed(1)} at start, ${load1[0].toFixed(1)} at end (1 min; ${load1[2].toFixed(1)} over 15 min)`,
      scansPerLane: o.scans,
      samples,
    };
  } finally {
    (inspector as InspectorGc | null)?.close();
    await sub?.endAsync().catch(() => {});
    if (edge) await stop(edge);
    await Promise.all(scanners.map(stop));
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(broker.dir, { recursive: true, force: true });
  }
}

const MiB = 1024 * 1024;
const r0 = (v: number) => Math.round(v);
const r1 = (v: number) => (v / MiB).toFixed(1);

/** Least-squares slope of rss (MiB) over scans. */
function slope(xs: { scans: number; rss: number }[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, x) => a + x.scans, 0) / n;
  const my = xs.reduce((a, x) => a + x.rss, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const x of xs) {
    sxy += (x.scans - mx) * (x.rss - my);
    sxx += (x.scans - mx) ** 2;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

/** The parts of a sample's RSS, in MiB: V8 heaps, external buffers, native, and by mapping. */
function parts(x: MemorySample) {
  const heap = x.metrics.heapTotal + (x.metrics.pictureHeap || 0);
  const lib = (re: RegExp) => x.proc.byFile.filter(([f]) => re.test(f)).reduce((a, [, b]) => a + b, 0);
  return {
    rss: x.proc.rss,
    heapMain: x.metrics.heapTotal,
    heapPictures: x.metrics.pictureHeap || 0,
    external: x.metrics.external,
    externalPictures: x.metrics.pictureExternal || 0,
    native: x.proc.rss - heap - x.metrics.external - (x.metrics.pictureExternal || 0),
    mallocMain: x.proc.mallocMain,
    mallocArenas: x.proc.mallocArenas,
    anonOther: x.proc.anonOther,
    files: x.proc.files,
    onnxruntime: lib(/onnxruntime/),
    vips: lib(/vips|sharp/),
    node: lib(/^node$/),
    sqlite: lib(/\.sqlite-shm$|better_sqlite3/),
  };
}

function breakdown(x: MemorySample): string {
  const p = parts(x);
  return `V8 heaps ${r1(p.heapMain + p.heapPictures)} (main ${r1(p.heapMain)}, picture thread ${r1(p.heapPictures)}) + external ${r1(p.external + p.externalPictures)} (main ${r1(p.external)}, picture thread ${r1(p.externalPictures)}) + native ${r1(p.native)} MiB; by mapping: glibc arenas ${r1(p.mallocMain + p.mallocArenas)} (main ${r1(p.mallocMain)}, ${x.proc.mallocArenaCount} other ${r1(p.mallocArenas)}), other anonymous ${r1(p.anonOther)} (V8 heaps, blocks over the 128 KiB mmap threshold, stacks), files ${r1(p.files)} (onnxruntime ${r1(p.onnxruntime)}, libvips/sharp ${r1(p.vips)}, node ${r1(p.node)}, SQLite ${r1(p.sqlite)})`;
}

function growth(a: MemorySample, b: MemorySample): string {
  const pa = parts(a);
  const pb = parts(b);
  return (Object.keys(pa) as (keyof typeof pa)[])
    .map((k) => `${k} ${(pb[k] - pa[k]) / MiB >= 0 ? '+' : ''}${r1(pb[k] - pa[k])}`)
    .join(', ');
}

/**
 * The release as `npm run package` assembles it (compiled JavaScript, production packages, the
 * bundled Node; no TypeScript loader, whose two threads would add some 50 MiB), or the unpacked
 * release folder named by LANES_BENCH_RELEASE.
 */
async function release(): Promise<{ dir: string; remove: () => void }> {
  const given = process.env.LANES_BENCH_RELEASE;
  if (given) return { dir: given, remove: () => {} };
  const out = mkdtempSync(join(tmpdir(), 'bench-release-'));
  const m = await buildPackage({ out, stage: join(out, 'stage'), keepStage: true });
  return {
    dir: join(out, 'stage', `${m.name}-${m.version}`),
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}

export default defineBench({
  area: 'lanes',
  async run(ctx) {
    if (
      ![1, 2, 4].some((n) => ctx.wants(`lanes.n${n}.`)) &&
      !ctx.wants('lanes.memory.') &&
      !ctx.wants('lanes.memory.no-model.')
    )
      return;
    const rel = await release();
    try {
      await runBenches(ctx, rel.dir);
    } finally {
      rel.remove();
    }
  },
});

async function runBenches(ctx: BenchContext, release: string): Promise<void> {
  const scans = Number(process.env.LANES_BENCH_SCANS ?? 12);
  for (const n of [1, 2, 4]) {
    if (!ctx.wants(`lanes.n${n}.`)) continue;
    const r = await runLanes({
      release,
      lanes: n,
      scans,
      lineRate: 500,
      periodMs: 10_000,
      model: true,
      threads: 1,
      timeoutMs: scans * 12_000 + 300_000,
    });
    const all = [...r.latency.values()].flat();
    const note = `${n} lane(s), each its own scanner process, a 1,000-channel dual-energy vehicle every 10 s at 500 lines/s, ${scans} scans per lane (first left out), person-fcn 1 thread per lane (as docs/inference.md advises on a shared 2-core box), MQTT 5 to mosquitto, console on; last line -> scan message at a subscriber; ${r.load}`;
    for (const [lane, xs] of r.latency) {
      const dec = r.decided.get(lane)!;
      ctx.report(
        `lanes.n${n}.${lane}.verdict-p50`,
        percentile(xs, 50),
        'ms',
        `${note}; decided after ${r0(percentile(dec, 50))} ms (p50)`,
      );
      ctx.report(
        `lanes.n${n}.${lane}.verdict-p99`,
        percentile(xs, 99),
        'ms',
        `${note}; max ${r0(Math.max(...xs))} ms over ${xs.length} scans`,
      );
    }
    ctx.report(
      `lanes.n${n}.peak-rss`,
      Math.max(r.hwm, ...r.rss),
      'MiB',
      `${note}; highest RSS of the run process (VmHWM)`,
    );
    const dec = [...r.decided.values()].flat();
    process.stdout.write(
      `lanes n=${n}: all lanes p50 ${r0(percentile(all, 50))} ms, p99 ${r0(percentile(all, 99))} ms (decided p50 ${r0(percentile(dec, 50))} ms, p99 ${r0(percentile(dec, 99))} ms); ${r.load}\n`,
    );
  }

  {
    const memScans = Number(process.env.LANES_BENCH_MEMORY_SCANS ?? 1000);
    const every = Number(process.env.LANES_BENCH_MEMORY_EVERY ?? 100);
    // Warm-up: the first 200 scans (or a fifth of a shorter trial run), in whole sample steps.
    const warm = Math.min(200, Math.max(every, Math.floor(memScans / 5 / every) * every));
    const fast = {
      release,
      lanes: 1,
      scans: memScans,
      lineRate: 20_000,
      gapMs: 500,
      threads: 2,
      timeoutMs: memScans * 5000 + 300_000,
    };
    const restMs = Number(process.env.LANES_BENCH_MEMORY_REST_MS ?? 20_000);
    if (ctx.wants('lanes.memory.no-model.')) {
      const n = Math.min(memScans, 100);
      const noModel = await runLanes({ ...fast, scans: n, model: false, sample: { every: n, restMs } });
      const note = `the same lane without a model, ${n} scans; ${noModel.load}`;
      ctx.report(
        'lanes.memory.no-model.rss-end',
        noModel.memory.end.rss / MiB,
        'MiB',
        `${note}; after the last scan message, dead buffers not yet collected included`,
      );
      const r = noModel.samples.find((x) => x.atRest);
      if (r)
        ctx.report(
          'lanes.memory.no-model.at-rest',
          r.proc.rss / MiB,
          'MiB',
          `${note}; at rest after scan ${r.scans}, after a full collection in every thread (${r1(r.rssBeforeGc ?? Number.NaN)} MiB before it); lanes.memory.at-rest.scan-0100 less this is the onnxruntime session = ${breakdown(r)}`,
        );
    }
    if (!ctx.wants('lanes.memory.')) return;
    const withModel = await runLanes({ ...fast, model: true, sample: { every, restMs } });
    const note = `one lane, ${memScans} synthesized 1,000-channel dual-energy scans at 20,000 lines/s, 0.5 s apart, resting ${restMs / 1000} s every ${every}, through checkpoint-edge run with MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 as the service sets them (person-fcn 2 threads, MQTT 5 to mosquitto with SQLite outbox synchronous=full, console on, evidence JPEGs and console views on the picture thread, whose backlog fills between rests: pictures beyond it refused); ${withModel.load}`;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const start = withModel.startRss;
    const end = withModel.memory.end.rss / MiB;
    const peak = Math.max(withModel.hwm, ...withModel.rss);
    ctx.report('lanes.memory.rss-start', start, 'MiB', `${note}; when the first scan message arrived`);
    ctx.report('lanes.memory.rss-peak', peak, 'MiB', `${note}; VmHWM (highest RSS); budget < 400 MiB`);
    ctx.report('lanes.memory.rss-end', end, 'MiB', `${note}; after the last scan message`);
    // At rest (scanner resting, picture thread idle): what the process keeps, without the
    // scans, tensors and pictures in flight. A leak raises these; work in flight does not.
    const rest = withModel.samples.filter((x) => x.atRest);
    const w = rest.find((x) => x.scans === warm);
    const z = rest.at(-1);
    if (w && z && z !== w) {
      ctx.report(
        'lanes.memory.at-rest.growth-after-warmup',
        (z.proc.rss - w.proc.rss) / MiB,
        'MiB',
        `${note}; RSS at rest after scan ${z.scans} minus after scan ${w.scans}: ${growth(w, z)}`,
      );
      const after = rest.filter((x) => x.scans >= warm).map((x) => ({ scans: x.scans, rss: x.proc.rss / MiB }));
      ctx.report(
        'lanes.memory.at-rest.slope-after-warmup',
        slope(after) * 100,
        'MiB per 100 scans',
        `${note}; least-squares slope of RSS at rest over scans ${warm}-${z.scans} (${after.length} samples)`,
      );
    }
    const first = rest[0];
    if (first && z && z !== first)
      ctx.report(
        'lanes.memory.at-rest.growth-total',
        (z.proc.rss - first.proc.rss) / MiB,
        'MiB',
        `${note}; RSS at rest after scan ${z.scans} minus after scan ${first.scans} (warm-up included): ${growth(first, z)}`,
      );
    for (const x of withModel.samples)
      process.stdout.write(
        `lanes memory ${x.atRest ? 'at rest' : 'running'} after scan ${x.scans}: ${x.rssBeforeGc !== undefined ? `RSS ${r1(x.rssBeforeGc)} MiB before a full collection, after it ` : ''}RSS ${r1(x.proc.rss)} MiB = ${breakdown(x)}\n`,
      );
    for (const x of rest)
      ctx.report(
        `lanes.memory.at-rest.scan-${String(x.scans).padStart(4, '0')}`,
        x.proc.rss / MiB,
        'MiB',
        `RSS at rest after ${x.scans} scans of the ${memScans}-scan run, after a full collection in every thread (${r1(x.rssBeforeGc ?? Number.NaN)} MiB before it) = ${breakdown(x)}`,
      );
    // Running: RSS every 0.5 s while scans come (rests left out), the work in flight included.
    const series = withModel.rssByScan;
    const window = (from: number, to: number) => series.filter((x) => x.scans >= from && x.scans < to);
    const a = window(warm, warm + every);
    const b = window(memScans - every, memScans + 1);
    if (a.length && b.length)
      ctx.report(
        'lanes.memory.running.growth-after-warmup',
        mean(b.map((x) => x.rss)) - mean(a.map((x) => x.rss)),
        'MiB',
        `${note}; mean RSS sampled every 0.5 s while scanning, over scans ${memScans - every}-${memScans} minus over scans ${warm}-${warm + every}: ${r0(mean(a.map((x) => x.rss)))} -> ${r0(mean(b.map((x) => x.rss)))} MiB`,
      );
    const m = withModel.memory.end;
    ctx.report(
      'lanes.memory.end.v8-heap-used',
      m.heapUsed / MiB,
      'MiB',
      `${note}; after the last scan message, garbage not yet collected included; of ${r0(m.heapTotal / MiB)} MiB V8 heap reserved (main thread; the picture thread's ${r0(m.pictureHeap / MiB)} MiB apart)`,
    );
    ctx.report(
      'lanes.memory.end.external',
      m.external / MiB,
      'MiB',
      `${note}; after the last scan message: buffers outside the main thread's V8 heap (scan images, JPEGs, sockets), dead ones not yet collected included; the picture thread's ${r0(m.pictureExternal / MiB)} MiB apart`,
    );
    ctx.report(
      'lanes.memory.end.native',
      (m.rss - m.heapTotal - m.pictureHeap - m.external - m.pictureExternal) / MiB,
      'MiB',
      `${note}; after the last scan message: RSS less both threads' V8 heaps and external buffers: onnxruntime session, SQLite page caches, libvips, Node and the loaded code`,
    );
  }
}
