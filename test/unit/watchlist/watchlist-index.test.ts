import { describe, expect, it } from 'vitest';
import { parseWatchlistVersion, type WatchlistSnapshot } from '../../../core/watchlist/list-format.js';
import { WatchlistIndex } from '../../../watchlist/watchlist-index.js';
import { delta, entry, snapshot } from '../../helpers/watchlist.js';

function index(entries: Parameters<typeof snapshot>[2]): WatchlistIndex {
  const p = parseWatchlistVersion(snapshot('national', 1, entries));
  if (!p.ok) throw new Error(p.problems.join('; '));
  return WatchlistIndex.fromSnapshot(p.version as WatchlistSnapshot);
}

const NOW = Date.parse('2026-06-01T12:00:00Z');

describe('WatchlistIndex', () => {
  it('matches a plate however it is spaced, exactly (1) and within one confusable character (0.8)', () => {
    const ix = index([entry({ id: 'e1', plate: 'B-AB 1234', country: 'DE' })]);
    expect(ix.lookup({ kind: 'plate', value: 'bab1234' }, NOW).map((m) => [m.entry.id, m.score])).toEqual([['e1', 1]]);
    expect(ix.lookup({ kind: 'plate', value: '8 AB 1234' }, NOW).map((m) => m.score)).toEqual([0.8]);
    expect(ix.lookup({ kind: 'plate', value: 'BA8 1234' }, NOW).map((m) => m.score)).toEqual([0.8]);
    expect(ix.lookup({ kind: 'plate', value: '8A8 1234' }, NOW)).toEqual([]); // two confusions
    expect(ix.lookup({ kind: 'plate', value: 'BAB 1235' }, NOW)).toEqual([]);
    expect(ix.lookup({ kind: 'container', value: 'BAB1234' }, NOW)).toEqual([]); // a plate entry is not a container
  });

  it('does not match a plate of another issuing country when the read names one', () => {
    const ix = index([entry({ id: 'e1', plate: 'AB123', country: 'DE' })]);
    expect(ix.lookup({ kind: 'plate', value: 'AB123', country: 'FR' }, NOW)).toEqual([]);
    expect(ix.lookup({ kind: 'plate', value: 'AB123', country: 'DE' }, NOW)).toHaveLength(1);
  });

  it('never matches an expired or not yet effective entry', () => {
    const ix = index([
      entry({ id: 'old', plate: 'OLD1', expiresAt: '2026-05-31T00:00:00Z' }),
      entry({ id: 'soon', plate: 'SOON1', effectiveFrom: '2026-06-02T00:00:00Z' }),
      entry({ id: 'now', plate: 'NOW1', effectiveFrom: '2026-05-01T00:00:00Z', expiresAt: '2026-07-01T00:00:00Z' }),
    ]);
    expect(ix.lookup({ kind: 'plate', value: 'OLD1' }, NOW)).toEqual([]);
    expect(ix.lookup({ kind: 'plate', value: 'SOON1' }, NOW)).toEqual([]);
    expect(ix.lookup({ kind: 'plate', value: 'SOON1' }, Date.parse('2026-06-02T00:00:00Z'))).toHaveLength(1);
    expect(ix.lookup({ kind: 'plate', value: 'NOW1' }, NOW)).toHaveLength(1);
    expect(ix.lookup({ kind: 'plate', value: 'NOW1' }, Date.parse('2026-07-01T00:00:00Z'))).toEqual([]); // expiry is exclusive
  });

  it('matches container codes, and lists several matches by priority', () => {
    const ix = index([
      entry({ id: 'c1', containerCode: 'CSQU 305438 3', priority: 3 }),
      entry({ id: 'c2', containerCode: 'CSQU3054383', priority: 1, category: 'smuggling' }),
    ]);
    expect(ix.lookup({ kind: 'container', value: 'CSQU3054383' }, NOW).map((m) => m.entry.id)).toEqual(['c2', 'c1']);
  });

  it('applies a delta: upserts replace by id, removals remove', () => {
    const ix = index([entry({ id: 'e1', plate: 'AA1' }), entry({ id: 'e2', plate: 'BB2' })]);
    const p = parseWatchlistVersion(delta('national', 2, 1, [entry({ id: 'e1', plate: 'CC3' })], ['e2']));
    if (!p.ok || p.version.kind !== 'delta') throw new Error('bad delta');
    ix.apply(p.version);
    expect(ix.version).toBe(2);
    expect(ix.size).toBe(1);
    expect(ix.lookup({ kind: 'plate', value: 'AA1' }, NOW)).toEqual([]);
    expect(ix.lookup({ kind: 'plate', value: 'BB2' }, NOW)).toEqual([]);
    expect(ix.lookup({ kind: 'plate', value: 'CC3' }, NOW)).toHaveLength(1);
  });
});

describe('list versions', () => {
  it('refuse an invalid container check digit, a plate without country and an entry with both or neither, naming the field', () => {
    const p = parseWatchlistVersion(
      snapshot('national', 1, [
        entry({ id: 'a', containerCode: 'CSQU3054384' }),
        { id: 'b', plate: 'AB1', category: 'x', action: 'y', priority: 1, source: 'z' },
        entry({ id: 'c', containerCode: 'CSQU3054383', plate: 'AB1', country: 'DE' }),
      ]),
    );
    expect(p.ok).toBe(false);
    if (p.ok) return;
    expect(p.problems).toContain(
      'entries.0.containerCode: "CSQU3054384" has check digit 4, ISO 6346 gives 3: a misread or mistyped code',
    );
    expect(p.problems).toContain('entries.1.country: a plate needs its issuing country (e.g. DE)');
    expect(p.problems).toContain('entries.2: an entry has a plate or a containerCode (one of the two)');
  });
});
