import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ListKeeper } from '../../../watchlist/list-keeper.js';
import { centralKeys, delta, entry, signed, snapshot } from '../../helpers/watchlist.js';

const central = centralKeys();
const NOW = Date.now();
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wl-keeper-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function keeper(maxBytes = 1024 * 1024): ListKeeper {
  const k = new ListKeeper({ keys: central.trusted, dir, maxBytes });
  k.load();
  return k;
}

const v1 = () => signed(snapshot('national', 1, [entry({ id: 'e1', plate: 'AB123' })]), central);
const hits = (k: ListKeeper, plate: string) =>
  k.lists.get('national')?.lookup({ kind: 'plate', value: plate }, NOW).length ?? 0;

describe('ListKeeper', () => {
  it('applies a signed snapshot and keeps it on disk for the next start', async () => {
    const k = keeper();
    expect(k.receive(v1())).toMatchObject({
      outcome: 'applied',
      listId: 'national',
      version: 1,
      kind: 'snapshot',
      entries: 1,
    });
    await k.flushed();
    const again = keeper();
    expect(again.held()).toEqual([{ listId: 'national', version: 1, entries: 1 }]);
    expect(hits(again, 'AB123')).toBe(1);
  });

  it('refuses a forged list (altered after signing, or signed by another key) and keeps the last good one', async () => {
    const k = keeper();
    k.receive(v1());
    const env = JSON.parse(signed(snapshot('national', 2, [entry({ id: 'e2', plate: 'ZZ999' })]), central).toString());
    env.body = env.body.replace('ZZ999', 'ZZ998');
    expect(k.receive(Buffer.from(JSON.stringify(env)))).toMatchObject({
      outcome: 'refused',
      reason: 'forged',
      detail: expect.stringMatching(/signature does not verify with key "central-test"/),
    });
    const impostor = centralKeys('central-test');
    expect(k.receive(signed(snapshot('national', 3, []), impostor))).toMatchObject({
      outcome: 'refused',
      reason: 'forged',
    });
    expect(k.receive(signed(snapshot('national', 3, []), centralKeys('other')))).toMatchObject({
      outcome: 'refused',
      reason: 'forged',
      detail: expect.stringMatching(/key "other", which this lane does not trust/),
    });
    expect(k.held()).toEqual([{ listId: 'national', version: 1, entries: 1 }]);
    expect(hits(k, 'AB123')).toBe(1);
    await k.flushed();
    expect(keeper().held()[0]!.version).toBe(1);
  });

  it('knows a message it applied when it comes again (retained, at every reconnection), also after a restart', async () => {
    const k = keeper();
    const s1 = v1();
    const d2 = signed(delta('national', 2, 1, [entry({ id: 'e2', plate: 'CD456' })]), central);
    k.receive(s1);
    k.receive(d2);
    // Not 'stale': the very message that built the version held.
    expect(k.receive(s1)).toEqual({ outcome: 'already-held', listId: 'national', version: 2 });
    expect(k.receive(d2)).toEqual({ outcome: 'already-held', listId: 'national', version: 2 });
    expect(k.receive(v1())).toMatchObject({ outcome: 'refused', reason: 'stale' }); // another v1
    await k.flushed();
    const again = keeper();
    expect(again.receive(s1)).toEqual({ outcome: 'already-held', listId: 'national', version: 2 });
    expect(again.receive(d2)).toEqual({ outcome: 'already-held', listId: 'national', version: 2 });
  });

  it('refuses an unsigned list', () => {
    const k = keeper();
    const env = JSON.parse(v1().toString());
    delete env.signature;
    expect(k.receive(Buffer.from(JSON.stringify(env)))).toMatchObject({ outcome: 'refused', reason: 'unsigned' });
    expect(k.receive(Buffer.from(JSON.stringify(snapshot('national', 1, []))))).toMatchObject({
      outcome: 'refused',
      reason: 'malformed',
    });
    expect(k.held()).toEqual([]);
  });

  it('refuses a stale version (older than the one held)', () => {
    const k = keeper();
    k.receive(signed(snapshot('national', 5, [entry({ id: 'e1', plate: 'AB123' })]), central));
    expect(k.receive(v1())).toMatchObject({
      outcome: 'refused',
      reason: 'stale',
      detail: 'list national v1 is older than v5, which this lane holds',
    });
    expect(k.receive(signed(snapshot('national', 5, []), central))).toEqual({
      outcome: 'already-held',
      listId: 'national',
      version: 5,
    });
    expect(hits(k, 'AB123')).toBe(1);
  });

  it('refuses a truncated message and an oversized one, unread', () => {
    const k = keeper(2000);
    k.receive(v1());
    const whole = signed(snapshot('national', 2, [entry({ id: 'e2', plate: 'CD456' })]), central);
    expect(k.receive(whole.subarray(0, whole.length - 10))).toMatchObject({
      outcome: 'refused',
      reason: 'malformed',
      detail: expect.stringMatching(/not JSON, e.g. truncated/),
    });
    const big = signed(
      snapshot(
        'national',
        2,
        Array.from({ length: 40 }, (_, i) => entry({ id: `b${i}`, plate: `BIG${i}` })),
      ),
      central,
    );
    expect(k.receive(big)).toMatchObject({
      outcome: 'refused',
      reason: 'oversized',
      detail: expect.stringMatching(/^\d+ bytes, more than watchlist.maxBytes \(2000\)/),
    });
    expect(k.held()).toEqual([{ listId: 'national', version: 1, entries: 1 }]);
  });

  it('refuses a signed version whose entries are invalid (e.g. a container code with a wrong check digit)', () => {
    const k = keeper();
    const r = k.receive(signed(snapshot('national', 1, [entry({ id: 'c', containerCode: 'CSQU3054384' })]), central));
    expect(r).toMatchObject({
      outcome: 'refused',
      reason: 'malformed',
      detail: expect.stringMatching(/entries\.0\.containerCode: "CSQU3054384" has check digit 4/),
    });
  });

  it('applies deltas in order, keeps one that arrives before its base until the base comes, and restores snapshot + deltas from disk', async () => {
    const k = keeper();
    k.receive(v1());
    const d3 = signed(delta('national', 3, 2, [entry({ id: 'e3', plate: 'EF789' })]), central);
    expect(k.receive(d3)).toMatchObject({ outcome: 'waiting', version: 3, baseVersion: 2, held: 1 });
    expect(
      k.receive(
        signed(
          snapshot('national', 2, [entry({ id: 'e1', plate: 'AB123' }), entry({ id: 'e2', plate: 'CD456' })]),
          central,
        ),
      ),
    ).toMatchObject({ outcome: 'applied', version: 2 });
    expect(k.held()).toEqual([{ listId: 'national', version: 3, entries: 3 }]);
    expect(k.receive(signed(delta('national', 4, 3, [], ['e1']), central))).toMatchObject({
      outcome: 'applied',
      kind: 'delta',
      version: 4,
      entries: 2,
    });
    await k.flushed();
    const again = keeper();
    expect(again.held()).toEqual([{ listId: 'national', version: 4, entries: 2 }]);
    expect(hits(again, 'AB123')).toBe(0);
    expect(hits(again, 'EF789')).toBe(1);
  });

  it('does not use a last good version on disk that no longer verifies', async () => {
    const k = keeper();
    k.receive(v1());
    await k.flushed();
    const file = join(dir, 'national.snapshot.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('AB123', 'AB124'));
    const again = new ListKeeper({ keys: central.trusted, dir, maxBytes: 1 << 20 });
    const { loaded, problems } = again.load();
    expect(loaded).toEqual([]);
    expect(problems[0]).toMatch(/national\.snapshot\.json: forged: signature does not verify/);
  });
});
