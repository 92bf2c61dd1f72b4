import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateSchema, migrationLine, SchemaTooNewError, schemaVersion } from '../../../core/sqlite-schema.js';
import { ConsoleStore } from '../../../console/server/console-store.js';
import { SqliteOutbox } from '../../../outputs/mqtt/sqlite-outbox.js';
import { AlertLedger } from '../../../outputs/mqtt/alert-ledger.js';
import { SqliteScanJournal } from '../../../pipeline/scan-journal.js';

const V1 = {
  version: 1,
  name: 'things table',
  up: (db: Database.Database) => db.exec('CREATE TABLE IF NOT EXISTS things (a TEXT)'),
};
const V2 = {
  version: 2,
  name: 'things.b',
  up: (db: Database.Database) => db.exec('ALTER TABLE things ADD COLUMN b TEXT'),
};

describe('SQLite schema versions', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const file = (name: string) => {
    const d = mkdtempSync(join(tmpdir(), 'schema-'));
    dirs.push(d);
    return join(d, name);
  };

  it('runs the migrations a file has not had, once, and says which', () => {
    const db = new Database(':memory:');
    const first = migrateSchema(db, 'things', 'mem', [V1]);
    expect(first).toMatchObject({ from: 0, to: 1, ran: ['1 (things table)'] });
    db.prepare('INSERT INTO things (a) VALUES (?)').run('kept');
    const second = migrateSchema(db, 'things', 'mem', [V1, V2]);
    expect(migrationLine(second)).toBe('things database mem: schema migrated from version 1 to 2: 2 (things.b)');
    expect(migrateSchema(db, 'things', 'mem', [V1, V2]).ran).toEqual([]);
    expect(db.prepare('SELECT a, b FROM things').all()).toEqual([{ a: 'kept', b: null }]);
  });

  it('rolls a failing migration back and keeps the version where it was', () => {
    const db = new Database(':memory:');
    migrateSchema(db, 'things', 'mem', [V1]);
    const bad = {
      version: 2,
      name: 'bad',
      up: (d: Database.Database) => d.exec('ALTER TABLE things ADD COLUMN c TEXT; SELECT * FROM nowhere'),
    };
    expect(() => migrateSchema(db, 'things', 'mem', [V1, bad])).toThrow(/nowhere/);
    expect(schemaVersion(db, 'things')).toBe(1);
    expect(
      (db.prepare("SELECT name FROM pragma_table_info('things')").all() as { name: string }[]).map((c) => c.name),
    ).toEqual(['a']);
  });

  it('adopts a file from before versions were kept: the outbox and the ledger share it', () => {
    const path = file('outbox.sqlite');
    const legacy = new Database(path);
    legacy.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, lane TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('alert', 'scan', 'event')), id TEXT NOT NULL, topic TEXT NOT NULL,
      payload TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (lane, kind, id));
      INSERT INTO outbox (lane, kind, id, topic, payload, created_at) VALUES ('l1', 'alert', 'a1', 't', '{}', '2026-01-01');`);
    legacy.close();
    const outbox = new SqliteOutbox({ path, laneId: 'l1', maxMessages: 10, synchronous: 'full' });
    const ledger = new AlertLedger({ path, laneId: 'l1' });
    expect(outbox.schema).toMatchObject({ store: 'MQTT outbox', from: 0, to: 1 });
    expect(ledger.schema).toMatchObject({ store: 'MQTT alert ledger', from: 0, to: 1 });
    expect(outbox.depth()).toMatchObject({ alerts: 1 });
    outbox.close();
    ledger.close();
  });

  it('refuses a file a newer release migrated, naming the store, the file and both versions, and leaves it as it was', () => {
    const cases: [string, (path: string) => () => void, string][] = [
      [
        'outbox.sqlite',
        (path) => {
          const o = new SqliteOutbox({ path, laneId: 'l1', maxMessages: 10, synchronous: 'full' });
          return () => o.close();
        },
        'MQTT outbox',
      ],
      [
        'ledger.sqlite',
        (path) => {
          const l = new AlertLedger({ path, laneId: 'l1' });
          return () => l.close();
        },
        'MQTT alert ledger',
      ],
      [
        'open-scans.sqlite',
        (path) => {
          const j = new SqliteScanJournal({ path, laneId: 'l1' });
          return () => j.shut();
        },
        'open-scan journal',
      ],
      [
        'console.sqlite',
        (path) => {
          const c = new ConsoleStore(path);
          return () => c.close();
        },
        'console',
      ],
    ];
    for (const [name, open, store] of cases) {
      const path = file(name);
      open(path)();
      const db = new Database(path);
      db.prepare('UPDATE schema_versions SET version = 99 WHERE store = ?').run(store);
      db.close();
      let err: unknown;
      try {
        open(path);
      } catch (e) {
        err = e;
      }
      expect(err, store).toBeInstanceOf(SchemaTooNewError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `^${store} database ${path} is at schema version 99, but this release knows versions up to \\d+: a newer release has migrated it`,
        ),
      );
      const after = new Database(path);
      expect(schemaVersion(after, store)).toBe(99);
      after.close();
    }
  });
});
