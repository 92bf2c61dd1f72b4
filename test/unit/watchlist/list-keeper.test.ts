import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signatureRange } from '../../../core/watchlist/list-binary.js';
import { ListKeeper } from '../../../watchlist/list-keeper.js';
import { centralKeys, delta, entry, signed, snapshot } from '../../helpers/watchlist.js';

const central = centralKeys();
const NOW = Date.now();
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wl-keeper-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function keeper(maxBytes = 1024 * 1024): Promise<ListKeeper> {
  const k = new ListKeeper({ keys: central.trusted, dir, maxBytes });
  await k.load();
  return k;
}

const v1 = () => signed(snapshot('national', 1, [entry({ id: 'e1', plate: 'AB123' })]), central);
/** The message with `from` replaced by `to` (same length) where it first occurs: altered after signing. */
function altered(message: Buffer, from: string, to: string): Buffer {
  const out = Buffer.from(message);
  const at = out.indexOf(from, 0, 'latin1');
  expect(at).toBeGreaterThan(0);
  out.write(to, at, 'latin1');
  return out;
}

const hits = (k: ListKeeper, plate: string) =>
  k.lists.get('national')?.lookup({ kind: 'plate', value: plate }, NOW).length ?? 0;

describe('ListKeeper', () => {
  it('applies a signed snapshot and keeps it on disk for the next start', async () => {
    const k = await keeper();
    expect(await k.receive(v1())).toMatchObject({
      outcome: 'applied',
      listId: 'national',
      version: 1,
      kind: 'snapshot',
      entries: 1,
    });
    await k.flushed();
    const again = await keeper();
    expect(again.held()).toEqual([{ listId: 'national', version: 1, entries: 1 }]);
    expect(hits(again, 'AB123')).toBe(1);
  });

  it('refuses a forged list (altered after signing, or signed by another key) and keeps the last good one', async () => {
    const k = await keeper();
    await k.receive(v1());
    const forged = altered(
      signed(snapshot('national', 2, [entry({ id: 'e2', plate: 'ZZ999' })]), central),
      'ZZ999',
      'ZZ998',
    );
    expect(await k.receive(forged)).toMatchObject({
      outcome: 'refused',
      reason: 'forged',
      detail: expect.stringMatching(/signature does not verify with key "central-test"/),
    });
    const impostor = centralKeys('central-test');
    expect(await k.receive(signed(snapshot('national', 3, []), impostor))).toMatchObject({
      outcome: 'refused',
      reason: 'forged',
    });
    expect(await k.receive(signed(snapshot('national', 3, []), centralKeys('other')))).toMatchObject({
      outcome: 'refused',
      reason: 'forged',
      detail: expect.stringMatching(/key "other", which this lane does not trust/),
    });
    expect(k.held()).toEqual([{ listId: 'national', version: 1, entries: 1 }]);
    expect(hits(k, 'AB123')).toBe(1);
    await k.flushed();
    expect((await keeper()).held()[0]!.version).toBe(1);
  });

  it('knows a message it applied when it comes again (retained, at every reconnection), also after a restart', async () => {
    const k = await keeper();
    const s1 = v1();
    const d2 = signed(delta('national', 2, 1, [entry({ id: 'e2', plate: 'CD456' })]), central);
    await k.receive(s1);
    await k.receive(d2);
    // Not 'stale': the very message that built the version held.
    expect(await k.receive(s1)).toEqual({ outcome: 'already-held', listId: 'national', version: 2 });
    expect(await k.receive(d2)).toEqual({ outcome: 'already-held', listId: 'national', version: 2 });
    // Another v1: its own entry, so that it differs from s1 even when both are issued in the same millisecond.
    const otherV1 = signed(snapshot('national', 1, [entry({ id: 'e9', plate: 'ZZ999' })]), central);
    expect(await k.receive(otherV1)).toMatchObject({ outcome: 'refused', reason: 'stale' });
    await k.flushed();
    const again = await keeper();
    expect(await again.receive(s1)).toEqual({ outcome: 'already-held', listId: 'national', version: 2 });
    expect(await again.receive(d2)).toEqual({ outcome: 'already-held', listId: 'national', version: 2 });
  });

  it('refuses an unsigned list', async () => {
    const k = await keeper();
    const unsigned = v1();
    unsigned.fill(0, ...signatureRange(unsigned));
    expect(await k.receive(unsigned)).toMatchObject({ outcome: 'refused', reason: 'unsigned' });
    // The JSON form of a version is not a message the lane takes.
    expect(await k.receive(Buffer.from(JSON.stringify(snapshot('national', 1, []))))).toMatchObject({
      outcome: 'refused',
      reason: 'malformed',
      detail: expect.stringMatching(/not a signed list message.*JSON form/),
    });
    expect(k.held()).toEqual([]);
  });

  it('refuses a stale version (older than the one held)', async () => {
    const k = await keeper();
    await k.receive(signed(snapshot('national', 5, [entry({ id: 'e1', plate: 'AB123' })]), central));
    expect(await k.receive(v1())).toMatchObject({
      outcome: 'refused',
      reason: 'stale',
      detail: 'list national v1 is older than v5, which this lane holds',
    });
    expect(await k.receive(signed(snapshot('national', 5, []), central))).toEqual({
      outcome: 'already-held',
      listId: 'national',
      version: 5,
    });
    expect(hits(k, 'AB123')).toBe(1);
  });

  it('refuses a truncated message and an oversized one, unread', async () => {
    const k = await keeper(2000);
    await k.receive(v1());
    const whole = signed(snapshot('national', 2, [entry({ id: 'e2', plate: 'CD456' })]), central);
    // Cut anywhere: refused as malformed, before the signature is checked.
    for (let n = 0; n < whole.length; n += 7) {
      expect(await k.receive(whole.subarray(0, n))).toMatchObject({
        outcome: 'refused',
        reason: 'malformed',
        detail: expect.stringMatching(n < 8 ? /not a signed list message/ : /truncated/),
      });
    }
    const big = signed(
      snapshot(
        'national',
        2,
        Array.from({ length: 40 }, (_, i) => entry({ id: `b${i}`, plate: `BIG${i}` })),
      ),
      central,
    );
    expect(await k.receive(big)).toMatchObject({
      outcome: 'refused',
      reason: 'oversized',
      detail: expect.stringMatching(/^\d+ bytes, more than watchlist.maxBytes \(2000\)/),
    });
    expect(k.held()).toEqual([{ listId: 'national', version: 1, entries: 1 }]);
  });

  it('refuses a signed version whose entries are invalid (e.g. a container code with a wrong check digit)', async () => {
    const k = await keeper();
    const r = await k.receive(
      signed(snapshot('national', 1, [entry({ id: 'c', containerCode: 'CSQU3054384' })]), central),
    );
    expect(r).toMatchObject({
      outcome: 'refused',
      reason: 'malformed',
      detail: expect.stringMatching(/entries\.0\.containerCode: "CSQU3054384" has check digit 4/),
    });
  });

  it('applies deltas in order, keeps one that arrives before its base until the base comes, and restores snapshot + deltas from disk', async () => {
    const k = await keeper();
    await k.receive(v1());
    const d3 = signed(delta('national', 3, 2, [entry({ id: 'e3', plate: 'EF789' })]), central);
    expect(await k.receive(d3)).toMatchObject({ outcome: 'waiting', version: 3, baseVersion: 2, held: 1 });
    expect(
      await k.receive(
        signed(
          snapshot('national', 2, [entry({ id: 'e1', plate: 'AB123' }), entry({ id: 'e2', plate: 'CD456' })]),
          central,
        ),
      ),
    ).toMatchObject({ outcome: 'applied', version: 2 });
    expect(k.held()).toEqual([{ listId: 'national', version: 3, entries: 3 }]);
    expect(await k.receive(signed(delta('national', 4, 3, [], ['e1']), central))).toMatchObject({
      outcome: 'applied',
      kind: 'delta',
      version: 4,
      entries: 2,
    });
    await k.flushed();
    const again = await keeper();
    expect(again.held()).toEqual([{ listId: 'national', version: 4, entries: 2 }]);
    expect(hits(again, 'AB123')).toBe(0);
    expect(hits(again, 'EF789')).toBe(1);
  });

  it('does not use a last good version on disk that no longer verifies', async () => {
    const k = await keeper();
    await k.receive(v1());
    await k.flushed();
    const file = join(dir, 'national.snapshot.bin');
    writeFileSync(file, altered(readFileSync(file), 'AB123', 'AB124'));
    const again = new ListKeeper({ keys: central.trusted, dir, maxBytes: 1 << 20 });
    const { loaded, problems } = await again.load();
    expect(loaded).toEqual([]);
    expect(problems[0]).toMatch(/national\.snapshot\.bin: forged: signature does not verify/);
  });

  it('opens a large message in a worker thread: lookups go on against the version held until the new one replaces it', async () => {
    const k = new ListKeeper({ keys: central.trusted, dir, maxBytes: 64 << 20, offThreadBytes: 64 * 1024 });
    await k.load();
    await k.receive(v1());
    const many = Array.from({ length: 5000 }, (_, i) =>
      entry({ id: `n${i}`, plate: `NEW${String(i).padStart(5, '0')}`, note: 'x'.repeat(40) }),
    );
    const big = signed(snapshot('national', 2, many), central);
    expect(big.length).toBeGreaterThan(64 * 1024);
    // While the worker works, this thread goes on: the timer ticks, and lookups see v1.
    let ticks = 0;
    const seen: number[] = [];
    const timer = setInterval(() => {
      ticks++;
      seen.push(k.lists.get('national')!.version);
    }, 1);
    const applied = await k.receive(big);
    clearInterval(timer);
    expect(applied).toMatchObject({ outcome: 'applied', kind: 'snapshot', version: 2, entries: 5000 });
    expect(ticks).toBeGreaterThan(0);
    expect(seen.every((v) => v === 1)).toBe(true);
    expect(hits(k, 'AB123')).toBe(0);
    expect(hits(k, 'NEW00042')).toBe(1);
    expect(k.lists.get('national')!.lookup({ kind: 'plate', value: 'NEW00O42' }, NOW)).toMatchObject([
      { entry: { id: 'n42', plate: 'NEW00042', note: 'x'.repeat(40), covert: false }, score: 0.8 },
    ]);
    // Retained again at a reconnection: known by the digest the worker gives first, not read again.
    expect(await k.receive(big)).toEqual({ outcome: 'already-held', listId: 'national', version: 2 });
    // A forged large message is refused in the worker too, and the list held is unchanged.
    const forged = altered(big, 'NEW00042', 'NEW00043');
    expect(await k.receive(forged)).toMatchObject({ outcome: 'refused', reason: 'forged' });
    expect(k.lists.get('national')!.version).toBe(2);
    // And it is read back from disk through the worker as well.
    await k.flushed();
    const again = new ListKeeper({ keys: central.trusted, dir, maxBytes: 64 << 20, offThreadBytes: 64 * 1024 });
    expect((await again.load()).loaded).toEqual([{ listId: 'national', version: 2, entries: 5000 }]);
    await Promise.all([k.close(), again.close()]);
  });

  it('opens one large message after another in its worker thread (started at load()), and takes none once closed', async () => {
    const k = new ListKeeper({
      keys: central.trusted,
      dir,
      maxBytes: 64 << 20,
      offThreadBytes: 1024,
      warmThread: true,
    });
    await k.load();
    await k.threadReady();
    const list = (v: number) =>
      signed(
        snapshot(
          'national',
          v,
          Array.from({ length: 200 }, (_, i) => entry({ id: `w${v}-${i}`, plate: `WV${v}X${i}` })),
        ),
        central,
      );
    for (let v = 1; v <= 4; v++)
      expect(await k.receive(list(v))).toMatchObject({ outcome: 'applied', version: v, entries: 200 });
    expect(hits(k, 'WV4X199')).toBe(1);
    expect(hits(k, 'WV3X199')).toBe(0);
    await k.close();
    await expect(k.receive(list(5))).rejects.toThrow(/the list keeper is closed/);
  });

  it("warmThread 'large-lists' starts the thread at load() only when a list held on disk is large", async () => {
    const options = {
      keys: central.trusted,
      dir,
      maxBytes: 64 << 20,
      offThreadBytes: 1024,
      warmThread: 'large-lists' as const,
    };
    const small = new ListKeeper(options);
    await small.load();
    expect(small.threadStarted).toBe(false);
    const large = signed(
      snapshot(
        'national',
        1,
        Array.from({ length: 200 }, (_, i) => entry({ id: `l-${i}`, plate: `LL${i}` })),
      ),
      central,
    );
    expect(await small.receive(large)).toMatchObject({ outcome: 'applied', entries: 200 });
    expect(small.threadStarted).toBe(true); // started by the large message
    await small.flushed();
    await small.close();
    const restarted = new ListKeeper(options);
    await restarted.load();
    expect(restarted.threadStarted).toBe(true);
    await restarted.close();
  });
});
