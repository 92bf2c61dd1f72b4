/**
 * Several lanes on one box, and the memory budget (issue 17). `npm run bench -- --filter lanes`.
 *
 * Each run starts mosquitto, one scanner simulator per lane in a process of its own
 * (bench/lane-scanner.ts: synthesized 1,000-channel dual-energy vehicles), and
 * `checkpoint-edge run` with one lane per scanner (the shipped model; MQTT 5 to
 * mosquitto; the console on), and subscribes to the scan messages as central command would.
 * Verdict latency is the time from the scan's last line (the scanner's scan-end time, carried
 * in the message as endedAt) to the message's arrival at the subscriber, per lane.
 *
 * - lanes.n<N>.*: N = 1, 2, 4 lanes, a vehicle every 10 s on each lane at 500 lines/s.
 * - lanes.memory.*: one lane, 1,000 scans sent fast (20,000 lines/s, 0.5 s apart); RSS of the
 *   `run` process at start (lane ready), its peak and at the end, and where it goes (V8 heap,
 *   buffers outside it, native: onnxruntime, SQLite, libvips, code), from /metrics; and RSS of
 *   the same lane without a model, which the difference attributes to the onnxruntime session.
 *
 * LANES_BENCH_SCANS (default 12 per lane) and LANES_BENCH_MEMORY_SCANS (default 1000) shorten
 * a trial run.
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
import { defineBench, percentile } from './harness.js';

const ROOT = join(import.meta.dirname, '..');
const SITE = 'bench-site';

interface Proc {
  child: ChildProcess;
  out: () => string;
}

function start(args: string[], name: string, env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
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
  };
}

interface LaneRun {
  /** Per lane: ms from last line to arrival, and from last line to the decision, per scan (first scan left out). */
  latency: Map<string, number[]>;
  decided: Map<string, number[]>;
  rss: number[];
  /** VmHWM at the end: the highest RSS, spikes between samples included, MiB. */
  hwm: number;
  /** VmRSS when the first scan message arrived (model loaded, picture thread started), MiB. */
  startRss: number;
  memory: { start: Record<string, number>; end: Record<string, number> };
  load: string;
  scansPerLane: number;
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
}): Promise<LaneRun> {
  if (!haveMosquitto) throw new Error(`lanes bench: ${MOSQUITTO} is needed (apt-get install mosquitto)`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-lanes-'));
  const broker = new MosquittoBroker();
  const scanners: Proc[] = [];
  let edge: Proc | null = null;
  let sub: mqtt.MqttClient | null = null;
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
          ...(o.model ? { model: { path: 'models/person-fcn', threads: o.threads } } : {}),
        })),
      }),
    );
    const latency = new Map<string, number[]>(laneIds.map((id) => [id, []]));
    const decided = new Map<string, number[]>(laneIds.map((id) => [id, []]));
    const seen = new Map<string, number>(laneIds.map((id) => [id, 0]));
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
      [join(ROOT, 'bin/checkpoint-edge.js'), 'run', '--config', config],
      'checkpoint-edge run',
      MALLOC_ENVIRONMENT,
    );
    const rss: number[] = [];
    const sampler = setInterval(() => {
      const kb = rssKb(edge?.child.pid);
      if (kb !== null) rss.push(kb / 1024);
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
    const hwm = (rssKb(edge.child.pid, 'VmHWM') ?? 0) / 1024;
    clearInterval(sampler);
    const load1 = loadavg();
    return {
      latency,
      decided,
      rss,
      hwm,
      startRss,
      memory: { start: startMem, end: endMem },
      load: `load average ${load0[0].toFixed(1)} at start, ${load1[0].toFixed(1)} at end (1 min; ${load1[2].toFixed(1)} over 15 min)`,
      scansPerLane: o.scans,
    };
  } finally {
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

export default defineBench({
  area: 'lanes',
  async run(ctx) {
    const scans = Number(process.env.LANES_BENCH_SCANS ?? 12);
    for (const n of [1, 2, 4]) {
      if (!ctx.wants(`lanes.n${n}.`)) continue;
      const r = await runLanes({
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

    if (ctx.wants('lanes.memory.')) {
      const memScans = Number(process.env.LANES_BENCH_MEMORY_SCANS ?? 1000);
      const fast = {
        lanes: 1,
        scans: memScans,
        lineRate: 20_000,
        gapMs: 500,
        threads: 2,
        timeoutMs: memScans * 5000 + 300_000,
      };
      const withModel = await runLanes({ ...fast, model: true });
      const noModel = await runLanes({ ...fast, scans: Math.min(memScans, 100), model: false });
      const rss = withModel.rss;
      const tenth = Math.max(1, Math.floor(rss.length / 10));
      const start = withModel.startRss;
      const end = withModel.memory.end.rss / MiB;
      const peak = Math.max(withModel.hwm, ...rss);
      const settled = rss.slice(tenth, 2 * tenth).reduce((a, b) => a + b, 0) / tenth;
      const last = rss.slice(-tenth).reduce((a, b) => a + b, 0) / tenth;
      const note = `one lane, ${memScans} synthesized 1,000-channel dual-energy scans at 20,000 lines/s, 0.5 s apart, through checkpoint-edge run with MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 as the service sets them (person-fcn 2 threads, MQTT 5 to mosquitto with SQLite outbox synchronous=full, console on, evidence JPEGs and console views on the picture thread); ${withModel.load}`;
      ctx.report('lanes.memory.rss-start', start, 'MiB', `${note}; when the first scan message arrived`);
      ctx.report('lanes.memory.rss-peak', peak, 'MiB', `${note}; VmHWM (highest RSS); budget < 400 MiB`);
      ctx.report('lanes.memory.rss-end', end, 'MiB', `${note}; after the last scan message`);
      ctx.report(
        'lanes.memory.rss-growth',
        last - settled,
        'MiB',
        `${note}; mean RSS of the last tenth of the run minus that of the second tenth (after warm-up): ${r0(settled)} -> ${r0(last)} MiB`,
      );
      const m = withModel.memory.end;
      ctx.report(
        'lanes.memory.end.v8-heap-used',
        m.heapUsed / MiB,
        'MiB',
        `${note}; of ${r0(m.heapTotal / MiB)} MiB V8 heap reserved`,
      );
      ctx.report(
        'lanes.memory.end.external',
        m.external / MiB,
        'MiB',
        `${note}; buffers outside the V8 heap (scan images, JPEGs, sockets)`,
      );
      ctx.report(
        'lanes.memory.end.native',
        (m.rss - m.heapTotal - m.external) / MiB,
        'MiB',
        `${note}; RSS less V8 heap and external buffers: onnxruntime session and arena, SQLite page caches, libvips, Node and the loaded code`,
      );
      ctx.report(
        'lanes.memory.no-model.rss-end',
        noModel.memory.end.rss / MiB,
        'MiB',
        `the same lane without a model (${Math.min(memScans, 100)} scans); the difference to lanes.memory.rss-end is the onnxruntime session with its arena and the model's tiles; ${noModel.load}`,
      );
    }
  },
});
