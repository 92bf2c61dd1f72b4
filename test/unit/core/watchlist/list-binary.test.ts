import { describe, expect, it } from 'vitest';
import {
  columnsFromEntries,
  decodeListBody,
  encodeListBody,
  type ListColumns,
  openSignedList,
  readListMessage,
  readUnverified,
  signatureRange,
  signedListMessage,
  signListBody,
} from '../../../../core/watchlist/list-binary.js';
import {
  LIST_FORMAT,
  type VersionHeadFields,
  type WatchlistEntry,
  type WatchlistVersion,
} from '../../../../core/watchlist/list-format.js';
import { centralKeys } from '../../../helpers/watchlist.js';

const keys = centralKeys('central-1');

const head = (over: Partial<VersionHeadFields> = {}): VersionHeadFields => ({
  format: LIST_FORMAT,
  listId: 'national',
  version: 3,
  issuedAt: '2026-12-06T12:00:00Z',
  kind: 'snapshot',
  ...over,
});

const plate = (id: string, over: Partial<WatchlistEntry> = {}): WatchlistEntry => ({
  id,
  plate: 'BAB1234',
  country: 'DE',
  category: 'stolen-vehicle',
  action: 'stop and search',
  priority: 1,
  source: 'national-police',
  covert: false,
  ...over,
});

const ALL_FIELDS: WatchlistEntry[] = [
  plate('p1'),
  plate('p2', {
    plate: 'M1234',
    country: 'US-CA',
    priority: 5,
    covert: true,
    effectiveFrom: '2026-01-01T00:00:00Z',
    expiresAt: '2027-06-30T23:59:59.250Z',
    note: 'Fahrzeug gestohlen in München — Halter informiert',
  }),
  {
    id: 'c1',
    containerCode: 'CSQU3054383',
    category: 'smuggling',
    action: 'inform central',
    priority: 2,
    source: 'customs',
    covert: false,
  },
  plate('ünïcode-id', { plate: 'ZZ9', country: 'FR', expiresAt: '2030-01-01T00:00:00Z' }),
];

/** The problems of a body built from entries, with `change` applied to its columns first. */
function problemsOf(
  entries: WatchlistEntry[],
  change: (c: ListColumns) => void = () => {},
  h: VersionHeadFields = head(),
  removed: string[] = [],
): string[] {
  const c = columnsFromEntries(entries);
  change(c);
  const d = decodeListBody(encodeListBody(h, c, removed));
  return d.ok ? [] : d.problems;
}

/** A deterministic pseudo-random sequence (xorshift32). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('the binary wire form of a list version', () => {
  it('carries a snapshot and a delta unchanged through encoding, signing, checking and decoding', () => {
    const snapshot: WatchlistVersion = { ...head(), kind: 'snapshot', entries: ALL_FIELDS };
    const read = readListMessage(signedListMessage(snapshot, keys.keyId, keys.privateKey), keys.trusted);
    expect(read).toEqual({ ok: true, keyId: 'central-1', version: snapshot });

    const delta: WatchlistVersion = {
      ...head({ version: 4 }),
      kind: 'delta',
      baseVersion: 3,
      upsert: [ALL_FIELDS[1]!],
      remove: ['p1', 'gone-ü'],
    };
    const message = signedListMessage(delta, keys.keyId, keys.privateKey);
    expect(readListMessage(message, keys.trusted)).toEqual({ ok: true, keyId: 'central-1', version: delta });
    expect(readUnverified(message)).toEqual({ ok: true, version: delta });
  });

  it('says dates as instants in UTC', () => {
    const snapshot: WatchlistVersion = {
      ...head(),
      kind: 'snapshot',
      entries: [plate('p1', { effectiveFrom: '2026-01-31T10:00:00+02:00' })],
    };
    const read = readListMessage(signedListMessage(snapshot, keys.keyId, keys.privateKey), keys.trusted);
    expect(read.ok && read.version.kind === 'snapshot' && read.version.entries[0]!.effectiveFrom).toBe(
      '2026-01-31T08:00:00Z',
    );
  });

  it('names the entry and the field of every malformed value', () => {
    const two = [plate('a'), plate('b')];
    const cases: [string, WatchlistEntry[], (c: ListColumns) => void, RegExp][] = [
      ['empty id', [plate('a'), plate('')], () => {}, /^entries\.1\.id: expected UTF-8 text of 1-64/],
      ['long id', [plate('x'.repeat(65))], () => {}, /^entries\.0\.id: expected UTF-8 text of 1-64/],
      ['id not UTF-8', two, (c) => c.ids.fill(0xff, 1, 2), /^entries\.1\.id: expected UTF-8 text/],
      ['id used twice', two, (c) => c.ids.set([0x61], 1), /^entries\.1\.id: entry id "a" is used twice/],
      ['plate not normalised', [plate('a', { plate: 'B-AB 12' })], () => {}, /^entries\.0\.plate: expected 2-20/],
      ['plate too short', [plate('a', { plate: 'B' })], () => {}, /^entries\.0\.plate: expected 2-20/],
      ['plate too long', [plate('a', { plate: 'A'.repeat(21) })], () => {}, /^entries\.0\.plate: expected 2-20/],
      [
        'container check digit',
        [{ ...ALL_FIELDS[2]!, containerCode: 'CSQU3054384' }],
        () => {},
        /^entries\.0\.containerCode: "CSQU3054384" has check digit 4, ISO 6346 gives 3/,
      ],
      [
        'container shape',
        [{ ...ALL_FIELDS[2]!, containerCode: 'CSQ' }],
        () => {},
        /^entries\.0\.containerCode: "CSQ" is not/,
      ],
      [
        'priority 0',
        two,
        (c) => c.priority.set([0], 1),
        /^entries\.1\.priority: expected a whole number 1 \(highest\) to 5, got 0/,
      ],
      ['priority 6', two, (c) => c.priority.set([6], 0), /^entries\.0\.priority: .* got 6/],
      ['unknown flags', two, (c) => c.flags.set([4], 1), /^entries\.1: flags 4 has bits this format does not define/],
      ['category missing', two, (c) => c.refs.set([0], 5), /^entries\.1\.category: missing/],
      ['action missing', two, (c) => c.refs.set([0], 1), /^entries\.0\.action: missing/],
      ['source missing', two, (c) => c.refs.set([0], 2), /^entries\.0\.source: missing/],
      [
        'plate without country',
        two,
        (c) => c.refs.set([0], 8),
        /^entries\.1\.country: a plate needs its issuing country/,
      ],
      [
        'text out of the table',
        two,
        (c) => c.refs.set([99], 5),
        /^entries\.1\.category: refers to text 99, the list has 4/,
      ],
      ['country', [plate('a', { country: 'Germany' })], () => {}, /^entries\.0\.country: must be an ISO 3166 code/],
      [
        'category too long',
        [plate('a', { category: 'c'.repeat(65) })],
        () => {},
        /^entries\.0\.category: expected text of 1-64/,
      ],
      [
        'action too long',
        [plate('a', { action: 'a'.repeat(201) })],
        () => {},
        /^entries\.0\.action: expected text of 1-200/,
      ],
      [
        'source too long',
        [plate('a', { source: 's'.repeat(101) })],
        () => {},
        /^entries\.0\.source: expected text of 1-100/,
      ],
      [
        'note too long',
        [plate('a', { note: 'n'.repeat(1001) })],
        () => {},
        /^entries\.0\.note: expected text of 1-1000/,
      ],
      ['empty text', [plate('a', { note: '' })], () => {}, /^entries\.0\.note: expected text of 1-1000/],
      [
        'effectiveFrom',
        [plate('a', { effectiveFrom: 'soon' })],
        () => {},
        /^entries\.0\.effectiveFrom: expected a time/,
      ],
      ['expiresAt', two, (c) => c.until.set([Number.NaN], 1), /^entries\.1\.expiresAt: expected a time/],
      [
        'expiry before effect',
        [plate('a', { effectiveFrom: '2027-01-01T00:00:00Z', expiresAt: '2026-01-01T00:00:00Z' })],
        () => {},
        /^entries\.0\.expiresAt: must be after effectiveFrom/,
      ],
      ['id offsets', two, (c) => c.idOff.set([5], 1), /^entries ids: offset 2 \(2\) is below the one before \(5\)/],
      ['value offsets', two, (c) => c.valOff.set([1], 0), /^entries values: the first offset is 1, not 0/],
    ];
    for (const [what, entries, change, want] of cases) {
      const problems = problemsOf(entries, change);
      expect(problems, what).toHaveLength(1);
      expect(problems[0], what).toMatch(want);
    }
    // A delta's entries are named upsert.<i>, its removed ids remove.<i>.
    const dh = head({ kind: 'delta', version: 4, baseVersion: 3 });
    expect(problemsOf([plate('a', { priority: 9 })], () => {}, dh)).toEqual([
      'upsert.0.priority: expected a whole number 1 (highest) to 5, got 9',
    ]);
    expect(problemsOf([], () => {}, dh, ['ok', ''])).toEqual(['remove.1: expected an entry id of 1-64 characters']);
    expect(problemsOf([], () => {}, head(), ['p1'])).toEqual(['remove: a snapshot removes nothing']);
  });

  it("checks the head as the JSON form's, and names at most five problems", () => {
    expect(problemsOf([], () => {}, head({ listId: 'no spaces' }))[0]).toMatch(/^listId: expected a list id/);
    expect(problemsOf([], () => {}, head({ version: 0 }))[0]).toMatch(/^version:/);
    expect(problemsOf([], () => {}, head({ kind: 'delta', baseVersion: 3 }))).toEqual([
      "baseVersion: a delta's baseVersion must be below its version",
    ]);
    expect(problemsOf([], () => {}, head({ kind: 'delta' }))).toEqual([
      'baseVersion: a delta names the version it applies to',
    ]);
    expect(problemsOf([], () => {}, { ...head(), format: 'other/1' } as unknown as VersionHeadFields)[0]).toMatch(
      /^format: format must be "checkpoint-edge.watchlist\/1"/,
    );
    expect(problemsOf([], () => {}, { ...head(), entries: [] } as unknown as VersionHeadFields)).toEqual([
      'head.entries: unknown field in a snapshot',
    ]);
    const many = Array.from({ length: 30 }, (_, i) => plate(`e${i}`, { priority: 7 }));
    const problems = problemsOf(many);
    expect(problems).toHaveLength(6);
    expect(problems[5]).toBe('and 25 more');
    // Checking stops at 100 problems: past it the count is a lower bound, and says so.
    const all = problemsOf(Array.from({ length: 300 }, (_, i) => plate(`e${i}`, { priority: 7 })));
    expect(all[5]).toBe('and at least 95 more');
  });

  it('refuses a body cut short or padded anywhere, and never throws on altered bytes', () => {
    const c = columnsFromEntries(ALL_FIELDS);
    const body = encodeListBody(head(), c);
    expect(decodeListBody(body).ok).toBe(true);
    for (let n = 0; n < body.length; n++) {
      const d = decodeListBody(body.slice(0, n));
      expect(d.ok, `cut at ${n}`).toBe(false);
    }
    // Counts and head length as large as a u32 goes: refused by arithmetic, nothing allocated.
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const countsAt = Math.ceil((4 + view.getUint32(0, true)) / 8) * 8;
    for (let k = 0; k < 8; k++) {
      const b = body.slice();
      new DataView(b.buffer).setUint32(countsAt + k * 4, 0xffffffff, true);
      expect(decodeListBody(b), `count ${k}`).toMatchObject({ ok: false });
    }
    const longHead = body.slice();
    new DataView(longHead.buffer).setUint32(0, 0xfffffff0, true);
    expect(decodeListBody(longHead)).toMatchObject({ ok: false, problems: [expect.stringMatching(/truncated/)] });
    const padded = new Uint8Array(body.length + 8);
    padded.set(body);
    expect(decodeListBody(padded)).toMatchObject({ ok: false, problems: [expect.stringMatching(/bytes left over/)] });
    // Altered bytes (a sender's bug: the signature holds): refused or read, never a crash.
    const next = random(20261206);
    let refused = 0;
    for (let k = 0; k < 3000; k++) {
      const b = body.slice();
      for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--)
        b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
      const d = decodeListBody(b);
      if (!d.ok) {
        refused++;
        expect(d.problems.length).toBeGreaterThan(0);
      }
    }
    expect(refused).toBeGreaterThan(1000);
  });

  it('refuses a message cut short, unsigned, altered or signed with a key not trusted', () => {
    const message = signListBody(encodeListBody(head(), columnsFromEntries(ALL_FIELDS)), 'central-1', keys.privateKey);
    expect(openSignedList(message, keys.trusted)).toMatchObject({ ok: true, keyId: 'central-1' });
    for (let n = 0; n < message.length; n++)
      expect(openSignedList(message.subarray(0, n), keys.trusted), `cut at ${n}`).toMatchObject({
        ok: false,
        reason: 'malformed',
      });
    const unsigned = Buffer.from(message);
    unsigned.fill(0, ...signatureRange(unsigned));
    expect(openSignedList(unsigned, keys.trusted)).toMatchObject({ ok: false, reason: 'unsigned' });
    const altered = Buffer.from(message);
    altered[altered.length - 1]! ^= 1;
    expect(openSignedList(altered, keys.trusted)).toMatchObject({
      ok: false,
      reason: 'forged',
      detail: expect.stringMatching(/signature does not verify with key "central-1"/),
    });
    expect(openSignedList(message, centralKeys('other').trusted)).toMatchObject({
      ok: false,
      reason: 'forged',
      detail: 'signed with key "central-1", which this lane does not trust (trusted: other)',
    });
    expect(openSignedList(Buffer.from('{"format":"checkpoint-edge.signed/1"}'), keys.trusted)).toMatchObject({
      ok: false,
      reason: 'malformed',
      detail: expect.stringMatching(/JSON form, which lanes no longer take/),
    });
  });
});
