import {
  depthOf,
  evictableKinds,
  type AlertOutbox,
  type OutboxDepth,
  type OutboxEntry,
  type OutboxMessage,
  type PutResult,
} from './outbox.js';

/**
 * An outbox in memory: for tests and for runs where losing the queue on restart is acceptable.
 * Same contract as SqliteOutbox, except that nothing survives the process.
 */
export class MemoryOutbox implements AlertOutbox {
  readonly #entries: OutboxEntry[] = [];
  #nextSeq = 1;
  #closed = false;

  constructor(readonly maxMessages: number) {}

  put(m: OutboxMessage): PutResult {
    this.#open();
    const dup = this.#entries.find((e) => e.kind === m.kind && e.id === m.id);
    if (dup) return { seq: dup.seq, duplicate: true, refused: false, evicted: [] };
    const evicted: PutResult['evicted'] = [];
    if (this.#entries.length >= this.maxMessages) {
      let victim = -1;
      for (const kind of evictableKinds(m.kind)) {
        victim = this.#entries.findIndex((e) => e.kind === kind);
        if (victim >= 0) break;
      }
      if (victim < 0) return { seq: null, duplicate: false, refused: true, evicted };
      const [v] = this.#entries.splice(victim, 1);
      evicted.push({ seq: v.seq, id: v.id, kind: v.kind });
    }
    const entry: OutboxEntry = { ...m, seq: this.#nextSeq++, createdAt: new Date().toISOString() };
    this.#entries.push(entry);
    return { seq: entry.seq, duplicate: false, refused: false, evicted };
  }

  pending(afterSeq: number, limit: number): OutboxEntry[] {
    this.#open();
    const out: OutboxEntry[] = [];
    for (const e of this.#entries) {
      if (out.length >= limit) break;
      if (e.seq > afterSeq) out.push({ ...e });
    }
    return out;
  }

  remove(seq: number): boolean {
    this.#open();
    const i = this.#entries.findIndex((e) => e.seq === seq);
    if (i < 0) return false;
    this.#entries.splice(i, 1);
    return true;
  }

  removeAll(seqs: readonly number[]): number {
    this.#open();
    const gone = new Set(seqs);
    const before = this.#entries.length;
    for (let i = this.#entries.length - 1; i >= 0; i--) if (gone.has(this.#entries[i].seq)) this.#entries.splice(i, 1);
    return before - this.#entries.length;
  }

  depth(): OutboxDepth {
    this.#open();
    const counts = { alert: 0, scan: 0, event: 0 };
    for (const e of this.#entries) counts[e.kind]++;
    return depthOf(counts);
  }

  close(): void {
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new Error('memory outbox: used after close()');
  }
}
