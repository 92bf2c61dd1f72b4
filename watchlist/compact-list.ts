import type { WatchlistEntry } from '../core/watchlist/list-format.js';

/**
 * One list version's entries in a few typed arrays and one string table, built once (in a worker
 * thread for a large snapshot) and handed over without copying: a million entries take some
 * 90 MiB outside the JS heap instead of four object graphs of 400 MiB on it. Immutable; deltas
 * are laid over it by WatchlistIndex.
 *
 * Lookups go through two open-addressing hash tables (slot = entry index + 1, 0 = empty): one on
 * the canonical form of the listed value (O→0, I→1, B→8, with the kind), one on the entry id.
 */
export interface CompactListData {
  count: number;
  /** UTF-8 ids, entry i at ids[idOff[i]..idOff[i+1]). */
  ids: Uint8Array;
  idOff: Uint32Array;
  /** Normalised plate or container code (A-Z, 0-9), entry i at values[valOff[i]..valOff[i+1]). */
  values: Uint8Array;
  valOff: Uint32Array;
  /** Bit 0 covert, bit 1 container code (else plate). */
  flags: Uint8Array;
  priority: Uint8Array;
  /** effectiveFrom and expiresAt in epoch ms (-Infinity / Infinity when absent). */
  from: Float64Array;
  until: Float64Array;
  /** REF_FIELDS.length per entry: 0 absent, else index + 1 into `strings`. */
  refs: Uint32Array;
  /** The distinct texts of the REF_FIELDS (categories, actions, sources… repeat a lot). */
  strings: string[];
  keyTable: Int32Array;
  idTable: Int32Array;
}

const REF_FIELDS = ['category', 'action', 'source', 'country', 'note', 'effectiveFrom', 'expiresAt'] as const;
type RefField = (typeof REF_FIELDS)[number];
const COVERT = 1;
const CONTAINER = 2;
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

function hashBytes(bytes: ArrayLike<number>, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function tableSize(count: number): number {
  let n = 16;
  while (n < count * 2) n *= 2;
  return n;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Bytes of an id: ASCII directly, anything else through the UTF-8 encoder. */
function idBytes(id: string): Uint8Array {
  for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) > 0x7f) return utf8.encode(id);
  const out = new Uint8Array(id.length);
  for (let i = 0; i < id.length; i++) out[i] = id.charCodeAt(i);
  return out;
}

function decode(bytes: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) if (bytes[i]! > 0x7f) ascii = false;
  if (!ascii) return fromUtf8.decode(bytes.subarray(start, end));
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** Builds the compact form of validated entries (ids unique, values normalised). */
export function buildCompactList(entries: readonly WatchlistEntry[]): CompactListData {
  const count = entries.length;
  const idOff = new Uint32Array(count + 1);
  const valOff = new Uint32Array(count + 1);
  // Ids are ASCII nearly always: then their bytes are their char codes, with no encoder call.
  let idBytesTotal = 0;
  let valBytesTotal = 0;
  let ascii = true;
  for (let i = 0; i < count; i++) {
    const e = entries[i]!;
    const id = e.id;
    for (let c = 0; c < id.length && ascii; c++) if (id.charCodeAt(c) > 0x7f) ascii = false;
    idBytesTotal += ascii ? id.length : Buffer.byteLength(id, 'utf8');
    valBytesTotal += (e.plate ?? e.containerCode)!.length;
  }
  if (!ascii) {
    idBytesTotal = 0;
    for (let i = 0; i < count; i++) idBytesTotal += Buffer.byteLength(entries[i]!.id, 'utf8');
  }
  const ids = new Uint8Array(idBytesTotal);
  const values = new Uint8Array(valBytesTotal);
  const flags = new Uint8Array(count);
  const priority = new Uint8Array(count);
  const from = new Float64Array(count);
  const until = new Float64Array(count);
  const refs = new Uint32Array(count * REF_FIELDS.length);
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const ref = (s: string | undefined): number => {
    if (s === undefined) return 0;
    let k = stringIndex.get(s);
    if (k === undefined) {
      k = strings.push(s);
      stringIndex.set(s, k);
    }
    return k;
  };
  let ia = 0;
  let va = 0;
  for (let i = 0; i < count; i++) {
    const e = entries[i]!;
    const id = e.id;
    if (ascii) for (let c = 0; c < id.length; c++) ids[ia++] = id.charCodeAt(c);
    else ia += utf8.encodeInto(id, ids.subarray(ia)).written;
    idOff[i + 1] = ia;
    const v = (e.plate ?? e.containerCode)!;
    for (let c = 0; c < v.length; c++) values[va++] = v.charCodeAt(c);
    valOff[i + 1] = va;
    flags[i] = (e.covert ? COVERT : 0) | (e.plate === undefined ? CONTAINER : 0);
    priority[i] = e.priority;
    from[i] = e.effectiveFrom ? Date.parse(e.effectiveFrom) : -Infinity;
    until[i] = e.expiresAt ? Date.parse(e.expiresAt) : Infinity;
    const r = i * REF_FIELDS.length;
    refs[r] = ref(e.category);
    refs[r + 1] = ref(e.action);
    refs[r + 2] = ref(e.source);
    refs[r + 3] = ref(e.country);
    refs[r + 4] = ref(e.note);
    refs[r + 5] = ref(e.effectiveFrom);
    refs[r + 6] = ref(e.expiresAt);
  }
  const keyTable = new Int32Array(tableSize(count));
  const idTable = new Int32Array(tableSize(count));
  const mask = keyTable.length - 1;
  for (let i = 0; i < count; i++) {
    const kind = flags[i]! & CONTAINER ? CONTAINER_KIND : PLATE_KIND;
    let s = hashValue(kind, values, valOff[i]!, valOff[i + 1]!) & mask;
    while (keyTable[s] !== 0) s = (s + 1) & mask;
    keyTable[s] = i + 1;
    let t = hashBytes(ids, idOff[i]!, idOff[i + 1]!) & mask;
    while (idTable[t] !== 0) t = (t + 1) & mask;
    idTable[t] = i + 1;
  }
  return { count, ids, idOff, values, valOff, flags, priority, from, until, refs, strings, keyTable, idTable };
}

/** The buffers of a CompactListData, for postMessage's transfer list. */
export function transferablesOf(d: CompactListData): ArrayBuffer[] {
  return [d.ids, d.idOff, d.values, d.valOff, d.flags, d.priority, d.from, d.until, d.refs, d.keyTable, d.idTable].map(
    (a) => a.buffer as ArrayBuffer,
  );
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

  /** Bytes held outside the JS heap (typed arrays), for the memory figures. */
  get byteLength(): number {
    const d = this.#d;
    return [d.ids, d.idOff, d.values, d.valOff, d.flags, d.priority, d.from, d.until, d.refs, d.keyTable, d.idTable]
      .map((a) => a.byteLength)
      .reduce((a, b) => a + b, 0);
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
      if (((d.flags[e]! & CONTAINER) !== 0) !== wantContainer) continue;
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
    return decode(this.#d.ids, this.#d.idOff[e]!, this.#d.idOff[e + 1]!);
  }

  value(e: number): string {
    return decode(this.#d.values, this.#d.valOff[e]!, this.#d.valOff[e + 1]!);
  }

  /** Whether entry `e` is in force at `atMs` (effective, not expired). */
  inForce(e: number, atMs: number): boolean {
    return atMs >= this.#d.from[e]! && atMs < this.#d.until[e]!;
  }

  /** Entry `e` as a WatchlistEntry object (made on demand: a hit, a listing). */
  entry(e: number): WatchlistEntry {
    const d = this.#d;
    const r = e * REF_FIELDS.length;
    const text = (f: RefField): string | undefined => {
      const k = d.refs[r + REF_FIELDS.indexOf(f)]!;
      return k === 0 ? undefined : d.strings[k - 1];
    };
    const out: WatchlistEntry = {
      id: this.id(e),
      category: text('category')!,
      action: text('action')!,
      priority: d.priority[e]!,
      source: text('source')!,
      covert: (d.flags[e]! & COVERT) !== 0,
    };
    if (d.flags[e]! & CONTAINER) out.containerCode = this.value(e);
    else out.plate = this.value(e);
    for (const f of ['country', 'effectiveFrom', 'expiresAt', 'note'] as const) {
      const v = text(f);
      if (v !== undefined) out[f] = v;
    }
    return out;
  }
}
