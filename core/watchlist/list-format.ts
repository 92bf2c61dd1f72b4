import { compactContainerCode, iso6346Problem } from './iso6346.js';
import { normaliseRead } from './plate.js';

/**
 * The watchlist contract between central command and the lanes: entries, and the list versions
 * that carry them (a full snapshot, or a delta on the version before). docs/watchlists.md.
 */

export const LIST_FORMAT = 'checkpoint-edge.watchlist/1';

const LIST_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** One listed plate or container code, as the lane holds it (values normalised). */
export interface WatchlistEntry {
  /** Unique in its list; a delta replaces or removes entries by id. */
  id: string;
  /** Licence plate, letters and digits only, upper case. */
  plate?: string;
  /** Issuing country or state of the plate: ISO 3166-1 alpha-2 or 3166-2, e.g. DE, US-CA. */
  country?: string;
  /** ISO 6346 container code, check digit validated. */
  containerCode?: string;
  /** Why it is listed, e.g. stolen-vehicle, wanted-person, smuggling. */
  category: string;
  /** What the officer does on a hit: "stop and search", "discreet check - do not stop", "inform central". */
  action: string;
  /** 1 (highest) to 5. */
  priority: number;
  /** Matches from this time on; absent: at once. */
  effectiveFrom?: string;
  /** Matches until this time (exclusive); absent: until removed. */
  expiresAt?: string;
  /** Who issued it, e.g. national-police, interpol-smv. */
  source: string;
  /** A covert hit goes to central command only, never to the lane console. */
  covert: boolean;
  note?: string;
}

/** An entry as central writes it: plates and codes in any spelling, covert may be left out. */
export type WatchlistEntryInput = Omit<WatchlistEntry, 'covert'> & { covert?: boolean };

const ENTRY_KEYS = new Set([
  'id',
  'plate',
  'country',
  'containerCode',
  'category',
  'action',
  'priority',
  'effectiveFrom',
  'expiresAt',
  'source',
  'covert',
  'note',
]);
/** Issuing country or state: ISO 3166-1 alpha-2 or 3166-2. */
export const COUNTRY = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;
/** The longest text each field may hold, in characters. */
export const FIELD_MAX = { id: 64, category: 64, action: 200, source: 100, country: 6, note: 1000 } as const;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** A text field: its value, or undefined (with a problem when it is required or not 1-max characters). */
function textField(
  r: Record<string, unknown>,
  field: string,
  max: number,
  required: boolean,
  path: string,
  problems: string[],
): string | undefined {
  const v = r[field];
  if (v === undefined) {
    if (required) problems.push(`${path}.${field}: missing`);
    return undefined;
  }
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    problems.push(`${path}.${field}: expected text of 1-${max} characters`);
    return undefined;
  }
  return v;
}

function timeField(r: Record<string, unknown>, field: string, path: string, problems: string[]): string | undefined {
  const v = textField(r, field, 40, false, path, problems);
  if (v !== undefined && (!ISO_TIME.test(v) || Number.isNaN(Date.parse(v)))) {
    problems.push(`${path}.${field}: expected an ISO 8601 date-time, e.g. 2026-01-31T10:00:00Z`);
    return undefined;
  }
  return v;
}

/** Letters and digits already, upper case: most plates central sends need no rewriting. */
const NORMALISED = /^[A-Z0-9]*$/;

/**
 * Checks one entry and returns it normalised, or adds its problems (named `<path>.<field>`).
 * Written by hand rather than as a zod schema, and without a closure per entry: a lane
 * validates a million entries in a snapshot.
 */
export function checkEntry(raw: unknown, path: string, problems: string[]): WatchlistEntry | null {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${path}: expected an entry object`);
    return null;
  }
  const r = raw as Record<string, unknown>;
  const before = problems.length;
  for (const k in r) if (!ENTRY_KEYS.has(k)) problems.push(`${path}.${k}: unknown field`);
  const id = textField(r, 'id', FIELD_MAX.id, true, path, problems);
  let plate = textField(r, 'plate', 20, false, path, problems);
  if (plate !== undefined) {
    if (!NORMALISED.test(plate)) plate = normaliseRead(plate);
    if (plate.length < 2) problems.push(`${path}.plate: has fewer than 2 letters or digits`);
  }
  const country = textField(r, 'country', FIELD_MAX.country, false, path, problems);
  if (country !== undefined && !COUNTRY.test(country))
    problems.push(`${path}.country: must be an ISO 3166 code, e.g. DE, or a subdivision, e.g. US-CA`);
  let containerCode = textField(r, 'containerCode', 20, false, path, problems);
  if (containerCode !== undefined) {
    containerCode = compactContainerCode(containerCode);
    const problem = iso6346Problem(containerCode);
    if (problem) problems.push(`${path}.containerCode: ${problem}`);
  }
  const category = textField(r, 'category', FIELD_MAX.category, true, path, problems);
  const action = textField(r, 'action', FIELD_MAX.action, true, path, problems);
  const source = textField(r, 'source', FIELD_MAX.source, true, path, problems);
  const note = r.note === undefined ? undefined : textField(r, 'note', FIELD_MAX.note, false, path, problems);
  const priority = r.priority;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 1 || priority > 5)
    problems.push(`${path}.priority: expected a whole number 1 (highest) to 5`);
  const covert = r.covert ?? false;
  if (typeof covert !== 'boolean') problems.push(`${path}.covert: expected true or false`);
  const effectiveFrom = r.effectiveFrom === undefined ? undefined : timeField(r, 'effectiveFrom', path, problems);
  const expiresAt = r.expiresAt === undefined ? undefined : timeField(r, 'expiresAt', path, problems);
  if ((r.plate === undefined) === (r.containerCode === undefined))
    problems.push(`${path}: an entry has a plate or a containerCode (one of the two)`);
  if (r.plate !== undefined && r.country === undefined)
    problems.push(`${path}.country: a plate needs its issuing country (e.g. DE)`);
  if (effectiveFrom && expiresAt && Date.parse(effectiveFrom) >= Date.parse(expiresAt))
    problems.push(`${path}.expiresAt: must be after effectiveFrom`);
  if (problems.length > before) return null;
  const e: WatchlistEntry = {
    id: id!,
    category: category!,
    action: action!,
    priority: priority as number,
    source: source!,
    covert: covert as boolean,
  };
  if (plate !== undefined) e.plate = plate;
  if (country !== undefined) e.country = country;
  if (containerCode !== undefined) e.containerCode = containerCode;
  if (effectiveFrom !== undefined) e.effectiveFrom = effectiveFrom;
  if (expiresAt !== undefined) e.expiresAt = expiresAt;
  if (note !== undefined) e.note = note;
  return e;
}

export interface VersionHead {
  format: typeof LIST_FORMAT;
  listId: string;
  /** Increases with every version central publishes. */
  version: number;
  issuedAt: string;
}

export interface WatchlistSnapshot extends VersionHead {
  kind: 'snapshot';
  entries: WatchlistEntry[];
}

export interface WatchlistDelta extends VersionHead {
  kind: 'delta';
  /** The version this delta applies to. */
  baseVersion: number;
  /** Entries added or replaced (by id). */
  upsert: WatchlistEntry[];
  /** Ids of entries removed. */
  remove: string[];
}

export type WatchlistVersion = WatchlistSnapshot | WatchlistDelta;

/** At most this many problems are named when a version is refused. */
export const MAX_PROBLEMS = 5;

/** The problems as a refusal names them: the first MAX_PROBLEMS, and how many more. */
export function shownProblems(problems: string[]): string[] {
  const shown = problems.slice(0, MAX_PROBLEMS);
  const more = problems.length - MAX_PROBLEMS;
  // Checking stops at PROBLEM_SCAN_LIMIT problems, so a count there is a lower bound.
  if (more > 0) shown.push(`and ${problems.length >= PROBLEM_SCAN_LIMIT ? 'at least ' : ''}${more} more`);
  return shown;
}

/** Checking a list stops once this many problems are found: enough to say what is wrong. */
export const PROBLEM_SCAN_LIMIT = MAX_PROBLEMS * 20;

export type VersionHeadFields = Omit<VersionHead, 'format'> & {
  format: typeof LIST_FORMAT;
  kind: 'snapshot' | 'delta';
  baseVersion?: number;
};

/** Validates a version's head (format, listId, version, issuedAt, kind, baseVersion), the part every encoding shares. */
export function parseVersionHead(
  value: unknown,
): { ok: true; head: VersionHeadFields } | { ok: false; problems: string[] } {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return { ok: false, problems: ['expected a list version object'] };
  const v = value as Record<string, unknown>;
  const bad: string[] = [];
  const whole = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 1;
  if (v.format !== LIST_FORMAT) bad.push(`format: format must be "${LIST_FORMAT}"`);
  if (typeof v.listId !== 'string' || !LIST_ID.test(v.listId))
    bad.push('listId: expected a list id (letters, digits, - and _, at most 64)');
  if (!whole(v.version)) bad.push('version: expected a whole number from 1');
  if (typeof v.issuedAt !== 'string' || !ISO_TIME.test(v.issuedAt) || Number.isNaN(Date.parse(v.issuedAt)))
    bad.push('issuedAt: expected an ISO 8601 date-time, e.g. 2026-01-31T10:00:00Z');
  if (v.kind !== 'snapshot' && v.kind !== 'delta') bad.push('kind: kind must be snapshot or delta');
  if (v.baseVersion !== undefined && !whole(v.baseVersion)) bad.push('baseVersion: expected a whole number from 1');
  if (bad.length) return { ok: false, problems: bad.slice(0, MAX_PROBLEMS) };
  const d = v as unknown as VersionHeadFields;
  const problems: string[] = [];
  if (d.kind === 'delta') {
    if (d.baseVersion === undefined) problems.push('baseVersion: a delta names the version it applies to');
    else if (d.baseVersion >= d.version) problems.push("baseVersion: a delta's baseVersion must be below its version");
  } else if (d.baseVersion !== undefined) problems.push('baseVersion: a snapshot has no baseVersion');
  if (problems.length) return { ok: false, problems };
  const out: VersionHeadFields = {
    format: LIST_FORMAT,
    listId: d.listId,
    version: d.version,
    issuedAt: d.issuedAt,
    kind: d.kind,
  };
  if (d.baseVersion !== undefined) out.baseVersion = d.baseVersion;
  return { ok: true, head: out };
}

/** Validates a list version's JSON value; the problems name each field, e.g. entries.3.containerCode. */
export function parseWatchlistVersion(
  value: unknown,
): { ok: true; version: WatchlistVersion } | { ok: false; problems: string[] } {
  const h = parseVersionHead(value);
  if (!h.ok) return h;
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  const allowed =
    h.head.kind === 'snapshot'
      ? ['format', 'listId', 'version', 'issuedAt', 'kind', 'entries']
      : ['format', 'listId', 'version', 'issuedAt', 'kind', 'baseVersion', 'upsert', 'remove'];
  for (const k of Object.keys(v)) if (!allowed.includes(k)) problems.push(`${k}: unknown field in a ${h.head.kind}`);
  const entryList = (field: string): WatchlistEntry[] => {
    const list = v[field];
    if (!Array.isArray(list)) {
      problems.push(`${field}: expected a list of entries`);
      return [];
    }
    const out: WatchlistEntry[] = new Array(list.length);
    const seen = new Set<string>();
    let n = 0;
    for (let i = 0; i < list.length; i++) {
      const e = checkEntry(list[i], `${field}.${i}`, problems);
      if (e) {
        if (seen.has(e.id)) problems.push(`${field}.${i}.id: entry id "${e.id}" is used twice`);
        seen.add(e.id);
        out[n++] = e;
      }
      if (problems.length >= PROBLEM_SCAN_LIMIT) break;
    }
    out.length = n;
    return out;
  };
  const base = {
    format: LIST_FORMAT,
    listId: h.head.listId,
    version: h.head.version,
    issuedAt: h.head.issuedAt,
  } as const;
  let version: WatchlistVersion;
  if (h.head.kind === 'snapshot') {
    version = { ...base, kind: 'snapshot', entries: entryList('entries') };
  } else {
    const remove = v.remove;
    if (!Array.isArray(remove) || remove.some((id) => typeof id !== 'string' || id.length === 0 || id.length > 64))
      problems.push('remove: expected a list of entry ids');
    version = {
      ...base,
      kind: 'delta',
      baseVersion: h.head.baseVersion!,
      upsert: entryList('upsert'),
      remove: Array.isArray(remove) ? (remove as string[]) : [],
    };
  }
  if (problems.length === 0) return { ok: true, version };
  return { ok: false, problems: shownProblems(problems) };
}
