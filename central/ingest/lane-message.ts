import type { Logger } from '../../core/logger.js';
import {
  alertPayloadSchema,
  availabilityPayloadSchema,
  eventPayloadSchema,
  scanPayloadSchema,
  statusPayloadSchema,
} from '../../core/mqtt-payloads.js';
import { parseTopic } from '../../core/mqtt-topics.js';
import type { CentralStore } from '../store/central-store.js';

export type IngestOutcome = 'stored' | 'duplicate' | 'ignored' | 'invalid';

export interface StoredMessage {
  kind: 'scan' | 'alert' | 'event' | 'status' | 'availability';
  siteId: string;
  laneId: string;
  id: string;
}

/**
 * One lane message, from whichever transport (MQTT topic or NATS subject turned back into a
 * topic), validated against the MQTT contract and stored idempotently. An invalid message is
 * logged and dropped (acknowledged): redelivering it would never make it valid. A store error
 * throws, so that the transport redelivers the message later.
 */
export class LaneMessageIngest {
  constructor(
    private readonly store: CentralStore,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly onStored: (m: StoredMessage) => void = () => {},
    /** Every stored message, new or a repeat (end-to-end receipts to the lane). */
    private readonly onKept: (m: StoredMessage) => void = () => {},
  ) {}

  async handle(topic: string, payload: Buffer | Uint8Array, receivedAt: Date): Promise<IngestOutcome> {
    const t = parseTopic(this.prefix, topic);
    if (!t || t.kind === 'cmd' || t.kind === 'response') return 'ignored';
    const text = Buffer.from(payload).toString('utf8');
    if (t.kind === 'availability') {
      const v = availabilityPayloadSchema.safeParse(text.trim());
      if (!v.success)
        return this.#invalid(topic, `expected online or offline, got ${JSON.stringify(text.slice(0, 40))}`);
      return this.#outcome(await this.store.ingestAvailability(t.siteId, t.laneId, v.data, receivedAt), {
        kind: 'availability',
        siteId: t.siteId,
        laneId: t.laneId,
        id: v.data,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return this.#invalid(topic, `not JSON (${(err as Error).message})`);
    }
    const schema = {
      scan: scanPayloadSchema,
      alert: alertPayloadSchema,
      event: eventPayloadSchema,
      status: statusPayloadSchema,
    }[t.kind];
    const r = schema.safeParse(body);
    if (!r.success)
      return this.#invalid(
        topic,
        r.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`)
          .join('; '),
      );
    const p = r.data as { siteId: string; laneId: string };
    if (p.siteId !== t.siteId || p.laneId !== t.laneId)
      return this.#invalid(topic, `payload names ${p.siteId}/${p.laneId}, the topic ${t.siteId}/${t.laneId}`);
    switch (t.kind) {
      case 'scan': {
        const s = scanPayloadSchema.parse(body);
        return this.#outcome(await this.store.ingestScan(s), {
          kind: 'scan',
          siteId: s.siteId,
          laneId: s.laneId,
          id: s.messageId,
        });
      }
      case 'alert': {
        const a = alertPayloadSchema.parse(body);
        return this.#outcome(await this.store.ingestAlert(a), {
          kind: 'alert',
          siteId: a.siteId,
          laneId: a.laneId,
          id: a.messageId,
        });
      }
      case 'event': {
        const e = eventPayloadSchema.parse(body);
        return this.#outcome(await this.store.ingestEvent(e), {
          kind: 'event',
          siteId: e.siteId,
          laneId: e.laneId,
          id: e.messageId,
        });
      }
      case 'status': {
        const s = statusPayloadSchema.parse(body);
        return this.#outcome(await this.store.ingestStatus(s), {
          kind: 'status',
          siteId: s.siteId,
          laneId: s.laneId,
          id: s.at,
        });
      }
    }
  }

  #outcome(isNew: boolean, m: StoredMessage): IngestOutcome {
    this.onKept(m);
    if (!isNew) return 'duplicate';
    this.onStored(m);
    return 'stored';
  }

  #invalid(topic: string, why: string): IngestOutcome {
    this.log.warn({ topic }, `lane message on ${topic} dropped: ${why} (see docs/mqtt.md for the contract)`);
    return 'invalid';
  }
}
