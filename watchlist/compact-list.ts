import {
  columnsFromEntries,
  decodeText,
  entryAt,
  FLAG_CONTAINER,
  hashBytes,
  indexIds,
  type ListColumns,
  tableSize,
} from '../core/watchlist/list-binary.js';
import type { WatchlistEntry } from '../core/watchlist/list-format.js';

/**
 * One list version's entries as the columns of the wire form (core/watchlist/list-binary.ts) plus
 * two hash tables, built once (in a worker thread for a large snapshot) and handed over without
 * copying: a million entries take some 75 MiB outside the JS heap, views on the very message
 * that brought them. Immutable; deltas are laid over it by WatchlistIndex.
 *
 * Lookups go through two open-addressing hash tables (slot = entry index + 1, 0 = empty): one on
 * the canonical form of the listed value (O→0, I→1, B→8, with the kind), one on the entry id.
 */
export interface CompactListData extends ListColumns {
  keyTable: Int32Array;
  idTable: Int32Array;
}

const PLATE_KIND = 0x50; // 'P'
const CONTAINER_KIND = 0x43; // 'C'

/** The byte a confusable character is compared as (O→0, I→1, B→8); others as they are. */
function canon(c: number): number {
  return c === 0x4f ? 0x30 : c === 0x49 ? 0x31 : c === 0x42 ? 0x38 : c;
}

/** FNV-1a over the kind byte and the canonical bytes of a value. */
function hashValue(kind: number, bytes: ArrayLike<number>, start: number, end: number): number {
  let h = (0x811c9dc5 ^ kind) >>> 0;
  h = Math.imul(h, 0x01000193);
  for (let i = start; i < end; i++) {
    h ^= canon(bytes[i]!);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const utf8 = new TextEncoder();

/** Bytes of an id: ASCII directly, anything else through the UTF-8 encoder. */
function idBytes(id: string): Uint8Array {
  for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) > 0x7f) return utf8.encode(id);
  const out = new Uint8Array(id.length);
  for (let i = 0; i < id.length; i++) out[i] = id.charCodeAt(i);
  return out;
}

/** The compact form of columns whose ids were indexed (decodeListBody checked and indexed them). */
export function compactFromColumns(c: ListColumns, idTable: Int32Array): CompactListData {
  const keyTable = new Int32Array(tableSize(c.count));
  const mask = keyTable.length - 1;
  const { flags, values, valOff } = c;
  for (let i = 0; i < c.count; i++) {
    const kind = flags[i]! & FLAG_CONTAINER ? CONTAINER_KIND : PLATE_KIND;
    let s = hashValue(kind, values, valOff[i]!, valOff[i + 1]!) & mask;
    while (keyTable[s] !== 0) s = (s + 1) & mask;
    keyTable[s] = i + 1;
  }
  return { ...c, keyTable, idTable };
}

/** Builds the compact form of validated entries (ids unique, values normalised). */
export function buildCompactList(entries: readonly WatchlistEntry[]): CompactListData {
  const c = columnsFromEntries(entries);
  const idTable = indexIds(c.ids, c.idOff, c.count);
  if (!(idTable instanceof Int32Array))
    throw new Error(`watchlist: entry id "${entries[idTable.duplicate]!.id}" is used twice in the list`);
  return compactFromColumns(c, idTable);
}

/**
 * The distinct buffers under a CompactListData's arrays (the columns may share the message's): for
 * postMessage's transfer list, and for the memory figures.
 */
export function transferablesOf(d: CompactListData): ArrayBuffer[] {
  const arrays = [
    d.ids,
    d.idOff,
    d.values,
    d.valOff,
    d.flags,
    d.priority,
    d.from,
    d.until,
    d.refs,
    d.keyTable,
    d.idTable,
  ];
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

/** Read access to a CompactListData. */
export class CompactList {
  readonly #d: CompactListData;
  readonly #mask: number;

  constructor(d: CompactListData) {
    this.#d = d;
    this.#mask = d.keyTable.length - 1;
  }

  get count(): number {
    return this.#d.count;
  }

  /** Bytes held outside the JS heap (the buffers of the typed arrays, each counted once), for the memory figures. */
  get byteLength(): number {
    return transferablesOf(this.#d).reduce((sum, b) => sum + b.byteLength, 0);
  }

  /**
   * Entry indices whose listed value has the canonical form of `normalised` (a normalised read),
   * for plates or container codes.
   */
  find(kind: 'plate' | 'container', normalised: string): number[] {
    const d = this.#d;
    const k = kind === 'plate' ? PLATE_KIND : CONTAINER_KIND;
    const wantContainer = kind === 'container';
    let h = (0x811c9dc5 ^ k) >>> 0;
    h = Math.imul(h, 0x01000193);
    for (let i = 0; i < normalised.length; i++) {
      h ^= canon(normalised.charCodeAt(i));
      h = Math.imul(h, 0x01000193);
    }
    const out: number[] = [];
    for (let s = (h >>> 0) & this.#mask; d.keyTable[s] !== 0; s = (s + 1) & this.#mask) {
      const e = d.keyTable[s]! - 1;
      if (((d.flags[e]! & FLAG_CONTAINER) !== 0) !== wantContainer) continue;
      const a = d.valOff[e]!;
      const b = d.valOff[e + 1]!;
      if (b - a !== normalised.length) continue;
      let same = true;
      for (let i = 0; i < normalised.length && same; i++)
        same = canon(d.values[a + i]!) === canon(normalised.charCodeAt(i));
      if (same) out.push(e);
    }
    return out;
  }

  /** The entry index of an id, or -1. */
  indexOf(id: string): number {
    const d = this.#d;
    const bytes = idBytes(id);
    for (let s = hashBytes(bytes, 0, bytes.length) & this.#mask; d.idTable[s] !== 0; s = (s + 1) & this.#mask) {
      const e = d.idTable[s]! - 1;
      const a = d.idOff[e]!;
      if (d.idOff[e + 1]! - a !== bytes.length) continue;
      let same = true;
      for (let i = 0; i < bytes.length && same; i++) same = d.ids[a + i] === bytes[i];
      if (same) return e;
    }
    return -1;
  }

  id(e: number): string {
    return decodeText(this.#d.ids, this.#d.idOff[e]!, this.#d.idOff[e + 1]!);
  }

  value(e: number): string {
    return decodeText(this.#d.values, this.#d.valOff[e]!, this.#d.valOff[e + 1]!);
  }

  /** Whether entry `e` is in force at `atMs` (effective, not expired). */
  inForce(e: number, atMs: number): boolean {
    return atMs >= this.#d.from[e]! && atMs < this.#d.until[e]!;
  }

  /** Entry `e` as a WatchlistEntry object (made on demand: a hit, a listing). */
  entry(e: number): WatchlistEntry {
    return entryAt(this.#d, e);
  }
}
