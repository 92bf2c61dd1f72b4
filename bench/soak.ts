/**
 * The lane's soak: `node bin/run-ts.js bench/soak.ts [--scans 300] [--gap-ms 100] [--no-model]`.
 *
 * Runs `checkpoint-edge run` as a child process (the demo lane's shape: scanner line stream,
 * a camera, the shipped model, MQTT to a real mosquitto) against the simulators, with faults on
 * every device at once: corrupt, dropped and garbled line frames, scanner faults and unplugs
 * mid-scan, camera stalls, two broker outages, and one kill -9 of the edge while a scan is open,
 * followed by a restart on the same data folder. A subscriber with a persistent session counts
 * what reaches central command.
 *
 * It passes when every scan the scanner sent is accounted for at the subscriber exactly once
 * (after de-duplicating redeliveries on messageId): decided, or aborted with its reason. It
 * prints the figures (and the edge's RSS growth, per process) and exits 1 otherwise. Needs
 * /usr/sbin/mosquitto. With --write, its figures become the `soak.*` rows of docs/benchmarks.md
 * (the table `npm run bench` keeps: rows it does not measure stay).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { CameraSimulator } from '../sim/camera/camera-sim.js';
import { ScannerStreamSim } from '../sim/scanner/line-stream-sim.js';
import { arraySource, type SimScan } from '../sim/scanner/scan-source.js';
import {
  Collector,
  haveMosquitto,
  MOSQUITTO,
  MosquittoBroker,
  waitFor,
} from '../test/integration/outputs/mqtt/helpers.js';

const ROOT = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    scans: { type: 'string' },
    'gap-ms': { type: 'string' },
    'no-model': { type: 'boolean' },
    'keep-data': { type: 'boolean' },
    write: { type: 'boolean' },
  },
});
const SCANS = Number(values.scans ?? 300);
const GAP_MS = Number(values['gap-ms'] ?? 100);
const SITE = 'soak-site';

/** A few distinct vehicles: 240 lines x 64 channels, dual energy, with a bright gap and dense blocks. */
function scans(): SimScan[] {
  const out: SimScan[] = [];
  for (let k = 0; k < 4; k++) {
    const width = 240 + k * 20;
    const height = 64;
    const high = new Uint16Array(width * height);
    const low = new Uint16Array(width * height);
    for (let r = 0; r < height; r++) {
      for (let x = 0; x < width; x++) {
        const dense = x > 40 + k * 10 && x < 200 && r > 8 && r < 56 ? 20_000 + ((x * 37 + r * 11 + k) % 9000) : 60_000;
        high[r * width + x] = dense;
        low[r * width + x] = Math.max(0, dense - 6000);
      }
    }
    out.push({ width, height, pixelMm: 5, high, low, plate: `SOAK ${k}`, vehicleClass: 'truck', origin: `soak ${k}` });
  }
  return out;
}

/** Sets `soak.*` rows of the table in docs/benchmarks.md, in the format bench/run.ts keeps. */
function writeSoakRows(rows: [name: string, value: number, unit: string, note: string][]): void {
  const path = join(ROOT, 'docs', 'benchmarks.md');
  const lines = readFileSync(path, 'utf8').split('\n');
  const first = lines.findIndex((l) => l.startsWith('| `'));
  const end = first < 0 ? lines.length : lines.findIndex((l, i) => i > first && !l.startsWith('| `'));
  const table = new Map<string, string>();
  for (const l of lines.slice(first, end < 0 ? lines.length : end)) table.set(/^\| `([^`]+)`/.exec(l)![1], l);
  const date = new Date().toISOString().slice(0, 10);
  for (const [name, value, unit, note] of rows)
    table.set(name, `| \`${name}\` | ${value} | ${unit} | 1 | ${date} | ${note} |`);
  const sorted = [...table.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, l]) => l);
  lines.splice(first, (end < 0 ? lines.length : end) - first, ...sorted);
  writeFileSync(path, lines.join('\n'));
}

function rssKb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function startEdge(config: string, logFile: string): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/checkpoint-edge.js'), 'run', '--config', config], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
    appendFileSync(logFile, d);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, out: () => out };
}

function openScansIn(journal: string): number {
  try {
    const db = new Database(journal, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM open_scans').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'soak-'));
const broker = new MosquittoBroker({ persistence: true });
const sim = new ScannerStreamSim({
  source: arraySource(scans()),
  scans: SCANS,
  lineRateHz: 2000,
  gapMs: GAP_MS,
  heartbeatMs: 200,
  seed: 7,
  faults: { garbage: 0.002, badCrc: 0.002, drop: 0.002, faultRate: 0.02, disconnectRate: 0.02 },
});
const t0 = Date.now();
const cameraSim = new CameraSimulator({
  cameras: [{ id: 'front', role: 'front' }],
  width: 320,
  height: 180,
  fps: 5,
  faults: [
    { camera: 'front', type: 'stall', durationMs: 4000, atMs: 8000 },
    { camera: 'front', type: 'disconnect', durationMs: 3000, atMs: 25_000 },
    { camera: 'front', type: 'stall', durationMs: 4000, atMs: 45_000 },
  ],
});

const edges: { child: ChildProcess; out: () => string; rss: number[] }[] = [];
let collector: Collector | null = null;
let failed = false;
try {
  if (!haveMosquitto) throw new Error(`soak: ${MOSQUITTO} is needed (apt-get install mosquitto)`);
  await broker.start();
  const { port: scannerPort } = await sim.listenTcp(0);
  await cameraSim.start();
  collector = await Collector.connect(broker.url, [`checkpoint/${SITE}/#`]);
  const dataDir = join(dir, 'data');
  const config = join(dir, 'soak.yaml');
  writeFileSync(
    config,
    stringify({
      site: { id: SITE },
      dataDir,
      log: { level: 'warn', format: 'json' },
      http: { host: '127.0.0.1', port: 0 },
      console: { enabled: false },
      shutdownTimeoutMs: 6000,
      mqtt: {
        url: broker.url,
        protocolVersion: 5,
        reconnect: { initialMs: 100, maxMs: 1000 },
        outbox: { synchronous: 'full' },
      },
      lanes: [
        {
          id: 'lane-1',
          scanner: {
            transport: { type: 'tcp', host: '127.0.0.1', port: scannerPort },
            scanTimeoutMs: 3000,
            reconnect: { initialMs: 50, maxMs: 500 },
          },
          cameras: [{ id: 'front', role: 'front', kind: 'mjpeg', url: `${cameraSim.url}/front/mjpeg` }],
          ...(values['no-model'] ? {} : { model: { path: 'models/person-fcn', threads: 1, warmup: false } }),
        },
      ],
    }),
  );

  const results = () => {
    const byId = new Map<string, { scannerScanId?: string; outcome: string; abortReason?: string; verdict: string }>();
    for (const m of collector!.on('/lane-1/scan')) {
      const p = JSON.parse(m.payload) as {
        messageId: string;
        scannerScanId?: string;
        outcome: string;
        abortReason?: string;
        verdict: string;
      };
      if (!byId.has(p.messageId)) byId.set(p.messageId, p);
    }
    return [...byId.values()];
  };
  const sample = setInterval(() => {
    const e = edges.at(-1);
    const kb = rssKb(e?.child.pid);
    if (e && kb !== null && e.child.exitCode === null) e.rss.push(kb);
  }, 1000);
  sample.unref();

  edges.push({ ...startEdge(config, join(dir, 'edge-1.log')), rss: [] });
  const journal = join(dataDir, 'lanes', 'lane-1', 'open-scans.sqlite');

  // Two broker outages, 3 s each, at about a third and two thirds of the run.
  const outage = async (atResults: number) => {
    await waitFor(`${atResults} results before a broker outage`, () => results().length >= atResults, 600_000, 100);
    await broker.stop();
    await new Promise((r) => setTimeout(r, 3000));
    await broker.start();
  };
  const outages = (async () => {
    await outage(Math.floor(SCANS / 3));
    await outage(Math.floor((2 * SCANS) / 3));
  })();

  // One kill -9 of the edge, halfway, while a scan is open; then a restart on the same data.
  await waitFor('half the scans decided', () => results().length >= Math.floor(SCANS / 2), 600_000, 100);
  await waitFor('a scan open in the journal', () => openScansIn(journal) > 0, 60_000, 2);
  const first = edges[0];
  await new Promise<void>((r) => {
    first.child.once('exit', () => r());
    first.child.kill('SIGKILL');
  });
  const killedAt = results().length;
  const openAtKill = openScansIn(journal);
  edges.push({ ...startEdge(config, join(dir, 'edge-2.log')), rss: [] });

  await sim.finished;
  await outages;
  const sent = sim.report.scans.map((s) => s.scanId);
  await waitFor(
    'every scan at the subscriber',
    () => {
      const seen = new Set(results().map((r) => r.scannerScanId));
      return sent.every((id) => seen.has(id));
    },
    120_000,
    200,
  ).catch((err: Error) => {
    failed = true;
    process.stderr.write(`soak: ${err.message}\n`);
  });
  await new Promise((r) => setTimeout(r, 1000)); // anything late or doubled arrives now

  const all = results();
  const count = new Map<string, number>();
  for (const r of all) count.set(r.scannerScanId ?? '?', (count.get(r.scannerScanId ?? '?') ?? 0) + 1);
  // A scan sent on a link that was already dead (the edge killed, its socket not yet reset) got no
  // ack of its scan-end: the scanner sends it again, flagged resent, on the next link, and the edge
  // opens it only if it never began it. So every scan counts, those included.
  const resent = sim.report.scans.filter((r) => r.resends > 0).map((r) => r.scanId);
  const missing = sent.filter((id) => !count.has(id));
  const twice = [...count].filter(([, n]) => n > 1).map(([id]) => id);
  const stray = [...count.keys()].filter((id) => !sent.includes(id));
  const outcomes = new Map<string, number>();
  for (const r of all) {
    const k = r.outcome === 'aborted' ? `aborted ${r.abortReason}` : `completed ${r.verdict}`;
    outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  }
  const delivered = collector.on('/lane-1/scan').length + collector.on('/lane-1/alert').length;
  const unique =
    all.length + new Set(collector.json<{ messageId: string }>('/lane-1/alert').map((a) => a.messageId)).size;
  const lines = [
    `soak scans sent ${sent.length}, results at the subscriber ${all.length} (missing ${missing.length}, more than once ${twice.length}, unknown ${stray.length}); sent again by the scanner after an unacknowledged scan-end: ${resent.length}${resent.length ? ` (${resent.join(' ')})` : ''}, ${sim.report.resends} sendings`,
    `soak outcomes ${[...outcomes]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ')}`,
    `soak redeliveries ${delivered - unique} of ${delivered} scan/alert messages (de-duplicated on messageId)`,
    `soak faults injected ${JSON.stringify(sim.report.injected)}; broker outages 2 x 3 s; camera stall/disconnect 3; kill -9 after ${killedAt} results with ${openAtKill} scan(s) in the journal`,
    ...edges.map((e, i) => {
      if (e.rss.length < 4) return `soak edge process ${i + 1}: RSS not sampled`;
      const mib = (kb: number) => Math.round(kb / 1024);
      const q = e.rss[Math.floor(e.rss.length / 4)];
      const h = e.rss[Math.floor(e.rss.length / 2)];
      return `soak edge process ${i + 1}: RSS ${mib(e.rss[0])} MiB at start, ${mib(q)} MiB at a quarter of its run, ${mib(h)} MiB at half, ${mib(e.rss.at(-1)!)} MiB at the end (growth over its second half ${mib(e.rss.at(-1)! - h)} MiB; ${e.rss.length} samples, 1 s apart)`;
    }),
    `soak wall time ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  ];
  for (const l of lines) process.stdout.write(`${l}\n`);
  if (values.write) {
    const rss = edges.map((e) =>
      e.rss.length >= 4 ? { half: e.rss[Math.floor(e.rss.length / 2)], end: e.rss.at(-1)! } : null,
    );
    const last = rss.at(-1);
    const note = `${sent.length} scans at 2,000 lines/s, ${GAP_MS} ms apart, through checkpoint-edge run (scanner TCP, one MJPEG camera, ${values['no-model'] ? 'no model' : 'person-fcn'}, MQTT 5 to mosquitto) with ${sim.report.injected.badCrcLines} bad-CRC, ${sim.report.injected.droppedLines} dropped and ${sim.report.injected.garbageBursts} garbled line frames, ${sim.report.injected.faultFrames} scanner faults, ${sim.report.injected.disconnects} unplugs, 3 camera stalls/disconnects, 2 broker outages of 3 s and one kill -9 + restart`;
    writeSoakRows([
      [
        'soak.scans-accounted-exactly-once',
        sent.length - missing.length - twice.length,
        `of ${sent.length} scans`,
        `${note}; ${[...outcomes]
          .sort()
          .map(([k, n]) => `${k} ${n}`)
          .join(
            ', ',
          )}; ${resent.length} scans sent again by the scanner because their scan-end went unacknowledged (cut by an unplug or the kill), each reported once`,
      ],
      [
        'soak.wall-time',
        Math.round((Date.now() - t0) / 1000),
        's',
        'bench/soak.ts, the whole run including the restart',
      ],
      ...(last
        ? [
            [
              'soak.rss-growth-second-half',
              Math.round((last.end - last.half) / 1024),
              'MiB',
              `edge process after the restart: RSS ${Math.round(last.half / 1024)} MiB at half its run -> ${Math.round(last.end / 1024)} MiB at the end`,
            ] as [string, number, string, string],
          ]
        : []),
      ...(last
        ? [
            [
              'soak.rss-end',
              Math.round(last.end / 1024),
              'MiB',
              'edge process after the restart, at the end of the soak (model loaded)',
            ] as [string, number, string, string],
          ]
        : []),
    ]);
  }
  if (missing.length || twice.length || stray.length) {
    failed = true;
    for (const id of missing)
      process.stderr.write(
        `soak: ${id} at the scanner: ${JSON.stringify({ ...sim.report.scans.find((r) => r.scanId === id), scan: undefined })}\n`,
      );
    process.stderr.write(`soak: logs of the edge processes kept in ${dir}\n`);
    values['keep-data'] = true;
    process.stderr.write(
      `soak FAILED: missing ${missing.slice(0, 10).join(' ')}; more than once ${twice.slice(0, 10).join(' ')}; unknown ${stray.slice(0, 10).join(' ')}\n${edges.at(-1)!.out().slice(-3000)}\n`,
    );
  }
} catch (err) {
  failed = true;
  process.stderr.write(`soak: ${(err as Error).stack}\n${edges.at(-1)?.out().slice(-3000) ?? ''}\n`);
} finally {
  for (const e of edges) if (e.child.exitCode === null && e.child.signalCode === null) e.child.kill('SIGTERM');
  await Promise.all(
    edges.map((e) =>
      e.child.exitCode === null && e.child.signalCode === null ? new Promise((r) => e.child.once('exit', r)) : null,
    ),
  );
  await collector?.close().catch(() => {});
  await sim.stop();
  await cameraSim.stop();
  await broker.stop();
  if (!values['keep-data']) rmSync(dir, { recursive: true, force: true });
  rmSync(broker.dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
