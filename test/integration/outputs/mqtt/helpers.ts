import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Config } from '../../../../config/schema.js';
import { createMqttServices } from '../../../../app/compose/mqtt.js';
import type { Lane, SiteContext } from '../../../../app/context.js';
import { UnavailableDetector } from '../../../../core/detector.js';
import type { AlertEvent, ScanResult } from '../../../../core/domain.js';
import { validateConfig } from '../../../../config/load.js';
import { silentLogger } from '../../../../core/logger.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { RuntimeHttpServer } from '../../../../app/http-server.js';
import { LaneHealth } from '../../../../pipeline/lane-health.js';
import { alertFor, LanePipeline } from '../../../../pipeline/lane-pipeline.js';
import type { Logger } from '../../../../core/logger.js';
import { RuntimeMetrics } from '../../../../app/runtime-metrics.js';
import type { Service } from '../../../../core/service.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const haveMosquitto = existsSync(MOSQUITTO);
/** For describe.skipIf: skipped without mosquitto only outside CI; in CI the suites fail instead. */
export const skipWithoutMosquitto = skipWithout('mosquitto', haveMosquitto);

import { freePort } from '../../../helpers/net.js';
import { skipWithout } from '../../../helpers/peers.js';
import { scanResult } from '../../../helpers/builders.js';

export { freePort };

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false,
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** A Debian mosquitto started by a test on a free port; its pid is the spawned child's. */
export class MosquittoBroker {
  readonly dir: string;
  child: ChildProcess | null = null;
  port = 0;
  log = '';

  /** `listener` lines are written by start(); extra holds the rest (TLS, ACL...). */
  /** `config`, when given, is the whole mosquitto.conf for the port (no lines of its own are added). */
  constructor(
    readonly opts: {
      extra?: string;
      persistence?: boolean;
      listenerExtra?: string;
      config?: (port: number) => string;
    } = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'mosq-'));
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      this.opts.config
        ? this.opts.config(this.port)
        : [
            'user root', // the tests run as root; without this mosquitto drops to user mosquitto, which cannot read the test's files
            `listener ${this.port} 127.0.0.1`,
            this.opts.listenerExtra ?? 'allow_anonymous true',
            this.opts.persistence ? `persistence true\npersistence_location ${this.dir}/` : 'persistence false',
            'max_queued_messages 100000',
            'max_inflight_messages 20',
            'log_type error',
            'log_type warning',
            'log_type notice',
            this.opts.extra ?? '',
          ].join('\n'),
    );
    if (!haveMosquitto)
      throw new Error(
        `mosquitto is not installed (${MOSQUITTO}): apt-get install mosquitto mosquitto-clients, as .ci/run does`,
      );
    const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    const t0 = Date.now();
    while (!(await portOpen(this.port))) {
      if (exited) throw new Error(`mosquitto exited at start:\n${this.log}`);
      if (Date.now() - t0 > 10_000)
        throw new Error(`mosquitto did not listen on ${this.port} within 10 s:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGTERM (mosquitto saves its persistence file), then waits for the exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  }
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
  raw: Buffer;
}

/** A subscriber that keeps everything it receives (persistent session, QoS 1). */
export class Collector {
  readonly messages: Received[] = [];
  client!: MqttClient;

  static async connect(url: string, filters: string[], opts: IClientOptions = {}): Promise<Collector> {
    const c = new Collector();
    c.client = mqtt.connect(url, {
      clientId: `collector-${Math.random().toString(16).slice(2, 10)}`,
      clean: false,
      reconnectPeriod: 200,
      connectTimeout: 5000,
      protocolVersion: 5,
      ...(opts.protocolVersion === 5 || opts.protocolVersion === undefined
        ? { properties: { sessionExpiryInterval: 600 } }
        : {}),
      ...opts,
    });
    c.client.on('message', (topic, payload, packet) =>
      c.messages.push({
        topic,
        payload: payload.toString(),
        retain: packet.retain,
        qos: packet.qos,
        raw: Buffer.from(payload),
      }),
    );
    c.client.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      c.client.once('connect', () => resolve());
      c.client.once('error', reject);
    });
    await c.client.subscribeAsync(filters, { qos: 1 });
    return c;
  }

  on(topicSuffix: string): Received[] {
    return this.messages.filter((m) => m.topic.endsWith(topicSuffix));
  }

  json<T = Record<string, unknown>>(topicSuffix: string): T[] {
    return this.on(topicSuffix).map((m) => JSON.parse(m.payload) as T);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** First occurrence of each messageId, in arrival order. */
export function dedup(ids: string[]): { unique: string[]; duplicates: number } {
  const seen = new Set<string>();
  const unique: string[] = [];
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    unique.push(id);
  }
  return { unique, duplicates: ids.length - unique.length };
}

export function fakeScan(
  siteId: string,
  laneId: string,
  n: number,
  verdict: ScanResult['verdict'] = 'clear',
): ScanResult {
  const t = new Date().toISOString();
  return scanResult({
    scanId: `${laneId}-scan-${String(n).padStart(5, '0')}`,
    laneId,
    siteId,
    startedAt: t,
    endedAt: t,
    decidedAt: t,
    verdict,
    ...(verdict === 'unavailable' ? { unavailableReason: 'test' } : {}),
    score: verdict === 'person' ? 0.9 : verdict === 'clear' ? 0.1 : null,
    regions: verdict === 'person' ? [{ x: 10, y: 20, w: 30, h: 40, score: 0.9 }] : [],
    model: verdict === 'unavailable' ? null : { name: 'person-fcn', version: 'test' },
    vehicle: { plate: `T ${n}` },
    lines: 1000,
    channels: 256,
    evidence: [
      { name: 'scan.jpg', kind: 'scan', contentType: 'image/jpeg', url: `/evidence/${laneId}-scan-${n}/scan.jpg` },
    ],
  });
}

/** A minimal site config (YAML-compatible object) for the MQTT tests. */
/**
 * Emits scans from..from+count-1 of a lane on its bus, with the alert each raises; returns the
 * message ids in the order they were emitted. Default verdicts: clear, person, unavailable in turn.
 */
export function emitScans(
  lane: Pick<Lane, 'id' | 'bus'>,
  siteId: string,
  from: number,
  count: number,
  verdictOf: (n: number) => ScanResult['verdict'] = (n) => (['clear', 'person', 'unavailable'] as const)[n % 3],
): string[] {
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) {
    const result = fakeScan(siteId, lane.id, i, verdictOf(i));
    lane.bus.emit('scan.decided', { result });
    ids.push(result.scanId);
    const alert = alertFor(result);
    if (alert) {
      lane.bus.emit('alert.raised', alert);
      ids.push(alert.alertId);
    }
  }
  return ids;
}

export function siteConfig(o: {
  url: string;
  dataDir: string;
  lanes: string[];
  protocolVersion?: 4 | 5;
  extra?: Record<string, unknown>;
  site?: string;
}): Record<string, unknown> {
  return {
    site: { id: o.site ?? 'site-a' },
    dataDir: o.dataDir,
    log: { level: 'warn', format: 'json' },
    http: { host: '127.0.0.1', port: 0 },
    shutdownTimeoutMs: 6000,
    mqtt: {
      url: o.url,
      protocolVersion: o.protocolVersion ?? 5,
      reconnect: { initialMs: 100, maxMs: 1000 },
      statusIntervalS: 5,
      evidenceBaseUrl: 'https://lane.example:8080',
      outbox: { maxMessages: 100_000, synchronous: 'normal' },
      commands: { identities: [{ name: 'central-hq' }] },
      ...(o.extra ?? {}),
    },
    lanes: o.lanes.map((id) => ({ id, scanner: { transport: { type: 'tcp', host: '127.0.0.1', port: 9 } } })),
  };
}

/** The edge runner as a child process: `node bin/run-ts.js test/integration/outputs/mqtt/edge-runner.ts`. */
export class EdgeProcess {
  readonly produced: string[] = [];
  child: ChildProcess;
  out = '';
  err = '';
  #exited = false;

  constructor(configFile: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(
      process.execPath,
      ['bin/run-ts.js', 'test/integration/outputs/mqtt/edge-runner.ts', configFile, ...args],
      {
        cwd: join(import.meta.dirname, '../../../..'),
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      },
    );
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      this.out += d.toString();
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = /^produced (\S+) (\S+) (\S+)$/.exec(line);
        if (m) this.produced.push(`${m[1]} ${m[2]} ${m[3]}`);
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.child.once('exit', () => (this.#exited = true));
  }

  get exited(): boolean {
    return this.#exited;
  }

  async waitLine(text: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `"${text}" from the edge runner (stderr: ${this.err.slice(-500)})`,
      () =>
        this.out.includes(text) ||
        (this.#exited && !this.out.includes(text)
          ? (() => {
              throw new Error(`edge runner exited before "${text}":\n${this.err}`);
            })()
          : false),
      timeoutMs,
    );
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.#exited) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}

/** The lanes of a config (bus, health, an unavailable detector) and their MQTT services, not started. */
export function mqttSite(config: Config, log: Logger): { lanes: Lane[]; services: Service[]; metrics: RuntimeMetrics } {
  const lanes: Lane[] = config.lanes.map((l) => {
    const bus = new EventBus<LaneEvents>(log);
    const health = new LaneHealth(l.id);
    health.attach(bus);
    const detector = new UnavailableDetector('no model in the MQTT tests');
    const pipeline = new LanePipeline({
      siteId: config.site.id,
      laneId: l.id,
      bus,
      detector,
      thresholds: l.thresholds,
      log,
    });
    return { id: l.id, name: l.id, config: l, bus, health, pipeline, detector };
  });
  const metrics = new RuntimeMetrics();
  const site: SiteContext = {
    config,
    lanes,
    log,
    dataDir: config.dataDir,
    http: new RuntimeHttpServer({ host: '127.0.0.1', port: 0, log }),
    metrics,
    version: 'test',
    demo: false,
    announce: () => {},
  };
  return { lanes, services: createMqttServices(site), metrics };
}

/**
 * One lane (MQTT output only) on a mosquitto broker started here, online, with the alert events
 * it records (acknowledgements and dispositions from central command) collected.
 */
export async function laneOnBroker(site: string): Promise<{
  broker: MosquittoBroker;
  lane: Lane;
  events: AlertEvent[];
  stop(): Promise<void>;
}> {
  const broker = new MosquittoBroker();
  await broker.start();
  const running: Service[] = [];
  const events: AlertEvent[] = [];
  const config = validateConfig(
    siteConfig({ url: broker.url, dataDir: mkdtempSync(join(tmpdir(), `mqtt-${site}-`)), lanes: ['lane-1'], site }),
  );
  const s = mqttSite(config, silentLogger());
  const lane = s.lanes[0]!;
  lane.bus.on('alert.event', 'test', (e) => void events.push(e));
  for (const svc of s.services) {
    await svc.start();
    running.push(svc);
  }
  await waitFor('the lane online', () => lane.health.get('mqtt')?.state === 'ok');
  return {
    broker,
    lane,
    events,
    async stop() {
      for (const svc of running.reverse()) await svc.stop();
      await broker.stop();
    },
  };
}
