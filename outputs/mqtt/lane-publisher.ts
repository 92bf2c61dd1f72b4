import type { IClientPublishOptions, IPublishPacket } from 'mqtt';
import type { Alert, DeviceState } from '../../core/domain.js';
import type { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import { deviceStatus, type LaneHealthView } from '../../core/health.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import type { AlertLedger } from './alert-ledger.js';
import { CommandHandler, IDENTITY_PROPERTY, type CentralIdentity } from './commands.js';
import type { ConnectedInfo, MqttLink } from './mqtt-link.js';
import type { MqttMetrics } from './mqtt-metrics.js';
import type { AlertOutbox, OutboxEntry, OutboxMessage, PutResult } from './outbox.js';
import {
  alertPayload,
  eventPayload,
  reviewReason,
  scanPayload,
  receiptPayloadSchema,
  SCHEMA_VERSION,
  statusPayload,
  type ReceiptPayload,
  type EvidenceLinkSigner,
  type StatusPayload,
} from '../../core/mqtt-payloads.js';
import type { LaneTopics } from '../../core/mqtt-topics.js';

export interface LanePublisherOptions {
  siteId: string;
  laneId: string;
  bus: EventBus<LaneEvents>;
  health: LaneHealthView;
  outbox: AlertOutbox;
  ledger: AlertLedger;
  link: MqttLink;
  topics: LaneTopics;
  /** QoS 1 messages in flight at once (further capped by the broker's Receive Maximum). */
  maxInflight: number;
  statusIntervalMs: number;
  /** Time stop() waits for the outbox to drain while connected. */
  flushTimeoutMs: number;
  edgeVersion: string;
  modelVersion(): string | null;
  /** Base URL for evidence links, read at publish time (the HTTP port is known once started). */
  evidenceBaseUrl(): string | null;
  /** Signs evidence paths (?exp=&sig=) so that central command can fetch them; absent: plain links. */
  signEvidence?: EvidenceLinkSigner;
  /** Central identities allowed to send commands (mqtt.commands.identities); none: commands are refused. */
  identities: readonly CentralIdentity[];
  allowedOperators?: string[];
  /** Which scans go to central command's remote review (mqtt.review); absent: none. */
  review?: { verdicts: readonly string[]; clearShare: number };
  log: Logger;
  metrics?: MqttMetrics;
  /** Set when the outbox is not the durable one it should be: shown in the lane's mqtt status. */
  outboxWarning?: string;
  /** Called after the broker acknowledged an outbox entry (benchmarks, tests). */
  onAcked?: (entry: OutboxEntry) => void;
  /**
   * What removes an entry from the outbox (mqtt.delivery.confirmBy): the broker's PUBACK, or
   * central command's receipt on <base>/receipt that it stored the message. Default: broker.
   */
  confirmBy?: 'broker' | 'central';
  /** confirmBy central: an entry sent this long ago without a receipt is sent again. */
  receiptTimeoutMs?: number;
}

/**
 * A lane's link to central command. Scan results, alerts and alert events go into the outbox
 * synchronously, as the bus delivers them; a drain loop publishes the outbox in order with
 * QoS 1 and removes each entry on its PUBACK. After a reconnect (or a restart: the outbox is on
 * disk) the drain starts again from the oldest entry, so every message is delivered at least
 * once, in order per lane; consumers de-duplicate on messageId.
 *
 * With confirmBy 'central' a PUBACK only frees the in-flight slot: the entry stays in the outbox
 * until central command's receipt names it, and is sent again when none comes within
 * receiptTimeoutMs. A broker that acknowledges before storing (nats-server 2.9's MQTT listener
 * hands a QoS 1 publish to the stream as a plain NATS message, PUBACK regardless) then loses
 * nothing: what central never stored is never receipted.
 */
export class LanePublisher implements Service {
  readonly name: string;
  readonly #options: LanePublisherOptions;
  readonly #commands: CommandHandler;
  #unsubscribe: (() => void)[] = [];
  #timers: NodeJS.Timeout[] = [];
  #statusDebounce: NodeJS.Timeout | null = null;
  /** Highest seq sent on the current connection. */
  #cursor = 0;
  #inflight = new Set<number>();
  #window: number;
  #linkState: { state: DeviceState; detail: string } = { state: 'starting', detail: 'not connected yet' };
  #evicted = 0;
  #started = false;
  /** Acknowledged entries not yet removed: removals are batched into one transaction. */
  #acked: number[] = [];
  #removeTimer: NodeJS.Timeout | null = null;
  #closed = false;
  /**
   * confirmBy central: entries sent and not yet receipted, by `${kind}:${id}`, oldest send first
   * (a resend moves an entry to the end). Bounded by the outbox.
   */
  readonly #awaiting = new Map<string, { seq: number; sentAt: number }>();
  /** Signs an evidence link; when it cannot (no key), the message still goes, with the plain link, and the error is logged. */
  readonly #sign: EvidenceLinkSigner | undefined;

  constructor(opts: LanePublisherOptions) {
    this.#options = opts;
    this.#sign = this.#makeSigner();
    this.name = `mqtt:${opts.laneId}`;
    this.#window = opts.maxInflight;
    this.#commands = new CommandHandler({
      siteId: opts.siteId,
      laneId: opts.laneId,
      bus: opts.bus,
      ledger: opts.ledger,
      identities: opts.identities,
      ...(opts.allowedOperators ? { allowedOperators: opts.allowedOperators } : {}),
      status: () => this.status(),
      log: opts.log,
    });
  }

  get outbox(): AlertOutbox {
    return this.#options.outbox;
  }

  #makeSigner(): EvidenceLinkSigner | undefined {
    const sign = this.#options.signEvidence;
    if (!sign) return undefined;
    return (path) => {
      try {
        return sign(path);
      } catch (err) {
        this.#options.log.error(
          { err, path },
          `evidence link ${path} sent unsigned, so central command cannot open it: ${(err as Error).message}`,
        );
        return path;
      }
    };
  }

  async start(): Promise<void> {
    const { bus, link, health, ledger } = this.#options;
    const owner = this.name;
    this.#started = true;
    this.#unsubscribe = [
      bus.on('scan.decided', owner, ({ result }) => {
        const payload = scanPayload(result, this.#options.evidenceBaseUrl(), this.#sign);
        const reason = this.#options.review ? reviewReason(result, this.#options.review) : null;
        if (reason) {
          payload.review = { reason };
          this.#commands.sentForReview(result.scanId);
        }
        this.#enqueue({
          kind: 'scan',
          id: result.scanId,
          topic: this.#options.topics.scan,
          payload: JSON.stringify(payload),
        });
      }),
      bus.on('alert.raised', owner, (a) => this.#alert(a)),
      // Covert watchlist hits come only this way: to central command, never to the console.
      bus.on('watchlist.covert', owner, (a) => this.#alert(a)),
      bus.on('alert.event', owner, (e) => {
        ledger.record(e);
        this.#enqueue({
          kind: 'event',
          id: e.eventId,
          topic: this.#options.topics.event,
          payload: JSON.stringify(eventPayload(e)),
        });
      }),
      health.onChange(() => this.#statusSoon()),
    ];
    const onConnected = (info: ConnectedInfo) => void this.#connected(info);
    const onDisconnected = (d: { reason: string; retryInMs: number }) => this.#disconnected(d.reason, d.retryInMs);
    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => this.#message(topic, payload, packet);
    link.on('connected', onConnected);
    link.on('disconnected', onDisconnected);
    link.on('message', onMessage);
    this.#unsubscribe.push(() => {
      link.off('connected', onConnected);
      link.off('disconnected', onDisconnected);
      link.off('message', onMessage);
    });
    this.#timers.push(
      setInterval(() => {
        this.#reportLink();
        this.#publishStatus();
      }, this.#options.statusIntervalMs),
    );
    if (this.#confirmByCentral)
      this.#timers.push(
        setInterval(() => this.#resendUnreceipted(), Math.max(200, Math.min(5000, this.#receiptTimeoutMs / 4))),
      );
    this.#reportLink(`connecting to ${link.url} as ${link.clientId}`);
    link.start();
  }

  /** Waits (at most flushTimeoutMs) for the outbox to drain, says 'offline', and disconnects. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    if (this.#statusDebounce) clearTimeout(this.#statusDebounce);
    const { link, outbox, log } = this.#options;
    const deadline = Date.now() + this.#options.flushTimeoutMs;
    for (;;) {
      this.#removeAcked();
      if (!link.connected || outbox.depth().depth === 0 || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const left = outbox.depth().depth;
    if (left > 0)
      log.warn(
        { queued: left },
        `MQTT: stopping with ${left} message(s) in the outbox; they are published after the next start`,
      );
    if (link.connected) {
      await Promise.race([
        link.publish(this.#options.topics.availability, 'offline', { qos: 1, retain: true }).catch(() => {}),
        new Promise((r) => setTimeout(r, 500)),
      ]);
    }
    await link.stop(500);
    this.#options.bus.emit('device.status', deviceStatus('mqtt', 'offline', 'stopped', { outboxDepth: left }));
    this.#removeAcked();
    this.#closed = true;
    outbox.close();
    this.#options.ledger.close();
  }

  #alert(a: Alert): void {
    this.#options.ledger.raised(a);
    this.#enqueue({
      kind: 'alert',
      id: a.alertId,
      topic: this.#options.topics.alert,
      payload: JSON.stringify(alertPayload(a, this.#options.evidenceBaseUrl(), this.#sign)),
    });
  }

  /** The retained status payload as it is now. */
  status(): StatusPayload {
    const d = this.#options.outbox.depth();
    return statusPayload({
      siteId: this.#options.siteId,
      health: this.#options.health.snapshot(),
      outbox: { depth: d.depth, alerts: d.alerts, scans: d.scans, events: d.events, evicted: this.#evicted },
      edgeVersion: this.#options.edgeVersion,
      modelVersion: this.#options.modelVersion(),
    });
  }

  #enqueue(m: OutboxMessage): void {
    const { outbox, log, metrics, laneId } = this.#options;
    let r: PutResult;
    try {
      r = outbox.put(m);
    } catch (err) {
      // The message exists only in memory now: say so loudly, and still try to publish it once.
      const connected = this.#options.link.connected;
      log.error(
        { err, kind: m.kind, id: m.id },
        `MQTT outbox: cannot store ${m.kind} ${m.id} (${(err as Error).message}); ${connected ? 'publishing it once without a durable copy' : 'not connected either: it is lost'}; check the disk and mqtt.outbox.path`,
      );
      this.#reportLink();
      if (connected) {
        this.#options.link
          .publish(m.topic, m.payload, this.#publishOptions(m))
          .catch((e: Error) =>
            log.error(
              { id: m.id },
              `MQTT: ${m.kind} ${m.id} (not in the outbox) was not acknowledged (${e.message}): it is lost`,
            ),
          );
      }
      return;
    }
    for (const v of r.evicted) {
      this.#evicted++;
      metrics?.evicted.inc({ lane: laneId, kind: v.kind });
      log.error(
        { evicted: v, for: { kind: m.kind, id: m.id } },
        `MQTT outbox full (${outbox.maxMessages} messages): ${v.kind} ${v.id} evicted to make room for ${m.kind} ${m.id}; it will not reach central command`,
      );
    }
    if (r.refused) {
      this.#evicted++;
      metrics?.evicted.inc({ lane: laneId, kind: m.kind });
      log.error(
        { kind: m.kind, id: m.id },
        `MQTT outbox full of higher-priority messages (${outbox.maxMessages}): ${m.kind} ${m.id} not queued; it will not reach central command`,
      );
    }
    metrics?.outboxDepth.set({ lane: laneId }, outbox.depth().depth);
    this.#drain();
  }

  #drain(): void {
    const { link, outbox } = this.#options;
    while (link.connected && this.#inflight.size < this.#window) {
      const batch = outbox.pending(this.#cursor, this.#window - this.#inflight.size);
      if (batch.length === 0) return;
      for (const e of batch) {
        this.#cursor = e.seq;
        this.#send(e, link.generation);
      }
    }
  }

  get #confirmByCentral(): boolean {
    return this.#options.confirmBy === 'central';
  }

  get #receiptTimeoutMs(): number {
    return this.#options.receiptTimeoutMs ?? 30_000;
  }

  #send(e: OutboxEntry, generation: number): void {
    const { link, log, metrics, laneId } = this.#options;
    this.#inflight.add(e.seq);
    if (this.#confirmByCentral) {
      const key = `${e.kind}:${e.id}`;
      this.#awaiting.delete(key);
      this.#awaiting.set(key, { seq: e.seq, sentAt: Date.now() });
    }
    link.publish(e.topic, e.payload, this.#publishOptions(e)).then(
      () => {
        // A PUBACK is final whichever connection carried it; with confirmBy central the
        // receipt removes the entry instead.
        if (!this.#confirmByCentral) {
          this.#acked.push(e.seq);
          this.#removeTimer ??= setTimeout(() => this.#removeAcked(), 2);
        }
        metrics?.published.inc({ lane: laneId, kind: e.kind });
        this.#options.onAcked?.(e);
        if (generation !== link.generation) return;
        this.#inflight.delete(e.seq);
        this.#drain();
      },
      (err: Error & { code?: number }) => {
        if (generation !== link.generation || !link.connected) return; // the reconnect replays it
        if (typeof err.code === 'number' && err.code >= 0x80) {
          const why = `broker refused ${e.kind} ${e.id} on ${e.topic}: ${err.message} (reason 0x${err.code.toString(16)}); it stays in the outbox: check the broker ACL for ${link.clientId}`;
          log.error({ kind: e.kind, id: e.id, topic: e.topic, reasonCode: err.code }, `MQTT: ${why}`);
          this.#reportLink(why, 'fault');
          link.recycle(why);
          return;
        }
        log.warn(
          { err, id: e.id },
          `MQTT: publishing ${e.kind} ${e.id} failed (${err.message}); retried after the next reconnect`,
        );
        link.recycle(`publish failed: ${err.message}`);
      },
    );
  }

  /** A receipt from central command: the entries it names are stored there, so they leave the outbox. */
  #receipt(payload: Buffer): void {
    const { log, topics } = this.#options;
    let r: ReceiptPayload;
    try {
      r = receiptPayloadSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      log.warn(
        { topic: topics.receipt },
        `MQTT: ignored a receipt on ${topics.receipt} that is not one: ${(err as Error).message.slice(0, 200)}`,
      );
      return;
    }
    for (const m of r.stored) {
      const key = `${m.kind}:${m.id}`;
      const w = this.#awaiting.get(key);
      if (!w) continue;
      this.#awaiting.delete(key);
      this.#acked.push(w.seq);
    }
    this.#removeTimer ??= setTimeout(() => this.#removeAcked(), 2);
  }

  /** confirmBy central: sends again, oldest first, what central command has not receipted in time. */
  #resendUnreceipted(): void {
    const { link, outbox, log } = this.#options;
    if (!link.connected || this.#closed) return;
    const due = Date.now() - this.#receiptTimeoutMs;
    let resent = 0;
    for (const [key, w] of this.#awaiting) {
      if (w.sentAt > due || this.#inflight.size >= this.#window) break;
      if (this.#inflight.has(w.seq)) continue;
      const [e] = outbox.pending(w.seq - 1, 1);
      if (!e || e.seq !== w.seq) {
        this.#awaiting.delete(key); // evicted, or removed by a late receipt
        continue;
      }
      this.#send(e, link.generation);
      resent++;
    }
    if (resent > 0)
      log.warn(
        { resent, timeoutMs: this.#receiptTimeoutMs },
        `MQTT: ${resent} message(s) acknowledged by the broker but not receipted by central command within ${this.#receiptTimeoutMs / 1000} s; sent again`,
      );
  }

  /** Removes acknowledged entries in one transaction (one sync instead of one per PUBACK). */
  #removeAcked(): void {
    if (this.#removeTimer) clearTimeout(this.#removeTimer);
    this.#removeTimer = null;
    const seqs = this.#acked;
    if (seqs.length === 0 || this.#closed) return;
    this.#acked = [];
    try {
      this.#options.outbox.removeAll(seqs);
    } catch (err) {
      this.#options.log.error(
        { err },
        `MQTT outbox: removing ${seqs.length} acknowledged message(s) failed (${(err as Error).message}); they will be published again (duplicates)`,
      );
    }
    this.#options.metrics?.outboxDepth.set({ lane: this.#options.laneId }, this.#options.outbox.depth().depth);
  }

  #publishOptions(m: Pick<OutboxMessage, 'kind' | 'id'>): IClientPublishOptions {
    if (this.#options.link.protocolVersion !== 5) return { qos: 1 };
    return {
      qos: 1,
      properties: {
        contentType: 'application/json',
        userProperties: { messageId: m.id, kind: m.kind, schemaVersion: String(SCHEMA_VERSION) },
      },
    };
  }

  async #connected(info: ConnectedInfo): Promise<void> {
    const { link, topics, log } = this.#options;
    const generation = link.generation;
    this.#removeAcked(); // acknowledged before the drop: not to be replayed
    this.#cursor = 0;
    this.#inflight.clear();
    this.#window = Math.max(1, Math.min(this.#options.maxInflight, info.receiveMaximum ?? Number.POSITIVE_INFINITY));
    const depth = this.#options.outbox.depth().depth;
    log.info(
      { url: link.url, clientId: link.clientId, sessionPresent: info.sessionPresent, queued: depth },
      `MQTT connected to ${link.url} as ${link.clientId}${depth ? `; replaying ${depth} queued message(s)` : ''}`,
    );
    this.#options.metrics?.connected.set({ lane: this.#options.laneId }, 1);
    try {
      // 'online' first, so that a consumer never sees lane data under an 'offline' availability.
      await link.publish(topics.availability, 'online', { qos: 1, retain: true });
    } catch (err) {
      if (generation !== link.generation || !link.connected) return;
      const code = (err as { code?: unknown }).code;
      const why = `broker refused 'online' on ${topics.availability}: ${(err as Error).message}${typeof code === 'number' ? ` (reason 0x${code.toString(16)})` : ''}; check the broker ACL for ${link.clientId}`;
      log.error({ err }, `MQTT: ${why}`);
      this.#reportLink(why, 'fault');
      link.recycle(why);
      return;
    }
    if (generation !== link.generation) return;
    let receiptProblem: string | null = null;
    if (this.#confirmByCentral) {
      // Before the replay, so that the receipts for it are not missed.
      try {
        await link.subscribe(topics.receipt, 0);
      } catch (err) {
        if (generation !== link.generation || !link.connected) return;
        receiptProblem = `connected, but central command's receipts cannot be received (${(err as Error).message}): every message is sent again after mqtt.delivery.receiptTimeoutS`;
        log.error({ err }, `MQTT: ${receiptProblem}`);
      }
      if (generation !== link.generation) return;
    }
    if (receiptProblem) this.#reportLink(receiptProblem, 'degraded');
    else this.#reportLink(`connected to ${link.url} as ${link.clientId}`, 'ok');
    this.#drain();
    this.#publishStatus();
    try {
      await link.subscribe(topics.commandFilter, 1);
    } catch (err) {
      if (generation !== link.generation || !link.connected) return;
      log.error({ err }, `MQTT: ${(err as Error).message}`);
      this.#reportLink(
        `connected, but commands from central command cannot be received: ${(err as Error).message}`,
        'degraded',
      );
    }
  }

  #disconnected(reason: string, retryInMs: number): void {
    this.#inflight.clear();
    this.#options.metrics?.connected.set({ lane: this.#options.laneId }, 0);
    const state = this.#linkState.state === 'fault' && this.#linkState.detail === reason ? 'fault' : 'disconnected';
    // No countdown in the status: it would change (log line, retained republish) at every retry.
    this.#reportLink(`${reason}; reconnecting with backoff`, state);
    this.#options.log.debug({ retryInMs }, `MQTT: next connection attempt in ${retryInMs} ms`);
  }

  #message(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const { topics, link, log, metrics, laneId } = this.#options;
    if (topic === topics.receipt) {
      if (this.#confirmByCentral) this.#receipt(payload);
      return;
    }
    const head = `${topics.base}/cmd/`;
    if (!topic.startsWith(head)) return;
    const name = topic.slice(head.length);
    if (name.includes('/')) return;
    if (packet.retain) {
      log.warn(
        { topic },
        `MQTT: ignored a retained command on ${topic}: commands must not be retained (clear it with an empty retained message)`,
      );
      return;
    }
    const props = packet.properties;
    const claimed = props?.userProperties?.[IDENTITY_PROPERTY];
    const identity = Array.isArray(claimed) ? claimed[0] : claimed;
    const response = this.#commands.handle(name, payload, identity !== undefined ? { identity } : {});
    const command = CommandHandler.label(name);
    metrics?.commands.inc({ lane: laneId, command, status: response.status });
    if (response.status === 'ok')
      log.info(
        { command, transaction: response.transaction },
        `central command: ${name} done${describeData(response.data)}`,
      );
    else
      log.warn(
        { command, transaction: response.transaction, error: response.error },
        `central command: ${command === 'unknown' ? 'unknown command' : name} refused: ${response.error}`,
      );
    // Answers go only to the lane's own response topic: a response topic in the request could
    // point anywhere the lane may publish (another site's alert topic).
    const own = topics.response(name);
    if (link.protocolVersion === 5 && props?.responseTopic && props.responseTopic !== own) {
      log.warn(
        { command, responseTopic: props.responseTopic.slice(0, 200) },
        `central command: ignored the MQTT 5 response topic ${JSON.stringify(props.responseTopic.slice(0, 200))} of ${command}; the answer goes to ${own}`,
      );
    }
    const opts: IClientPublishOptions = { qos: 1 };
    if (link.protocolVersion === 5)
      opts.properties = {
        contentType: 'application/json',
        ...(props?.correlationData && props.correlationData.length <= 256
          ? { correlationData: props.correlationData }
          : {}),
      };
    link
      .publish(own, JSON.stringify(response), opts)
      .catch((err: Error) =>
        log.warn(
          { err },
          `MQTT: answer to ${command} could not be published (${err.message}); central command may resend with the same transaction`,
        ),
      );
  }

  #statusSoon(): void {
    if (this.#statusDebounce || !this.#started) return;
    this.#statusDebounce = setTimeout(() => {
      this.#statusDebounce = null;
      this.#publishStatus();
    }, 100);
  }

  #publishStatus(): void {
    const { link, topics, log } = this.#options;
    if (!link.connected) return;
    link
      .publish(topics.status, JSON.stringify(this.status()), { qos: 1, retain: true })
      .catch((err: Error) => log.debug({ err }, `MQTT: status not published: ${err.message}`));
  }

  /** Publishes the link's state as device 'mqtt' on the lane bus (shown in health and status). */
  #reportLink(detail?: string, state?: DeviceState): void {
    if (detail !== undefined) this.#linkState = { state: state ?? this.#linkState.state, detail };
    let depth: number | null = null;
    try {
      depth = this.#options.outbox.depth().depth;
    } catch {
      depth = null;
    }
    let shownState = this.#linkState.state;
    let shown = this.#linkState.detail;
    const warning = this.#options.outboxWarning;
    if (warning) {
      if (shownState === 'ok') shownState = 'degraded';
      shown = `${shown}; ${warning}`;
    }
    this.#options.bus.emit(
      'device.status',
      deviceStatus('mqtt', shownState, shown, {
        outboxDepth: depth,
        evicted: this.#evicted,
        url: this.#options.link.url,
      }),
    );
  }
}

function describeData(data: unknown): string {
  if (data && typeof data === 'object' && 'alertId' in data) {
    const d = data as { alertId: string; type?: string; operator?: string };
    return `: alert ${d.alertId}${d.type ? ` ${d.type}` : ''}${d.operator ? ` by ${d.operator}` : ''}`;
  }
  return '';
}
