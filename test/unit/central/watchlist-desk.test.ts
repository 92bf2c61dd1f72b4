import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CentralStore } from '../../../central/store/central-store.js';
import { openPgliteDriver } from '../../../central/store/pglite-driver.js';
import { WatchlistDesk, WatchlistInputError } from '../../../central/watchlist/watchlist-desk.js';
import { silentLogger } from '../../../core/logger.js';
import type { AlertPayload } from '../../../core/mqtt-payloads.js';
import { readListMessage } from '../../../core/watchlist/list-binary.js';
import { centralKeys, entry } from '../../helpers/watchlist.js';

// Central's watchlist desk on the embedded store: edits, CSV import, expiry, signed publication,
// hits with their verification, and the audit of each.
const keys = centralKeys('central-desk');
let store: CentralStore;
let desk: WatchlistDesk;
const published: { topic: string; payload: Buffer }[] = [];

beforeAll(async () => {
  store = new CentralStore(await openPgliteDriver({ memory: true }));
  await store.migrate();
  desk = new WatchlistDesk({
    store,
    prefix: 'checkpoint',
    signer: { keyId: keys.keyId, privateKey: keys.privateKey },
    publishRetained: async (topic, payload) => void published.push({ topic, payload: Buffer.from(payload) }),
    log: silentLogger(),
  });
}, 60_000);
afterAll(async () => store?.db.close());

describe('WatchlistDesk', () => {
  it('creates and edits entries, refusing an invalid one with the field named', async () => {
    await desk.putEntry('national', entry({ id: 'p1', plate: 'B-AB 1234', country: 'DE' }), 'sue');
    await desk.putEntry(
      'national',
      entry({ id: 'p1', plate: 'B-AB 1234', country: 'DE', action: 'inform central' }),
      'sue',
    );
    await expect(desk.putEntry('national', entry({ id: 'c1', containerCode: 'CSQU3054384' }), 'sue')).rejects.toThrow(
      'entry not saved: entry.containerCode: "CSQU3054384" has check digit 4, ISO 6346 gives 3: a misread or mistyped code',
    );
    const rows = await desk.entries('national');
    expect(rows.map((r) => [r.entry.id, r.entry.plate, r.entry.action, r.updatedBy])).toEqual([
      ['p1', 'BAB1234', 'inform central', 'sue'],
    ]);
  });

  it('imports CSV whole or not at all', async () => {
    const bad =
      'id,plate,country,category,action,priority,source\nq1,AB 1,DE,stolen-vehicle,stop,1,police\nq2,AB 2,,stolen-vehicle,stop,1,police\n';
    await expect(desk.importCsv('national', bad, 'sue')).rejects.toThrow(
      /nothing imported: line 3\.country: a plate needs its issuing country/,
    );
    expect((await desk.entries('national')).length).toBe(1);
    const good =
      'id,plate,country,containerCode,category,action,priority,source,covert\nq1,AB 1,DE,,stolen-vehicle,stop and search,1,police,false\nc1,,,CSQU 305438 3,smuggling,stop and search,2,customs,\nk1,SC 9,DE,,surveillance,discreet check,1,police,true\n';
    expect(await desk.importCsv('national', good, 'sue')).toEqual({ imported: 3 });
    expect((await desk.entries('national')).map((r) => r.entry.id)).toEqual(['c1', 'k1', 'p1', 'q1']);
  });

  it('expires an entry now', async () => {
    const e = await desk.expire('national', 'q1', 'sue');
    expect(Date.parse(e.expiresAt!)).toBeLessThanOrEqual(Date.now());
    await expect(desk.expire('national', 'nope', 'sue')).rejects.toBeInstanceOf(WatchlistInputError);
  });

  it('publishes the list signed as the next version, retained, and clears the retained delta', async () => {
    const first = await desk.publish('national', 'sam');
    const second = await desk.publish('national', 'sam');
    expect([first.version, second.version]).toEqual([1, 2]);
    expect(published.map((p) => p.topic)).toEqual([
      'checkpoint/watchlist/national/snapshot',
      'checkpoint/watchlist/national/delta',
      'checkpoint/watchlist/national/snapshot',
      'checkpoint/watchlist/national/delta',
    ]);
    expect(published[1]!.payload.length).toBe(0);
    const opened = readListMessage(published[2]!.payload, keys.trusted);
    expect(opened.ok).toBe(true);
    expect(
      opened.ok &&
        opened.version.kind === 'snapshot' &&
        opened.version.version === 2 &&
        opened.version.entries.map((e) => e.id),
    ).toEqual(['c1', 'k1', 'p1', 'q1']);
    const [list] = await desk.lists();
    expect(list).toMatchObject({
      listId: 'national',
      entries: 4,
      publishedVersion: 2,
      publishedBy: 'sam',
      changedSince: 0,
    });
  });

  it("lists the lanes' hits and records their verification; every change is audited", async () => {
    const hit = {
      schemaVersion: 1,
      messageId: 'h1',
      alertId: 'h1',
      scanId: 'S1',
      siteId: 'site-a',
      laneId: 'lane-1',
      raisedAt: new Date().toISOString(),
      kind: 'watchlist',
      severity: 'critical',
      score: 1,
      regions: [],
      message: 'Watchlist national: …',
      evidence: [],
      watchlist: {
        listId: 'national',
        listVersion: 2,
        score: 1,
        entry: {
          id: 'k1',
          plate: 'SC9',
          country: 'DE',
          category: 'surveillance',
          action: 'discreet check',
          priority: 1,
          source: 'police',
          covert: true,
        },
        read: { value: 'SC 9', kind: 'plate', confidence: 0.9, at: new Date().toISOString(), via: 'anpr' },
      },
    } as AlertPayload;
    expect(await store.ingestAlert(hit)).toBe(true);
    await desk.verify('site-a', 'lane-1', 'h1', 'misread', 'plate on the picture is SC 8', 'ann');
    await expect(desk.verify('site-a', 'lane-1', 'h1', 'maybe', null, 'ann')).rejects.toThrow(
      'outcome must be confirmed or misread',
    );
    const [row] = await desk.hits();
    expect(row).toMatchObject({
      alertId: 'h1',
      outcome: 'misread',
      verifiedBy: 'ann',
      note: 'plate on the picture is SC 8',
      payload: { watchlist: { entry: { covert: true } } },
    });
    const audit = (await store.auditLog(100)) as { actor: string; action: string; target: string }[];
    expect(audit.map((a) => `${a.actor} ${a.action} ${a.target}`).sort()).toEqual([
      'ann watchlist-hit-verified site-a/lane-1/h1',
      'sam watchlist-published national',
      'sam watchlist-published national',
      'sue watchlist-entry-expired national/q1',
      'sue watchlist-entry-set national/p1',
      'sue watchlist-entry-set national/p1',
      'sue watchlist-imported national',
    ]);
  });
});
