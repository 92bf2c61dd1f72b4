import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsoleStore } from '../../../console/server/console-store.js';
import { boundPageCache, PAGE_CACHE_KIB } from '../../../core/sqlite-schema.js';
import { AlertLedger } from '../../../outputs/mqtt/alert-ledger.js';
import { SqliteOutbox } from '../../../outputs/mqtt/sqlite-outbox.js';
import { SqliteScanJournal } from '../../../pipeline/scan-journal.js';

describe('SQLite page cache bounds', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('a connection left to better-sqlite3 may cache 16,000 KiB; a bounded one what PAGE_CACHE_KIB says, without memory maps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'page-cache-'));
    dirs.push(dir);
    const db = new Database(join(dir, 'a.sqlite'));
    db.pragma('mmap_size = 1048576');
    expect(db.pragma('cache_size', { simple: true })).toBe(-16000);
    boundPageCache(db, 'open-scan journal');
    expect(db.pragma('cache_size', { simple: true })).toBe(-PAGE_CACHE_KIB['open-scan journal']);
    expect(db.pragma('mmap_size', { simple: true })).toBe(0);
    db.close();
  });

  it('every store bounds its own connection', () => {
    const dir = mkdtempSync(join(tmpdir(), 'page-cache-'));
    dirs.push(dir);
    const pragmas = vi.spyOn(Database.prototype, 'pragma');
    const sizes = () =>
      pragmas.mock.calls.map(([p]) => /^cache_size = (-\d+)$/.exec(String(p))?.[1]).filter((x) => x !== undefined);

    new SqliteOutbox({
      path: join(dir, 'outbox.sqlite'),
      laneId: 'lane-1',
      maxMessages: 10,
      synchronous: 'full',
    }).close();
    expect(sizes()).toEqual([`-${PAGE_CACHE_KIB['MQTT outbox']}`]);
    pragmas.mockClear();
    new AlertLedger({ path: join(dir, 'outbox.sqlite'), laneId: 'lane-1' }).close();
    expect(sizes()).toEqual([`-${PAGE_CACHE_KIB['MQTT alert ledger']}`]);
    pragmas.mockClear();
    new SqliteScanJournal({ path: join(dir, 'open-scans.sqlite'), laneId: 'lane-1' }).shut();
    expect(sizes()).toEqual([`-${PAGE_CACHE_KIB['open-scan journal']}`]);
    pragmas.mockClear();
    new ConsoleStore(join(dir, 'console.sqlite')).close();
    expect(sizes()).toEqual([`-${PAGE_CACHE_KIB.console}`]);
  });
});
