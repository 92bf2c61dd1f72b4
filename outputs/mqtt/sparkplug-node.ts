import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Alert, ScanResult } from '../../core/domain.js';
import type { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import type { LaneHealthSnapshot, LaneHealthView } from '../../core/health.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import type { MqttLink } from './mqtt-link.js';
import { decodeSparkplug, encodeSparkplug, type SparkplugMetric } from './sparkplug-codec.js';

export interface SparkplugNodeOptions {
  groupId: string;
  nodeId: string;
  siteId: string;
  laneId: string;
  bus: EventBus<LaneEvents>;
  health: LaneHealthView;
  /** A connection of its own (clean session), whose will is this node's NDEATH: see willFor(). */
  link: MqttLink;
  /** Where bdSeq survives restarts. */
  bdSeqFile: string;
  edgeVersion: string;
  modelVersion(): string | null;
  outboxDepth(): number | null;
  log: Logger;
}

function sparkplugTopic(groupId: string, type: 'NBIRTH' | 'NDATA' | 'NDEATH' | 'NCMD', nodeId: string): string {
  return `spBv1.0/${groupId}/${type}/${nodeId}`;
}

/**
 * The lane as a Sparkplug B edge node, for SCADA hosts: NBIRTH on every connect (and on a
 * Rebirth command, or when a new device appears), NDATA on every change, NDEATH as the
 * connection's will with a bdSeq that grows with each connection attempt (kept on disk).
 * QoS 0 as the specification asks: a state mirror, not the alert record (the JSON topics
 * deliver alerts durably).
 */
export class SparkplugNode implements Service {
  readonly name: string;
  readonly #options: SparkplugNodeOptions;
  #bdSeq = -1;
  #seq = 0;
  #born = new Set<string>();
  #scans = 0;
  #alerts = 0;
  #lastScan: ScanResult | null = null;
  #lastAlert: Alert | null = null;
  #unsubscribe: (() => void)[] = [];

  constructor(opts: SparkplugNodeOptions) {
    this.#options = opts;
    this.name = `sparkplug:${opts.laneId}`;
  }

  /** The will for the next connection attempt: NDEATH with the next bdSeq. Passed to MqttLink. */
  willFor(): { topic: string; payload: Buffer; retain: boolean } {
    if (this.#bdSeq < 0) this.#bdSeq = this.#readBdSeq();
    this.#bdSeq = (this.#bdSeq + 1) % 256;
    this.#writeBdSeq();
    return { topic: this.#topic('NDEATH'), payload: this.#death(), retain: false };
  }

  async start(): Promise<void> {
    const { bus, link, health } = this.#options;
    const owner = this.name;
    const onConnected = () => void this.#connected();
    const onMessage = (topic: string, payload: Buffer) => this.#command(topic, payload);
    link.on('connected', onConnected);
    link.on('message', onMessage);
    this.#unsubscribe = [
      () => link.off('connected', onConnected),
      () => link.off('message', onMessage),
      bus.on('scan.decided', owner, ({ result }) => {
        this.#scans++;
        this.#lastScan = result;
        this.#data([...this.#scanMetrics(), ...this.#outboxMetrics()]);
      }),
      bus.on('alert.raised', owner, (a) => {
        this.#alerts++;
        this.#lastAlert = a;
        this.#data(this.#alertMetrics());
      }),
      health.onChange((s) => this.#healthChanged(s)),
    ];
    link.start();
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    const { link } = this.#options;
    if (link.connected) {
      // An orderly stop sends NDEATH itself: a DISCONNECT discards the will.
      await Promise.race([
        link.publish(this.#topic('NDEATH'), this.#death(), { qos: 1 }).catch(() => {}),
        new Promise((r) => setTimeout(r, 500)),
      ]);
    }
    await link.stop(500);
  }

  #topic(type: 'NBIRTH' | 'NDATA' | 'NDEATH' | 'NCMD'): string {
    return sparkplugTopic(this.#options.groupId, type, this.#options.nodeId);
  }

  #death(): Buffer {
    return encodeSparkplug({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: this.#bdSeq }] });
  }

  async #connected(): Promise<void> {
    const { link, log } = this.#options;
    this.#born.clear(); // no NDATA on this connection before its NBIRTH
    try {
      await link.subscribe(this.#topic('NCMD'), 1);
    } catch (err) {
      log.error({ err }, `Sparkplug: ${(err as Error).message}; Rebirth commands cannot be received`);
    }
    this.#birth();
  }

  #birth(): void {
    const { link, log, siteId, laneId, edgeVersion } = this.#options;
    if (!link.connected) return;
    const h = this.#options.health.snapshot();
    const metrics: SparkplugMetric[] = [
      { name: 'bdSeq', type: 'UInt64', value: this.#bdSeq },
      { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
      { name: 'Properties/Site', type: 'String', value: siteId },
      { name: 'Properties/Lane', type: 'String', value: laneId },
      { name: 'Properties/Edge Version', type: 'String', value: edgeVersion },
      { name: 'Properties/Model', type: 'String', value: this.#options.modelVersion() },
      ...this.#healthMetrics(h),
      ...this.#scanMetrics(),
      ...this.#alertMetrics(),
      ...this.#outboxMetrics(),
    ];
    this.#born = new Set(metrics.map((m) => m.name));
    this.#seq = 0;
    link
      .publish(this.#topic('NBIRTH'), encodeSparkplug({ timestamp: Date.now(), seq: 0, metrics }), { qos: 0 })
      .catch((err: Error) => log.warn({ err }, `Sparkplug: NBIRTH not published: ${err.message}`));
  }

  #data(metrics: SparkplugMetric[]): void {
    const { link, log } = this.#options;
    if (!link.connected || this.#born.size === 0) return;
    if (metrics.some((m) => !this.#born.has(m.name))) {
      this.#birth(); // a metric the host has not been told about: a new birth carries it
      return;
    }
    this.#seq = (this.#seq + 1) % 256;
    link
      .publish(this.#topic('NDATA'), encodeSparkplug({ timestamp: Date.now(), seq: this.#seq, metrics }), { qos: 0 })
      .catch((err: Error) => log.debug({ err }, `Sparkplug: NDATA not published: ${err.message}`));
  }

  #healthChanged(s: LaneHealthSnapshot): void {
    this.#data([...this.#healthMetrics(s), ...this.#outboxMetrics()]);
  }

  #healthMetrics(h: LaneHealthSnapshot): SparkplugMetric[] {
    const out: SparkplugMetric[] = [{ name: 'Lane/Overall', type: 'String', value: h.overall }];
    for (const d of h.devices) {
      out.push({ name: `Devices/${d.device}/State`, type: 'String', value: d.state });
      out.push({ name: `Devices/${d.device}/Detail`, type: 'String', value: d.detail ?? '' });
    }
    return out;
  }

  #scanMetrics(): SparkplugMetric[] {
    const s = this.#lastScan;
    return [
      { name: 'Scans/Count', type: 'UInt64', value: this.#scans },
      { name: 'Scans/Last/Id', type: 'String', value: s?.scanId ?? null },
      { name: 'Scans/Last/Verdict', type: 'String', value: s?.verdict ?? null },
      { name: 'Scans/Last/Score', type: 'Double', value: s?.score ?? null },
      { name: 'Scans/Last/Decided At', type: 'DateTime', value: s ? Date.parse(s.decidedAt) : null },
    ];
  }

  #alertMetrics(): SparkplugMetric[] {
    const a = this.#lastAlert;
    return [
      { name: 'Alerts/Count', type: 'UInt64', value: this.#alerts },
      { name: 'Alerts/Last/Id', type: 'String', value: a?.alertId ?? null },
      { name: 'Alerts/Last/Kind', type: 'String', value: a?.kind ?? null },
      { name: 'Alerts/Last/Severity', type: 'String', value: a?.severity ?? null },
      { name: 'Alerts/Last/Message', type: 'String', value: a?.message ?? null },
    ];
  }

  #outboxMetrics(): SparkplugMetric[] {
    return [{ name: 'Outbox/Depth', type: 'UInt64', value: this.#options.outboxDepth() }];
  }

  #command(topic: string, payload: Buffer): void {
    if (topic !== this.#topic('NCMD')) return;
    try {
      const cmd = decodeSparkplug(payload);
      if (cmd.metrics.some((m) => m.name === 'Node Control/Rebirth' && m.value === true)) {
        this.#options.log.info('Sparkplug: Rebirth requested by the host');
        this.#birth();
        return;
      }
      this.#options.log.warn(
        { metrics: cmd.metrics.map((m) => m.name) },
        `Sparkplug: NCMD with no supported metric (only Node Control/Rebirth is): ignored`,
      );
    } catch (err) {
      this.#options.log.warn({ err }, `Sparkplug: malformed NCMD on ${topic} (${(err as Error).message}); ignored`);
    }
  }

  #readBdSeq(): number {
    try {
      const n = Number(readFileSync(this.#options.bdSeqFile, 'utf8').trim());
      return Number.isInteger(n) && n >= 0 && n < 256 ? n : -1;
    } catch {
      return -1;
    }
  }

  #writeBdSeq(): void {
    try {
      mkdirSync(dirname(this.#options.bdSeqFile), { recursive: true });
      writeFileSync(this.#options.bdSeqFile, `${this.#bdSeq}\n`);
    } catch (err) {
      this.#options.log.warn(
        { err },
        `Sparkplug: bdSeq cannot be kept in ${this.#options.bdSeqFile} (${(err as Error).message}); it restarts at 0 after a restart`,
      );
    }
  }
}
