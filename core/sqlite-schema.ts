import type Database from 'better-sqlite3';

/**
 * Versioned schemas for the edge's SQLite stores (outbox, alert ledger, open-scan journal,
 * console). Each store numbers its migrations 1, 2, 3…; the version a file is at is kept per
 * store in the table schema_versions (two stores can share one file: the outbox and the alert
 * ledger do). Opening a store runs the migrations the file has not had yet, each in a
 * transaction with its version bump, and reports which ran, for the log.
 *
 * A file at a version above the newest this release knows was migrated by a newer release (a
 * rollback after an upgrade): it is refused with SchemaTooNewError instead of being written
 * with a schema the older code does not understand.
 *
 * Migration 1 of every store is the schema as it was before versions were kept, written with
 * IF NOT EXISTS, so a file from such a release is adopted as it is.
 */

export interface SchemaMigration {
  version: number;
  /** What it changes, for the log: "outbox table and indexes". */
  name: string;
  up(db: Database.Database): void;
}

export interface SchemaReport {
  store: string;
  path: string;
  from: number;
  to: number;
  /** One line per migration that ran: "1 (outbox table and indexes)". */
  ran: string[];
}

export class SchemaTooNewError extends Error {
  constructor(
    readonly store: string,
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `${store} database ${path} is at schema version ${found}, but this release knows versions up to ${known}: a newer release has migrated it. It is not opened, so that nothing in it is damaged. Go forward again to that release (checkpoint-edge rollback switches back, or upgrade), or, to start this store empty, stop the service and move the file aside`,
    );
    this.name = 'SchemaTooNewError';
  }
}

/**
 * The page cache each store's connection may keep, in KiB. better-sqlite3 builds SQLite with a
 * default of 16,000 KiB per connection, which a connection fills as its file grows: over months
 * some 60 MiB per lane in the edge's four stores. Their working sets are small (the outbox and
 * the journal hold what is not yet delivered or decided; the console reads recent history), so
 * each is bounded here; the operating system's file cache serves the rest (docs/deployment.md,
 * memory).
 */
export const PAGE_CACHE_KIB = {
  'MQTT outbox': 1024,
  'MQTT alert ledger': 1024,
  'open-scan journal': 512,
  console: 2048,
} as const;

/** Bounds a store's page cache to PAGE_CACHE_KIB and keeps files out of memory maps (mmap_size 0). */
export function boundPageCache(db: Database.Database, store: keyof typeof PAGE_CACHE_KIB): void {
  db.pragma(`cache_size = -${PAGE_CACHE_KIB[store]}`);
  db.pragma('mmap_size = 0');
}

/** The newest version a list of migrations reaches. */
export function latestVersion(migrations: readonly SchemaMigration[]): number {
  return migrations.reduce((n, m) => Math.max(n, m.version), 0);
}

/** The version of `store` in an open database (0: never migrated). */
export function schemaVersion(db: Database.Database, store: string): number {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'").get();
  if (!has) return 0;
  const row = db.prepare('SELECT version FROM schema_versions WHERE store = ?').get(store) as
    | { version: number }
    | undefined;
  return row?.version ?? 0;
}

/** Brings `store` in `db` to the newest version, or refuses a file a newer release migrated. */
export function migrateSchema(
  db: Database.Database,
  store: string,
  path: string,
  migrations: readonly SchemaMigration[],
): SchemaReport {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${store}: migrations must be numbered 1, 2, 3… (found ${m.version})`);
  });
  const latest = latestVersion(sorted);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_versions (
    store TEXT PRIMARY KEY, version INTEGER NOT NULL, migrated_at TEXT NOT NULL)`);
  const from = schemaVersion(db, store);
  if (from > latest) throw new SchemaTooNewError(store, path, from, latest);
  const set = db.prepare(
    'INSERT INTO schema_versions (store, version, migrated_at) VALUES (?, ?, ?) ON CONFLICT (store) DO UPDATE SET version = excluded.version, migrated_at = excluded.migrated_at',
  );
  const ran: string[] = [];
  for (const m of sorted) {
    if (m.version <= from) continue;
    db.transaction(() => {
      m.up(db);
      set.run(store, m.version, new Date().toISOString());
    })();
    ran.push(`${m.version} (${m.name})`);
  }
  return { store, path, from, to: latest, ran };
}

/** The log line for a report, or null when nothing ran. */
export function migrationLine(r: SchemaReport): string | null {
  if (r.ran.length === 0) return null;
  return `${r.store} database ${r.path}: schema migrated from version ${r.from} to ${r.to}: ${r.ran.join(', ')}`;
}
