import { sign, verify, type KeyObject } from 'node:crypto';
import { endianness } from 'node:os';
import { iso6346Problem } from './iso6346.js';
import {
  COUNTRY,
  FIELD_MAX,
  PROBLEM_SCAN_LIMIT,
  parseVersionHead,
  shownProblems,
  type VersionHeadFields,
  type WatchlistEntry,
  type WatchlistVersion,
} from './list-format.js';

/**
 * The wire form of a list version (docs/watchlists.md, "Wire format"): a signed binary message
 * whose entries are columns (typed arrays) that the lane validates with one pass each and indexes
 * as they are, without an object per entry. A million entries are 58 MiB instead of 170 MiB of
 * JSON, and are opened in a tenth of the CPU time.
 *
 * Message: magic (8 bytes), the body's length (u32), the key id (1 byte length, ASCII, zero
 * padding to 8), the Ed25519 signature (64 bytes), then the body: the signed bytes, exactly. Body:
 * the head as JSON (u32 length, text, zero padding to 8), eight u32 counts, then the sections,
 * each starting at a multiple of 8, in the order of SECTIONS. All numbers little-endian.
 */

/** The fields of the body's JSON head: a version's head, nothing else (as the JSON form's). */
const HEAD_KEYS = new Set(['format', 'listId', 'version', 'issuedAt', 'kind', 'baseVersion']);

/** "CEWLIST" and the layout version. */
export const LIST_MAGIC = Buffer.from('CEWLIST\x01', 'latin1');
const SIGNATURE_BYTES = 64;

if (endianness() !== 'LE') throw new Error('watchlist wire format: this code reads and writes little-endian only');

/** Texts of an entry kept once per list and referred to by number: 0 absent, k the k-th text. */
export const REF_FIELDS = ['category', 'action', 'source', 'country', 'note'] as const;
export type RefField = (typeof REF_FIELDS)[number];
const REQUIRED_REF: readonly boolean[] = [true, true, true, false, false];
export const FLAG_COVERT = 1;
export const FLAG_CONTAINER = 2;

/** A list version's entries as columns: the wire form, and the base of the lane's compact index. */
export interface ListColumns {
  count: number;
  /** UTF-8 ids, entry i at ids[idOff[i]..idOff[i+1]). */
  ids: Uint8Array;
  idOff: Uint32Array;
  /** Normalised plate or container code (A-Z, 0-9), entry i at values[valOff[i]..valOff[i+1]). */
  values: Uint8Array;
  valOff: Uint32Array;
  /** FLAG_COVERT, FLAG_CONTAINER (else a plate). */
  flags: Uint8Array;
  priority: Uint8Array;
  /** effectiveFrom and expiresAt in ms since 1970 (-Infinity / Infinity when absent). */
  from: Float64Array;
  until: Float64Array;
  /** REF_FIELDS.length per entry: 0 absent, else index + 1 into `strings`. */
  refs: Uint32Array;
  /** The distinct texts of the REF_FIELDS. */
  strings: string[];
}

/** The sections of the body after the counts, in order, with their element size. */
const SECTIONS = [
  ['from', 8],
  ['until', 8],
  ['idOff', 4],
  ['valOff', 4],
  ['refs', 4],
  ['strOff', 4],
  ['remOff', 4],
  ['flags', 1],
  ['priority', 1],
  ['ids', 1],
  ['values', 1],
  ['strings', 1],
  ['removed', 1],
] as const;
type SectionName = (typeof SECTIONS)[number][0];

/** The counts that size the sections (the eight u32 after the head; the last is reserved, 0). */
interface Counts {
  count: number;
  idBytes: number;
  valBytes: number;
  strings: number;
  strBytes: number;
  removed: number;
  remBytes: number;
}

/** The next multiple of 8 (arithmetic, not bitwise: counts read from a message may exceed 2^31). */
const align8 = (n: number) => Math.ceil(n / 8) * 8;

function sectionLengths(c: Counts): Record<SectionName, number> {
  return {
    from: c.count,
    until: c.count,
    idOff: c.count + 1,
    valOff: c.count + 1,
    refs: c.count * REF_FIELDS.length,
    strOff: c.strings + 1,
    remOff: c.removed + 1,
    flags: c.count,
    priority: c.count,
    ids: c.idBytes,
    values: c.valBytes,
    strings: c.strBytes,
    removed: c.remBytes,
  };
}

/** Byte offset of each section from `start`, and the end of the last. */
function layout(c: Counts, start: number): { at: Record<SectionName, number>; end: number } {
  const lengths = sectionLengths(c);
  const at = {} as Record<SectionName, number>;
  let o = start;
  for (const [name, size] of SECTIONS) {
    at[name] = o;
    o = align8(o + lengths[name] * size);
  }
  return { at, end: o };
}

// ---- hashing (ids here; listed values in the lane's index) -------------------------------------

/** FNV-1a over bytes. */
export function hashBytes(bytes: ArrayLike<number>, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Slots of an open-addressing table for `count` entries: a power of two, at most half full. */
export function tableSize(count: number): number {
  let n = 16;
  while (n < count * 2) n *= 2;
  return n;
}

/**
 * The id table of a list (slot = entry index + 1, 0 empty), or the index of the first entry whose
 * id an earlier one already has.
 */
export function indexIds(ids: Uint8Array, idOff: Uint32Array, count: number): Int32Array | { duplicate: number } {
  const table = new Int32Array(tableSize(count));
  const mask = table.length - 1;
  for (let i = 0; i < count; i++) {
    const a = idOff[i]!;
    const b = idOff[i + 1]!;
    let t = hashBytes(ids, a, b) & mask;
    for (let other = table[t]!; other !== 0; other = table[t]!) {
      const oa = idOff[other - 1]!;
      if (idOff[other]! - oa === b - a) {
        let same = true;
        for (let k = 0; k < b - a && same; k++) same = ids[oa + k] === ids[a + k];
        if (same) return { duplicate: i };
      }
      t = (t + 1) & mask;
    }
    table[t] = i + 1;
  }
  return table;
}

// ---- entries to columns and back ---------------------------------------------------------------

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text of bytes[start..end): ASCII char by char, anything else through the decoder. */
export function decodeText(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c > 0x7f) return fromUtf8.decode(bytes.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}

/** Bytes of texts laid end to end, with their offsets. */
function packTexts(texts: readonly string[]): { bytes: Uint8Array; off: Uint32Array } {
  const off = new Uint32Array(texts.length + 1);
  let total = 0;
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i]!;
    let ascii = true;
    for (let c = 0; c < t.length && ascii; c++) if (t.charCodeAt(c) > 0x7f) ascii = false;
    total += ascii ? t.length : Buffer.byteLength(t, 'utf8');
    off[i + 1] = total;
  }
  const bytes = new Uint8Array(total);
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i]!;
    const a = off[i]!;
    if (off[i + 1]! - a === t.length) for (let c = 0; c < t.length; c++) bytes[a + c] = t.charCodeAt(c);
    else utf8.encodeInto(t, bytes.subarray(a));
  }
  return { bytes, off };
}

const timeOf = (iso: string | undefined, absent: number): number => (iso === undefined ? absent : Date.parse(iso));

/**
 * The columns of entries as central checked them (values normalised, see parseWatchlistVersion).
 * Dates become instants: an entry read back says them in UTC.
 */
export function columnsFromEntries(entries: readonly WatchlistEntry[]): ListColumns {
  const count = entries.length;
  const idTexts: string[] = new Array(count);
  const valTexts: string[] = new Array(count);
  const flags = new Uint8Array(count);
  const priority = new Uint8Array(count);
  const from = new Float64Array(count);
  const until = new Float64Array(count);
  const refs = new Uint32Array(count * REF_FIELDS.length);
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  // Neighbouring entries mostly share their texts: the last one of each field is tried first.
  const lastText: (string | undefined)[] = REF_FIELDS.map(() => undefined);
  const lastRef = new Uint32Array(REF_FIELDS.length);
  const ref = (field: number, s: string | undefined): number => {
    if (s === undefined) return 0;
    if (s === lastText[field]) return lastRef[field]!;
    let k = stringIndex.get(s);
    if (k === undefined) {
      k = strings.push(s);
      stringIndex.set(s, k);
    }
    lastText[field] = s;
    lastRef[field] = k;
    return k;
  };
  for (let i = 0; i < count; i++) {
    const e = entries[i]!;
    idTexts[i] = e.id;
    valTexts[i] = (e.plate ?? e.containerCode ?? '').toString();
    flags[i] = (e.covert ? FLAG_COVERT : 0) | (e.plate === undefined ? FLAG_CONTAINER : 0);
    priority[i] = e.priority;
    from[i] = timeOf(e.effectiveFrom, -Infinity);
    until[i] = timeOf(e.expiresAt, Infinity);
    const r = i * REF_FIELDS.length;
    refs[r] = ref(0, e.category);
    refs[r + 1] = ref(1, e.action);
    refs[r + 2] = ref(2, e.source);
    refs[r + 3] = ref(3, e.country);
    refs[r + 4] = ref(4, e.note);
  }
  const ids = packTexts(idTexts);
  const values = packTexts(valTexts);
  return {
    count,
    ids: ids.bytes,
    idOff: ids.off,
    values: values.bytes,
    valOff: values.off,
    flags,
    priority,
    from,
    until,
    refs,
    strings,
  };
}

/** An instant as ISO 8601 in UTC, without milliseconds when they are 0. */
export function isoTime(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
}

/** Entry `e` of the columns as an object (made on demand: a hit, a listing, a delta's entries). */
export function entryAt(c: ListColumns, e: number): WatchlistEntry {
  const r = e * REF_FIELDS.length;
  const text = (k: number): string | undefined => (c.refs[r + k]! === 0 ? undefined : c.strings[c.refs[r + k]! - 1]);
  const out: WatchlistEntry = {
    id: decodeText(c.ids, c.idOff[e]!, c.idOff[e + 1]!),
    category: text(0)!,
    action: text(1)!,
    priority: c.priority[e]!,
    source: text(2)!,
    covert: (c.flags[e]! & FLAG_COVERT) !== 0,
  };
  const value = decodeText(c.values, c.valOff[e]!, c.valOff[e + 1]!);
  if (c.flags[e]! & FLAG_CONTAINER) out.containerCode = value;
  else out.plate = value;
  const country = text(3);
  if (country !== undefined) out.country = country;
  if (c.from[e]! !== -Infinity) out.effectiveFrom = isoTime(c.from[e]!);
  if (c.until[e]! !== Infinity) out.expiresAt = isoTime(c.until[e]!);
  const note = text(4);
  if (note !== undefined) out.note = note;
  return out;
}

// ---- body ---------------------------------------------------------------------------------------

/** The body of a version: its head, its entries (a snapshot's, or a delta's upsert) and the ids a delta removes. */
export function encodeListBody(head: VersionHeadFields, c: ListColumns, removed: readonly string[] = []): Uint8Array {
  const headBytes = Buffer.from(JSON.stringify(head), 'utf8');
  const strs = packTexts(c.strings);
  const rem = packTexts(removed);
  const counts: Counts = {
    count: c.count,
    idBytes: c.ids.length,
    valBytes: c.values.length,
    strings: c.strings.length,
    strBytes: strs.bytes.length,
    removed: removed.length,
    remBytes: rem.bytes.length,
  };
  const countsAt = align8(4 + headBytes.length);
  const { at, end } = layout(counts, countsAt + 32);
  const body = new Uint8Array(end);
  const view = new DataView(body.buffer);
  view.setUint32(0, headBytes.length, true);
  body.set(headBytes, 4);
  const countList = [
    counts.count,
    counts.idBytes,
    counts.valBytes,
    counts.strings,
    counts.strBytes,
    counts.removed,
    counts.remBytes,
    0,
  ];
  for (const [i, n] of countList.entries()) view.setUint32(countsAt + i * 4, n, true);
  const put = (name: SectionName, a: ArrayBufferView) =>
    body.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at[name]);
  put('from', c.from);
  put('until', c.until);
  put('idOff', c.idOff);
  put('valOff', c.valOff);
  put('refs', c.refs);
  put('strOff', strs.off);
  put('remOff', rem.off);
  put('flags', c.flags);
  put('priority', c.priority);
  put('ids', c.ids);
  put('values', c.values);
  put('strings', strs.bytes);
  put('removed', rem.bytes);
  return body;
}

export interface DecodedBody {
  head: VersionHeadFields;
  columns: ListColumns;
  /** The id table of the entries (see indexIds), built while checking that ids are unique. */
  idTable: Int32Array;
  /** Ids a delta removes. */
  removed: string[];
}

/** Checks that offsets start at 0, never go down and end at the section's length. */
function offsetsProblem(off: Uint32Array, total: number, what: string): string | null {
  if (off[0] !== 0) return `${what}: the first offset is ${off[0]}, not 0`;
  for (let i = 1; i < off.length; i++)
    if (off[i]! < off[i - 1]!) return `${what}: offset ${i} (${off[i]}) is below the one before (${off[i - 1]})`;
  if (off[off.length - 1] !== total)
    return `${what}: the last offset is ${off[off.length - 1]}, the bytes are ${total}`;
  return null;
}

const TEXT_CHECK: Record<RefField, (s: string) => string | null> = {
  category: (s) => lengthProblem(s, FIELD_MAX.category),
  action: (s) => lengthProblem(s, FIELD_MAX.action),
  source: (s) => lengthProblem(s, FIELD_MAX.source),
  note: (s) => lengthProblem(s, FIELD_MAX.note),
  country: (s) => (COUNTRY.test(s) ? null : 'must be an ISO 3166 code, e.g. DE, or a subdivision, e.g. US-CA'),
};

function lengthProblem(s: string, max: number): string | null {
  return s.length === 0 || s.length > max ? `expected text of 1-${max} characters` : null;
}

const MAX_TIME = 8.64e15; // the range of a JavaScript Date

/**
 * Reads and validates a version's body (the bytes the signature covers). Every entry is checked
 * with a pass over the columns, as parseWatchlistVersion checks a JSON one: ids unique and of 1-64
 * characters, plates of 2-20 letters and digits with their country, ISO 6346 check digits,
 * priorities, dates, texts; the problems name the entry and field (`entries.3.containerCode`). The
 * columns are views on `body`, not copies.
 */
export function decodeListBody(body: Uint8Array): { ok: true; body: DecodedBody } | { ok: false; problems: string[] } {
  if (body.byteOffset % 8 !== 0) body = new Uint8Array(body); // typed-array views need aligned offsets
  const bad = (p: string) => ({ ok: false as const, problems: [p] });
  const len = body.byteLength;
  if (len < 4) return bad(`the body is ${len} bytes, too short for its head: truncated`);
  const view = new DataView(body.buffer, body.byteOffset, len);
  const headLen = view.getUint32(0, true);
  const countsAt = align8(4 + headLen);
  if (countsAt + 32 > len) return bad(`the body is ${len} bytes, its head and counts need ${countsAt + 32}: truncated`);
  let headValue: unknown;
  try {
    headValue = JSON.parse(strictUtf8.decode(body.subarray(4, 4 + headLen)));
  } catch (err) {
    return bad(`the head is not JSON text (${(err as Error).message})`);
  }
  const h = parseVersionHead(headValue);
  if (!h.ok) return { ok: false, problems: h.problems };
  const head = h.head;
  const unknown = Object.keys(headValue as object).filter((k) => !HEAD_KEYS.has(k));
  if (unknown.length) return { ok: false, problems: unknown.map((k) => `head.${k}: unknown field in a ${head.kind}`) };
  const n = (i: number) => view.getUint32(countsAt + i * 4, true);
  const counts: Counts = {
    count: n(0),
    idBytes: n(1),
    valBytes: n(2),
    strings: n(3),
    strBytes: n(4),
    removed: n(5),
    remBytes: n(6),
  };
  if (n(7) !== 0) return bad(`the reserved count is ${n(7)}, not 0: a layout this lane does not know`);
  const { at, end } = layout(counts, countsAt + 32);
  if (end !== len)
    return bad(
      `the counts (${counts.count} entries, ${counts.strings} texts, ${counts.removed} removed ids) make a body of ${end} bytes, the message has ${len}: ${end > len ? 'truncated' : 'bytes left over'}`,
    );
  const lengths = sectionLengths(counts);
  const buf = body.buffer;
  const o = body.byteOffset;
  const u8 = (s: SectionName) => new Uint8Array(buf, o + at[s], lengths[s]);
  const u32 = (s: SectionName) => new Uint32Array(buf, o + at[s], lengths[s]);
  const f64 = (s: SectionName) => new Float64Array(buf, o + at[s], lengths[s]);
  const c = {
    count: counts.count,
    ids: u8('ids'),
    idOff: u32('idOff'),
    values: u8('values'),
    valOff: u32('valOff'),
    flags: u8('flags'),
    priority: u8('priority'),
    from: f64('from'),
    until: f64('until'),
    refs: u32('refs'),
  };
  const field = head.kind === 'snapshot' ? 'entries' : 'upsert';
  const structure =
    offsetsProblem(c.idOff, counts.idBytes, `${field} ids`) ??
    offsetsProblem(c.valOff, counts.valBytes, `${field} values`) ??
    offsetsProblem(u32('strOff'), counts.strBytes, 'texts') ??
    offsetsProblem(u32('remOff'), counts.remBytes, 'remove');
  if (structure) return bad(structure);
  if (head.kind === 'snapshot' && counts.removed > 0) return bad('remove: a snapshot removes nothing');

  const strings = textsOf(u8('strings'), u32('strOff'));
  if (!Array.isArray(strings)) return bad(`texts.${strings.bad}: not UTF-8 text`);
  const removed = textsOf(u8('removed'), u32('remOff'));
  if (!Array.isArray(removed)) return bad(`remove.${removed.bad}: not UTF-8 text`);
  const problems: string[] = [];
  for (let i = 0; i < removed.length; i++)
    if (lengthProblem(removed[i]!, FIELD_MAX.id)) problems.push(`remove.${i}: expected an entry id of 1-64 characters`);

  // What each text is worth in each role, checked once per text (0 unchecked, 1 good, 2 not).
  const checked = REF_FIELDS.map(() => new Uint8Array(strings.length + 1));
  const textProblem = REF_FIELDS.map(() => new Map<number, string>());
  const limit = PROBLEM_SCAN_LIMIT;
  const { ids, idOff, values, valOff, flags, priority, from, until, refs } = c;
  for (let i = 0; i < c.count && problems.length < limit; i++) {
    const path = i; // named as `${field}.${i}` only when there is a problem (a million strings otherwise)
    const ia = idOff[i]!;
    const ib = idOff[i + 1]!;
    let idOk = ib > ia && ib - ia <= FIELD_MAX.id;
    for (let k = ia; k < ib && idOk; k++) idOk = ids[k]! <= 0x7f;
    if (!idOk) {
      // Not plain ASCII, or too long in bytes: count its characters.
      try {
        const id = ib > ia ? strictUtf8.decode(ids.subarray(ia, ib)) : '';
        idOk = lengthProblem(id, FIELD_MAX.id) === null;
      } catch {
        idOk = false;
      }
    }
    if (!idOk) problems.push(`${field}.${path}.id: expected UTF-8 text of 1-${FIELD_MAX.id} characters`);
    const f = flags[i]!;
    if (f > (FLAG_COVERT | FLAG_CONTAINER))
      problems.push(`${field}.${path}: flags ${f} has bits this format does not define`);
    const va = valOff[i]!;
    const vb = valOff[i + 1]!;
    if (f & FLAG_CONTAINER) {
      const problem = iso6346Problem(decodeText(values, va, vb));
      if (problem) problems.push(`${field}.${path}.containerCode: ${problem}`);
    } else {
      let ok = vb - va >= 2 && vb - va <= 20;
      for (let k = va; k < vb && ok; k++) {
        const b = values[k]!;
        ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a);
      }
      if (!ok) problems.push(`${field}.${path}.plate: expected 2-20 letters A-Z and digits, normalised`);
    }
    const p = priority[i]!;
    if (p < 1 || p > 5) problems.push(`${field}.${path}.priority: expected a whole number 1 (highest) to 5, got ${p}`);
    const r = i * REF_FIELDS.length;
    for (let k = 0; k < REF_FIELDS.length; k++) {
      const ref = refs[r + k]!;
      if (ref === 0) {
        if (REQUIRED_REF[k]) problems.push(`${field}.${path}.${REF_FIELDS[k]}: missing`);
        else if (k === 3 && !(f & FLAG_CONTAINER))
          problems.push(`${field}.${path}.country: a plate needs its issuing country (e.g. DE)`);
        continue;
      }
      if (ref > strings.length) {
        problems.push(`${field}.${path}.${REF_FIELDS[k]}: refers to text ${ref}, the list has ${strings.length}`);
        continue;
      }
      const seen = checked[k]!;
      if (seen[ref] === 0) {
        const problem = TEXT_CHECK[REF_FIELDS[k]!](strings[ref - 1]!);
        seen[ref] = problem ? 2 : 1;
        if (problem) textProblem[k]!.set(ref, problem);
      }
      if (seen[ref] === 2) problems.push(`${field}.${path}.${REF_FIELDS[k]}: ${textProblem[k]!.get(ref)}`);
    }
    const t0 = from[i]!;
    const t1 = until[i]!;
    if (t0 !== -Infinity && !(Math.abs(t0) <= MAX_TIME))
      problems.push(`${field}.${path}.effectiveFrom: expected a time in ms since 1970, or none (-Infinity)`);
    else if (t1 !== Infinity && !(Math.abs(t1) <= MAX_TIME))
      problems.push(`${field}.${path}.expiresAt: expected a time in ms since 1970, or none (Infinity)`);
    else if (t0 >= t1) problems.push(`${field}.${path}.expiresAt: must be after effectiveFrom`);
  }
  if (problems.length) return { ok: false, problems: shownProblems(problems) };
  const idTable = indexIds(ids, idOff, c.count);
  if (!(idTable instanceof Int32Array)) {
    const i = idTable.duplicate;
    return bad(`${field}.${i}.id: entry id "${decodeText(ids, idOff[i]!, idOff[i + 1]!)}" is used twice`);
  }
  return { ok: true, body: { head, columns: { ...c, strings }, idTable, removed } };
}

function textsOf(bytes: Uint8Array, off: Uint32Array): string[] | { bad: number } {
  const out: string[] = new Array(off.length - 1);
  for (let i = 0; i < out.length; i++) {
    const a = off[i]!;
    const b = off[i + 1]!;
    let ascii = true;
    for (let k = a; k < b && ascii; k++) if (bytes[k]! > 0x7f) ascii = false;
    if (ascii) out[i] = decodeText(bytes, a, b);
    else
      try {
        out[i] = strictUtf8.decode(bytes.subarray(a, b));
      } catch {
        return { bad: i };
      }
  }
  return out;
}

// ---- signed message -----------------------------------------------------------------------------

/** Where the body of a message with a key id of `keyIdLength` bytes begins (a multiple of 8). */
const bodyStart = (keyIdLength: number) => align8(LIST_MAGIC.length + 5 + keyIdLength) + SIGNATURE_BYTES;

/** The parts of a message: magic, u32 body length, u8 key id length, key id, padding, signature, body. */
function messageParts(
  bytes: Uint8Array,
): { ok: true; keyId: string; signature: Uint8Array; body: Uint8Array } | { ok: false; detail: string } {
  const m = LIST_MAGIC.length;
  if (bytes.length < m || !LIST_MAGIC.equals(bytes.subarray(0, m))) {
    const json = bytes[0] === 0x7b ? ' (it begins with "{": the JSON form, which lanes no longer take)' : '';
    return { ok: false, detail: `not a signed list message: it does not begin with "CEWLIST" and layout 1${json}` };
  }
  if (bytes.length < m + 5) return { ok: false, detail: `${bytes.length} bytes: truncated` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bodyLength = view.getUint32(m, true);
  const keyIdLength = bytes[m + 4]!;
  const start = bodyStart(keyIdLength);
  if (bytes.length !== start + bodyLength)
    return {
      ok: false,
      detail: `${bytes.length} bytes where the message says ${start + bodyLength}: ${bytes.length < start + bodyLength ? 'truncated' : 'bytes left over'}`,
    };
  return {
    ok: true,
    keyId: Buffer.from(bytes.buffer, bytes.byteOffset + m + 5, keyIdLength).toString('latin1'),
    signature: bytes.subarray(start - SIGNATURE_BYTES, start),
    body: bytes.subarray(start),
  };
}

/** Signs a body with central's key: magic, body length, key id, the Ed25519 signature of the body's bytes, the body. */
export function signListBody(body: Uint8Array, keyId: string, privateKey: KeyObject): Buffer {
  if (!/^[\x21-\x7e]{1,64}$/.test(keyId))
    throw new Error(`watchlist signing: key id "${keyId}" must be 1-64 printable ASCII characters`);
  const m = LIST_MAGIC.length;
  const start = bodyStart(keyId.length);
  const out = Buffer.alloc(start + body.length);
  LIST_MAGIC.copy(out, 0);
  out.writeUInt32LE(body.length, m);
  out[m + 4] = keyId.length;
  out.write(keyId, m + 5, 'latin1');
  sign(null, body, privateKey).copy(out, start - SIGNATURE_BYTES);
  out.set(body, start);
  return out;
}

/** The signed message of a version (entries as parseWatchlistVersion returns them: checked and normalised). */
export function signedListMessage(version: WatchlistVersion, keyId: string, privateKey: KeyObject): Buffer {
  const { format, listId, version: v, issuedAt } = version;
  const head: VersionHeadFields = { format, listId, version: v, issuedAt, kind: version.kind };
  if (version.kind === 'delta') head.baseVersion = version.baseVersion;
  const entries = version.kind === 'snapshot' ? version.entries : version.upsert;
  return signListBody(
    encodeListBody(head, columnsFromEntries(entries), version.kind === 'delta' ? version.remove : []),
    keyId,
    privateKey,
  );
}

export type OpenedListMessage =
  | { ok: true; keyId: string; body: Uint8Array }
  | { ok: false; reason: 'malformed' | 'unsigned' | 'forged'; detail: string };

/**
 * Checks a message's form and signature with the trusted keys (by key id); the body is read only
 * once the signature holds. A truncated message fails as malformed: its length is not the one it
 * names.
 */
export function openSignedList(bytes: Uint8Array, keys: ReadonlyMap<string, KeyObject>): OpenedListMessage {
  const parts = messageParts(bytes);
  if (!parts.ok) return { ok: false, reason: 'malformed', detail: parts.detail };
  const { keyId, signature, body } = parts;
  if (keyId === '' || signature.every((b) => b === 0))
    return { ok: false, reason: 'unsigned', detail: 'the message has no signature or no key id' };
  const key = keys.get(keyId);
  if (!key)
    return {
      ok: false,
      reason: 'forged',
      detail: `signed with key "${keyId}", which this lane does not trust (trusted: ${[...keys.keys()].join(', ') || 'none'})`,
    };
  if (!verify(null, body, key, signature))
    return {
      ok: false,
      reason: 'forged',
      detail: `signature does not verify with key "${keyId}": the list was altered or not signed by central command`,
    };
  return { ok: true, keyId, body };
}

/**
 * A whole version from a message, entries as objects: for tools and small lists (the CLI's verify
 * and publish, tests); the lane keeps a large one as columns.
 */
export function readListMessage(
  bytes: Uint8Array,
  keys: ReadonlyMap<string, KeyObject>,
): { ok: true; keyId: string; version: WatchlistVersion } | { ok: false; reason: string; detail: string } {
  const opened = openSignedList(bytes, keys);
  if (!opened.ok) return opened;
  const d = decodeListBody(opened.body);
  if (!d.ok)
    return {
      ok: false,
      reason: 'malformed',
      detail: `signed, but not a valid list version: ${d.problems.join('; ')}`,
    };
  return { ok: true, keyId: opened.keyId, version: versionOf(d.body) };
}

/** A decoded body as a version with entry objects. */
export function versionOf(d: DecodedBody): WatchlistVersion {
  const entries = Array.from({ length: d.columns.count }, (_, i) => entryAt(d.columns, i));
  const { format, listId, version, issuedAt } = d.head;
  return d.head.kind === 'snapshot'
    ? { format, listId, version, issuedAt, kind: 'snapshot', entries }
    : {
        format,
        listId,
        version,
        issuedAt,
        kind: 'delta',
        baseVersion: d.head.baseVersion!,
        upsert: entries,
        remove: d.removed,
      };
}

/**
 * The version a message carries, read WITHOUT checking its signature: for central's tools, which
 * read their own files (the lanes check the signature).
 */
export function readUnverified(
  bytes: Uint8Array,
): { ok: true; version: WatchlistVersion } | { ok: false; detail: string } {
  const parts = messageParts(bytes);
  if (!parts.ok) return parts;
  const d = decodeListBody(new Uint8Array(parts.body));
  return d.ok ? { ok: true, version: versionOf(d.body) } : { ok: false, detail: d.problems.join('; ') };
}

/** The key id a message names (to pick the public key to check it with), or null. */
export function listMessageKeyId(bytes: Uint8Array): string | null {
  const parts = messageParts(bytes);
  return parts.ok && parts.keyId !== '' ? parts.keyId : null;
}

/** Where the signature lies in a well-formed message (for tests that remove or alter it). */
export function signatureRange(bytes: Uint8Array): [number, number] {
  const start = bodyStart(bytes[LIST_MAGIC.length + 4]!);
  return [start - SIGNATURE_BYTES, start];
}
