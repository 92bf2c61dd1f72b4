import { LaneTopics } from '../../core/mqtt-topics.js';
import { SCHEMA_VERSION, type ReceiptPayload } from '../../core/mqtt-payloads.js';
import type { Logger } from '../../core/logger.js';
import type { StoredMessage } from './lane-message.js';

/** Publishes one receipt (QoS 0: a lost receipt only means the lane sends the message again). */
export type ReceiptTransport = (topic: string, payload: string) => void;

export interface LaneReceiptsOptions {
  prefix: string;
  log: Logger;
  /** Receipts of one lane are gathered this long and sent as one message. */
  flushMs?: number;
  /** At most this many messages named in one receipt. */
  maxPerReceipt?: number;
}

/**
 * End-to-end receipts to the lanes: after a scan, alert or event is stored (or found stored
 * already), the lane is told on <prefix>/<site>/<lane>/receipt, so that a lane with
 * mqtt.delivery.confirmBy central removes it from its outbox only then. Receipts of one lane
 * are gathered for a few milliseconds into one message. Nothing is kept for a lane that is away:
 * it sends the message again and gets the receipt then.
 */
export class LaneReceipts {
  readonly #pending = new Map<string, { topics: LaneTopics; stored: ReceiptPayload['stored'] }>();
  #timer: NodeJS.Timeout | null = null;
  #transport: ReceiptTransport | null = null;
  readonly #flushMs: number;
  readonly #max: number;

  constructor(private readonly o: LaneReceiptsOptions) {
    this.#flushMs = o.flushMs ?? 20;
    this.#max = o.maxPerReceipt ?? 500;
  }

  /** The ingest's own connection to the lanes' broker or cluster; receipts wait for it. */
  attach(transport: ReceiptTransport | null): void {
    this.#transport = transport;
    if (!transport) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      this.#pending.clear();
    }
  }

  /** A message is in the store: its lane gets a receipt shortly. Status and availability need none. */
  add(m: StoredMessage): void {
    if (!this.#transport || (m.kind !== 'scan' && m.kind !== 'alert' && m.kind !== 'event')) return;
    const key = `${m.siteId}/${m.laneId}`;
    let lane = this.#pending.get(key);
    if (!lane) {
      lane = { topics: new LaneTopics(this.o.prefix, m.siteId, m.laneId), stored: [] };
      this.#pending.set(key, lane);
    }
    lane.stored.push({ kind: m.kind, id: m.id });
    if (lane.stored.length >= this.#max) this.#send(key);
    else this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }

  /** Sends every gathered receipt now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const key of [...this.#pending.keys()]) this.#send(key);
  }

  #send(key: string): void {
    const lane = this.#pending.get(key);
    this.#pending.delete(key);
    if (!lane || lane.stored.length === 0 || !this.#transport) return;
    const payload: ReceiptPayload = {
      schemaVersion: SCHEMA_VERSION,
      stored: lane.stored,
      at: new Date().toISOString(),
    };
    try {
      this.#transport(lane.topics.receipt, JSON.stringify(payload));
    } catch (err) {
      // The lane sends the messages again after its receipt timeout and gets the receipt then.
      this.o.log.warn(
        { err, topic: lane.topics.receipt, messages: lane.stored.length },
        `receipt for ${lane.stored.length} message(s) of lane ${key} not sent (${(err as Error).message}); the lane sends them again`,
      );
    }
  }
}
