import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertLedger } from '../outputs/mqtt/alert-ledger.js';
import { LanePublisher } from '../outputs/mqtt/lane-publisher.js';
import { MqttLink } from '../outputs/mqtt/mqtt-link.js';
import { scanPayload } from '../core/mqtt-payloads.js';
import { SqliteOutbox } from '../outputs/mqtt/sqlite-outbox.js';
import { LaneTopics } from '../core/mqtt-topics.js';
import type { ScanResult } from '../core/domain.js';
import { EmbeddedBroker } from '../app/embedded-broker.js';
import { EventBus } from '../core/event-bus.js';
import type { LaneEvents } from '../core/events.js';
import { LaneHealth } from '../pipeline/lane-health.js';
import { silentLogger } from '../core/logger.js';
import { freePort } from '../test/helpers/net.js';
import { defineBench, median, percentile } from './harness.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
const RUNS = 5;
const SCANS_PER_RUN = 200;
const REPLAY_MESSAGES = 5000;

interface Broker {
  url: string;
  what: string;
  stop(): Promise<void>;
}

async function startBroker(dir: string): Promise<Broker> {
  if (!existsSync(MOSQUITTO)) {
    const b = new EmbeddedBroker({ port: 0 });
    await b.start();
    return { url: b.url, what: 'embedded aedes broker (mosquitto not installed)', stop: () => b.stop() };
  }
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    `user root\nlistener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_type error\n`,
  );
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const c = createConnection({ port, host: '127.0.0.1' })
        .once('connect', () => {
          c.destroy();
          resolve(true);
        })
        .once('error', () => resolve(false));
    });
    if (open) break;
    if (i > 200) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    what: 'mosquitto 2 (Debian) on loopback',
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function scan(n: number): ScanResult {
  const t = new Date().toISOString();
  return {
    scanId: `bench-${n}`,
    laneId: 'lane-1',
    siteId: 'bench',
    startedAt: t,
    endedAt: t,
    decidedAt: t,
    outcome: 'completed',
    verdict: 'clear',
    score: 0.12,
    regions: [{ x: 100, y: 20, w: 40, h: 60, score: 0.12 }],
    model: { name: 'person-fcn', version: '1' },
    vehicle: { plate: 'AB 1234' },
    lines: 3000,
    channels: 256,
    missingLines: 0,
    evidence: [
      { name: 'scan.jpg', kind: 'scan', contentType: 'image/jpeg', url: `/evidence/bench-${n}/scan.jpg` },
      { name: 'front.jpg', kind: 'camera', contentType: 'image/jpeg', url: `/evidence/bench-${n}/front.jpg` },
    ],
  };
}

function publisher(url: string, file: string, synchronous: 'full' | 'normal', onAcked: () => void) {
  const log = silentLogger();
  const bus = new EventBus<LaneEvents>(log);
  const health = new LaneHealth('lane-1');
  health.attach(bus);
  const topics = new LaneTopics('bench', 'bench', 'lane-1');
  const outbox = new SqliteOutbox({ path: file, laneId: 'lane-1', maxMessages: 1_000_000, synchronous });
  const p = new LanePublisher({
    siteId: 'bench',
    laneId: 'lane-1',
    bus,
    health,
    outbox,
    ledger: new AlertLedger({ path: ':memory:', laneId: 'lane-1' }),
    link: new MqttLink({
      url,
      protocolVersion: 5,
      clientId: `bench-${Math.random().toString(16).slice(2)}`,
      keepaliveS: 30,
      reconnect: { initialMs: 50, maxMs: 500 },
      sessionExpiryS: 0,
      will: { topic: topics.availability, payload: 'offline' },
      log,
    }),
    topics,
    maxInflight: 20,
    statusIntervalMs: 60_000,
    flushTimeoutMs: 2000,
    edgeVersion: 'bench',
    modelVersion: () => null,
    evidenceBaseUrl: () => 'https://lane.example',
    identities: [],
    log,
    onAcked,
  });
  return { p, bus, health, outbox };
}

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`bench mqtt: timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

export default defineBench({
  area: 'mqtt',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-mqtt-'));
    const broker = await startBroker(dir);
    try {
      for (const sync of ['full', 'normal'] as const) {
        const medians: number[] = [];
        const p99s: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          let acked = 0;
          const { p, bus, health } = publisher(
            broker.url,
            join(dir, `latency-${sync}-${run}.sqlite`),
            sync,
            () => acked++,
          );
          await p.start();
          await until('connect', () => health.get('mqtt')?.state === 'ok');
          const xs: number[] = [];
          for (let i = 0; i < SCANS_PER_RUN; i++) {
            const before = acked;
            const t0 = performance.now();
            bus.emit('scan.decided', { result: scan(run * 10_000 + i) });
            await until('PUBACK', () => acked > before);
            xs.push(performance.now() - t0);
          }
          await p.stop();
          medians.push(median(xs));
          p99s.push(percentile(xs, 99));
        }
        const note = `${broker.what}; MQTT 5 QoS 1; SQLite WAL synchronous=${sync.toUpperCase()}; ${SCANS_PER_RUN} scans one at a time per run; value = median over runs`;
        ctx.report(`mqtt.verdict_to_puback_median.sync_${sync}`, medians, 'ms', note);
        ctx.report(`mqtt.verdict_to_puback_p99.sync_${sync}`, p99s, 'ms', note);
      }

      const rates: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const file = join(dir, `replay-${run}.sqlite`);
        const queued = new SqliteOutbox({
          path: file,
          laneId: 'lane-1',
          maxMessages: 1_000_000,
          synchronous: 'normal',
        });
        const topic = new LaneTopics('bench', 'bench', 'lane-1').scan;
        for (let i = 0; i < REPLAY_MESSAGES; i++)
          queued.put({
            kind: 'scan',
            id: `bench-${i}`,
            topic,
            payload: JSON.stringify(scanPayload(scan(i), 'https://lane.example')),
          });
        queued.close();
        let acked = 0;
        const { p, health } = publisher(broker.url, file, 'full', () => acked++);
        await p.start();
        await until('connect', () => health.get('mqtt')?.state === 'ok');
        const t0 = performance.now();
        await until('replay', () => acked >= REPLAY_MESSAGES);
        rates.push(REPLAY_MESSAGES / ((performance.now() - t0) / 1000));
        await p.stop();
      }
      ctx.report(
        'mqtt.replay_rate_after_outage',
        rates,
        'messages/s',
        `${broker.what}; ${REPLAY_MESSAGES} queued scan results (~0.7 kB) replayed from the SQLite outbox (synchronous=FULL, one delete per PUBACK), 20 in flight, MQTT 5 QoS 1`,
      );
    } finally {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
