/**
 * The outbox: every scan result, alert and alert event is written here before it is published,
 * and removed only when the broker acknowledges it (PUBACK). Two implementations pass one
 * contract suite (test/unit/outputs/mqtt/outbox-contract.ts): SqliteOutbox (durable) and MemoryOutbox.
 */

export type OutboxKind = 'alert' | 'scan' | 'event';

/**
 * Eviction order when the outbox is full: the lowest rank goes first, oldest first within a rank.
 * A new message never evicts one of a higher rank: a scan result arriving at a full outbox of
 * alerts is refused, an alert evicts the oldest scan result (or, only when no scan results or
 * events are left, the oldest alert).
 */
const EVICTION_RANK: Readonly<Record<OutboxKind, number>> = { scan: 0, event: 1, alert: 2 };
const KINDS_BY_RANK: readonly OutboxKind[] = ['scan', 'event', 'alert'];

export interface OutboxMessage {
  /** Stable id (scan id, alert id, event id): consumers de-duplicate on it. */
  id: string;
  kind: OutboxKind;
  topic: string;
  payload: string;
}

export interface OutboxEntry extends OutboxMessage {
  /** Position in the lane's publish order; never reused. */
  seq: number;
  createdAt: string;
}

export interface PutResult {
  /** The stored entry's seq; for a duplicate, the seq of the entry already queued; null when refused. */
  seq: number | null;
  /** The same kind and id were already queued: nothing was added. */
  duplicate: boolean;
  /** The outbox was full and held only messages of a higher rank: this one was not stored. */
  refused: boolean;
  /** Entries removed to make room. */
  evicted: Pick<OutboxEntry, 'seq' | 'id' | 'kind'>[];
}

export interface OutboxDepth {
  depth: number;
  alerts: number;
  scans: number;
  events: number;
}

export interface AlertOutbox {
  readonly maxMessages: number;
  /** Stores the message (durably, for SqliteOutbox) before returning. */
  put(message: OutboxMessage): PutResult;
  /** Queued entries with seq > afterSeq, oldest first, at most limit. */
  pending(afterSeq: number, limit: number): OutboxEntry[];
  /** Removes an entry once the broker has acknowledged it; false if it was not there. */
  remove(seq: number): boolean;
  /**
   * Removes acknowledged entries together (one transaction, one sync for SqliteOutbox); returns
   * how many were there. A removal lost in a crash only means a duplicate after the restart.
   */
  removeAll(seqs: readonly number[]): number;
  depth(): OutboxDepth;
  close(): void;
}

/** The kinds a new message of `kind` may evict, in eviction order. */
export function evictableKinds(kind: OutboxKind): OutboxKind[] {
  return KINDS_BY_RANK.filter((k) => EVICTION_RANK[k] <= EVICTION_RANK[kind]);
}

export function depthOf(counts: Partial<Record<OutboxKind, number>>): OutboxDepth {
  const alerts = counts.alert ?? 0;
  const scans = counts.scan ?? 0;
  const events = counts.event ?? 0;
  return { depth: alerts + scans + events, alerts, scans, events };
}
