import { canonicalRead, matchScore, normaliseRead } from '../core/watchlist/plate.js';
import type { WatchlistDelta, WatchlistEntry, WatchlistSnapshot } from '../core/watchlist/list-format.js';

/** What is looked up: one read of a plate or of a container code. */
export interface ReadQuery {
  kind: 'plate' | 'container';
  value: string;
  /** Issuing country of a plate, where the reader gives one: an entry of another country does not match. */
  country?: string;
}

export interface IndexMatch {
  entry: WatchlistEntry;
  score: number;
}

/** An entry with its dates as epoch milliseconds, so that a lookup does not parse dates. */
interface Held {
  entry: WatchlistEntry;
  /** Normalised listed value (plate or container code). */
  value: string;
  from: number;
  until: number;
}

const keyOf = (kind: 'plate' | 'container', normalised: string) =>
  (kind === 'plate' ? 'P' : 'C') + canonicalRead(normalised);

/**
 * The entries of one list version, indexed by the canonical form of their plate or container
 * code (O→0, I→1, B→8), so that a read and all its confusable spellings are one map lookup.
 */
export class WatchlistIndex {
  readonly #byId = new Map<string, Held>();
  /** Canonical key → the entries with it (one, nearly always). */
  readonly #byKey = new Map<string, Held | Held[]>();

  constructor(
    readonly listId: string,
    public version: number,
    entries: Iterable<WatchlistEntry> = [],
  ) {
    for (const e of entries) this.#add(e);
  }

  static fromSnapshot(s: WatchlistSnapshot): WatchlistIndex {
    return new WatchlistIndex(s.listId, s.version, s.entries);
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Applies a delta whose baseVersion is this index's version (checked by the caller). */
  apply(d: WatchlistDelta): void {
    for (const id of d.remove) this.#remove(id);
    for (const e of d.upsert) {
      this.#remove(e.id);
      this.#add(e);
    }
    this.version = d.version;
  }

  /** The entries in force at `atMs` that match the read exactly or within one confusable character, best first. */
  lookup(q: ReadQuery, atMs: number): IndexMatch[] {
    const value = normaliseRead(q.value);
    if (value.length < 2) return [];
    const found = this.#byKey.get(keyOf(q.kind, value));
    if (!found) return [];
    const out: IndexMatch[] = [];
    for (const h of Array.isArray(found) ? found : [found]) {
      if (atMs < h.from || atMs >= h.until) continue;
      if (q.country && h.entry.country && q.country !== h.entry.country) continue;
      const score = matchScore(value, h.value);
      if (score !== null) out.push({ entry: h.entry, score });
    }
    return out.sort((a, b) => a.entry.priority - b.entry.priority || b.score - a.score);
  }

  entries(): IterableIterator<WatchlistEntry> {
    return (function* (held: Map<string, Held>) {
      for (const h of held.values()) yield h.entry;
    })(this.#byId);
  }

  #add(entry: WatchlistEntry): void {
    const kind = entry.plate !== undefined ? 'plate' : 'container';
    const value = (entry.plate ?? entry.containerCode)!;
    const held: Held = {
      entry,
      value,
      from: entry.effectiveFrom ? Date.parse(entry.effectiveFrom) : -Infinity,
      until: entry.expiresAt ? Date.parse(entry.expiresAt) : Infinity,
    };
    this.#byId.set(entry.id, held);
    const key = keyOf(kind, value);
    const there = this.#byKey.get(key);
    if (!there) this.#byKey.set(key, held);
    else if (Array.isArray(there)) there.push(held);
    else this.#byKey.set(key, [there, held]);
  }

  #remove(id: string): void {
    const held = this.#byId.get(id);
    if (!held) return;
    this.#byId.delete(id);
    const key = keyOf(held.entry.plate !== undefined ? 'plate' : 'container', held.value);
    const there = this.#byKey.get(key);
    if (there === held) this.#byKey.delete(key);
    else if (Array.isArray(there)) {
      const rest = there.filter((h) => h !== held);
      if (rest.length === 1) this.#byKey.set(key, rest[0]!);
      else this.#byKey.set(key, rest);
    }
  }
}
