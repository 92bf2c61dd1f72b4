import { canonicalRead, matchScore, normaliseRead } from '../core/watchlist/plate.js';
import type { WatchlistDelta, WatchlistEntry, WatchlistSnapshot } from '../core/watchlist/list-format.js';
import { buildCompactList, CompactList, type CompactListData } from './compact-list.js';

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

/** An entry changed by a delta, with its dates as epoch milliseconds. */
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
 * The entries of one list version: the snapshot's in a CompactList (typed arrays, built once,
 * in a worker thread for a large list), and the entries deltas changed since laid over it. Both
 * are indexed by the canonical form of the plate or container code (O→0, I→1, B→8), so that a
 * read and all its confusable spellings are one lookup.
 */
export class WatchlistIndex {
  readonly #base: CompactList;
  /** Ids changed by deltas: the entry now held, or null when removed. */
  readonly #changed = new Map<string, Held | null>();
  /** Canonical key → the changed entries with it. */
  readonly #changedByKey = new Map<string, Held[]>();
  #size: number;

  constructor(
    readonly listId: string,
    public version: number,
    entries: readonly WatchlistEntry[] | CompactListData = [],
  ) {
    this.#base = new CompactList(Array.isArray(entries) ? buildCompactList(entries) : (entries as CompactListData));
    this.#size = this.#base.count;
  }

  static fromSnapshot(s: WatchlistSnapshot): WatchlistIndex {
    return new WatchlistIndex(s.listId, s.version, s.entries);
  }

  get size(): number {
    return this.#size;
  }

  /** Bytes of the snapshot's compact form (outside the JS heap), and entries changed by deltas since. */
  get footprint(): { compactBytes: number; changed: number } {
    return { compactBytes: this.#base.byteLength, changed: this.#changed.size };
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
    const out: IndexMatch[] = [];
    const base = this.#base;
    for (const e of base.find(q.kind, value)) {
      if (!base.inForce(e, atMs)) continue;
      if (this.#changed.size > 0 && this.#changed.has(base.id(e))) continue;
      const entry = base.entry(e);
      if (q.country && entry.country && q.country !== entry.country) continue;
      const score = matchScore(value, base.value(e));
      if (score !== null) out.push({ entry, score });
    }
    for (const h of this.#changedByKey.get(keyOf(q.kind, value)) ?? []) {
      if (atMs < h.from || atMs >= h.until) continue;
      if (q.country && h.entry.country && q.country !== h.entry.country) continue;
      const score = matchScore(value, h.value);
      if (score !== null) out.push({ entry: h.entry, score });
    }
    return out.sort((a, b) => a.entry.priority - b.entry.priority || b.score - a.score);
  }

  entries(): IterableIterator<WatchlistEntry> {
    return (function* (base: CompactList, changed: Map<string, Held | null>) {
      for (let e = 0; e < base.count; e++) if (changed.size === 0 || !changed.has(base.id(e))) yield base.entry(e);
      for (const h of changed.values()) if (h) yield h.entry;
    })(this.#base, this.#changed);
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
    this.#changed.set(entry.id, held);
    const key = keyOf(kind, value);
    const there = this.#changedByKey.get(key);
    if (there) there.push(held);
    else this.#changedByKey.set(key, [held]);
    this.#size++;
  }

  #remove(id: string): void {
    const inBase = this.#base.indexOf(id) >= 0;
    if (this.#changed.has(id)) {
      const held = this.#changed.get(id);
      if (!held) return; // removed already
      const key = keyOf(held.entry.plate !== undefined ? 'plate' : 'container', held.value);
      const rest = (this.#changedByKey.get(key) ?? []).filter((h) => h !== held);
      if (rest.length) this.#changedByKey.set(key, rest);
      else this.#changedByKey.delete(key);
    } else if (!inBase) return;
    if (inBase) this.#changed.set(id, null);
    else this.#changed.delete(id);
    this.#size--;
  }
}
