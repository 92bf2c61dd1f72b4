import Database from 'better-sqlite3';
import type { ScanMeta } from '../core/domain.js';
import { ensurePrivateFile } from '../core/data-files.js';
import { migrateSchema, type SchemaMigration, type SchemaReport } from '../core/sqlite-schema.js';

/** A scan that began and has no result in the outbox yet. */
export interface OpenScanEntry {
  meta: ScanMeta;
  /** When the edge journaled it (ISO). */
  openedAt: string;
}

/**
 * Open scans that must not die with the process. The lane pipeline writes an entry when a scan
 * begins and removes it once the scan's result and alert are in the outbox; at the next start,
 * every entry left is reported as aborted with reason 'edge-restarted'.
 */
export interface ScanJournal {
  open(meta: ScanMeta): void;
  close(scanId: string): void;
  /** Entries left by an earlier run (or this one), oldest first. */
  unfinished(): OpenScanEntry[];
  shut(): void;
}

/** The journal's schema, version by version (core/sqlite-schema.ts). */
export const JOURNAL_MIGRATIONS: readonly SchemaMigration[] = [
  {
    version: 1,
    name: 'open_scans table',
    up: (db) =>
      db.exec(`CREATE TABLE IF NOT EXISTS open_scans (
        lane TEXT NOT NULL, scan_id TEXT NOT NULL, opened_at TEXT NOT NULL, meta TEXT NOT NULL,
        PRIMARY KEY (lane, scan_id));`),
  },
];

/**
 * The open-scan journal in SQLite (WAL, synchronous FULL: an entry written is on disk before
 * the scan's first line is handled, so a power cut does not lose it either). File mode 0600.
 */
export class SqliteScanJournal implements ScanJournal {
  readonly path: string;
  /** Which schema migrations ran when the file was opened (for the log). */
  readonly schema: SchemaReport;
  readonly #db: Database.Database;
  readonly #lane: string;
  readonly #insert: Database.Statement<[string, string, string, string]>;
  readonly #delete: Database.Statement<[string, string]>;
  readonly #all: Database.Statement<[string], { meta: string; opened_at: string }>;

  constructor(opts: { path: string; laneId: string }) {
    this.path = opts.path;
    this.#lane = opts.laneId;
    try {
      ensurePrivateFile(opts.path);
      this.#db = new Database(opts.path);
    } catch (err) {
      throw new Error(
        `open-scan journal ${opts.path}: cannot open the SQLite file (${(err as Error).message}): check that the lane's data folder is writable`,
        { cause: err },
      );
    }
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    try {
      this.schema = migrateSchema(this.#db, 'open-scan journal', opts.path, JOURNAL_MIGRATIONS);
    } catch (err) {
      this.#db.close();
      throw err;
    }
    this.#insert = this.#db.prepare('INSERT INTO open_scans (lane, scan_id, opened_at, meta) VALUES (?, ?, ?, ?)');
    this.#delete = this.#db.prepare('DELETE FROM open_scans WHERE lane = ? AND scan_id = ?');
    this.#all = this.#db.prepare('SELECT meta, opened_at FROM open_scans WHERE lane = ? ORDER BY opened_at, scan_id');
  }

  open(meta: ScanMeta): void {
    this.#insert.run(this.#lane, meta.scanId, new Date().toISOString(), JSON.stringify(meta));
  }

  close(scanId: string): void {
    this.#delete.run(this.#lane, scanId);
  }

  unfinished(): OpenScanEntry[] {
    return this.#all.all(this.#lane).map((r) => ({ meta: JSON.parse(r.meta) as ScanMeta, openedAt: r.opened_at }));
  }

  shut(): void {
    if (this.#db.open) this.#db.close();
  }
}

/** The journal of a lane whose file could not be opened: keeps entries while the process runs. */
export class MemoryScanJournal implements ScanJournal {
  readonly #open = new Map<string, OpenScanEntry>();
  open(meta: ScanMeta): void {
    this.#open.set(meta.scanId, { meta, openedAt: new Date().toISOString() });
  }
  close(scanId: string): void {
    this.#open.delete(scanId);
  }
  unfinished(): OpenScanEntry[] {
    return [...this.#open.values()];
  }
  shut(): void {}
}
