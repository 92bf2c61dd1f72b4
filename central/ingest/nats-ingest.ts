import {
  AckPolicy,
  connect,
  DeliverPolicy,
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import { Backoff } from '../../core/backoff.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import type { IngestCounters } from './counters.js';
import type { LaneMessageIngest } from './lane-message.js';
import type { LaneReceipts } from './receipts.js';
import { storeWithRetry } from './retry.js';

export interface NatsIngestOptions {
  servers: string[];
  prefix: string;
  stream: string;
  durable: string;
  replicas: number;
  maxAgeHours: number;
  ackWaitS: number;
  maxAckPending: number;
  batch: number;
  concurrency: number;
  username?: string;
  password?: string;
  /** Names this worker in the log and in the NATS connection. */
  workerName: string;
  ingest: LaneMessageIngest;
  /** Receipts to the lanes, published as plain NATS messages (the MQTT listener hands them to the lane). */
  receipts?: LaneReceipts;
  counters: IngestCounters;
  log: Logger;
}

/** The lanes' leaves kept in the stream. Commands and their responses are not. */
const LEAVES = ['scan', 'alert', 'event', 'status', 'availability'] as const;

/** The stream's subjects: nats-server maps the MQTT topic a/b/c to the subject a.b.c. */
export function streamSubjects(prefix: string): string[] {
  return LEAVES.map((leaf) => `${prefix}.*.*.${leaf}`);
}

/**
 * A network: lanes publish over the nats-server MQTT listener; every message lands in one
 * JetStream stream (file storage, replicated), and every central worker pulls from one durable
 * consumer, so that they share the load and a message held by a worker that dies is redelivered
 * to another after ackWait. A message is acknowledged only once stored; the store de-duplicates
 * the redeliveries.
 */
export class NatsIngest implements Service {
  readonly name = 'ingest-nats';
  #nc: NatsConnection | null = null;
  #messages: ConsumerMessages | null = null;
  #stopping = false;
  #loop: Promise<void> | null = null;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(private readonly o: NatsIngestOptions) {}

  async start(): Promise<void> {
    const o = this.o;
    try {
      this.#nc = await connect({
        servers: o.servers,
        name: `checkpoint-central ${o.workerName}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        reconnectJitter: 500,
        ...(o.username !== undefined ? { user: o.username, pass: o.password } : {}),
      });
    } catch (err) {
      throw new Error(
        `central ingest: NATS servers ${o.servers.join(', ')} not reached: ${(err as Error).message}; check ingest.servers`,
        { cause: err },
      );
    }
    void (async () => {
      for await (const s of this.#nc!.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect')
          o.log.warn({ status: s.type, server: s.data }, `NATS ${s.type} (${String(s.data)})`);
      }
    })();
    const nc = this.#nc;
    o.receipts?.attach((topic, payload) => nc.publish(topic.replace(/\//g, '.'), payload));
    await this.#ensureStreamAndConsumer();
    this.#loop = this.#consumeLoop();
  }

  async #ensureStreamAndConsumer(): Promise<void> {
    const o = this.o;
    const jsm = await this.#nc!.jetstreamManager({ timeout: 10_000 });
    const stream = {
      name: o.stream,
      subjects: streamSubjects(o.prefix),
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: o.replicas,
      max_age: nanos(o.maxAgeHours * 3600_000),
    };
    try {
      await jsm.streams.info(o.stream);
      await jsm.streams.update(o.stream, {
        subjects: stream.subjects,
        max_age: stream.max_age,
        num_replicas: o.replicas,
      });
    } catch (err) {
      if (!/stream not found/i.test((err as Error).message))
        throw new Error(`JetStream stream ${o.stream}: ${(err as Error).message}`, { cause: err });
      try {
        await jsm.streams.add(stream);
      } catch (e) {
        // Another worker created it in between.
        if (!/already in use/i.test((e as Error).message))
          throw new Error(`JetStream stream ${o.stream} cannot be created: ${(e as Error).message}`, { cause: e });
      }
    }
    await jsm.consumers.add(o.stream, {
      durable_name: o.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(o.ackWaitS * 1000),
      max_ack_pending: o.maxAckPending,
      max_deliver: -1,
    });
    o.log.info(
      { stream: o.stream, durable: o.durable, replicas: o.replicas },
      `JetStream stream ${o.stream} and durable consumer ${o.durable} ready`,
    );
  }

  /**
   * Pull batches with fetch() (each a fresh pull request that ends after `batch` messages or 2 s)
   * rather than one long-lived consume(): a worker whose event loop stalls (a busy machine) cannot
   * leave a pull subscription that stopped yielding while the server keeps redelivering into it.
   */
  async #consumeLoop(): Promise<void> {
    const o = this.o;
    const backoff = new Backoff(500, 10_000);
    while (!this.#stopping) {
      try {
        const consumer = await this.#nc!.jetstream().consumers.get(o.stream, o.durable);
        while (!this.#stopping) {
          this.#messages = await consumer.fetch({ max_messages: o.batch, expires: 2000 });
          for await (const m of this.#messages) {
            while (this.#inFlight.size >= o.concurrency) await Promise.race(this.#inFlight);
            const p = this.#handle(m).finally(() => this.#inFlight.delete(p));
            this.#inFlight.add(p);
          }
          backoff.reset();
        }
      } catch (err) {
        if (this.#stopping) break;
        const delay = backoff.next();
        o.log.warn({ err }, `JetStream consumer ${o.durable}: ${(err as Error).message}; resuming in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #handle(m: JsMsg): Promise<void> {
    const o = this.o;
    const topic = m.subject.replace(/\./g, '/');
    const outcome = await storeWithRetry(() => o.ingest.handle(topic, m.data, new Date(m.info.timestampNanos / 1e6)), {
      stopped: () => this.#stopping,
      onError: (err, delayMs) => {
        o.counters.count('error');
        o.log.error({ err, topic }, `lane message on ${topic} not stored (${err.message}); retrying in ${delayMs} ms`);
        m.working();
      },
    });
    if (outcome === null) return; // stopping: not acknowledged, so redelivered to another worker
    o.counters.count(outcome);
    m.ack();
  }

  async stop(): Promise<void> {
    const o = this.o;
    this.#stopping = true;
    this.#messages?.stop();
    await this.#loop?.catch(() => {});
    await Promise.allSettled([...this.#inFlight]);
    o.receipts?.flush();
    o.receipts?.attach(null);
    await this.#nc?.drain().catch(() => {});
    this.#nc = null;
  }
}
