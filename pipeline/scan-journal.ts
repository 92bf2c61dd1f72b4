import Database from 'better-sqlite3';
import type { Alert, ScanMeta, ScanResult } from '../core/domain.js';
import { ensurePrivateFile } from '../core/data-files.js';
import { boundPageCache, migrateSchema, type SchemaMigration, type SchemaReport } from '../core/sqlite-schema.js';

/** What a scan was decided as, written before it is handed on: the result and its alerts, ids included. */
export interface DecidedScan {
  result: ScanResult;
  alerts: Alert[];
}

/** A scan that began and has no result in the outbox yet. */
export interface OpenScanEntry {
  meta: ScanMeta;
  /** When the edge journaled it (ISO). */
  openedAt: string;
  /**
   * Set when the edge decided the scan and may have died while handing the result on: the same
   * result and alerts (same ids) are handed on again, never an abort beside them.
   */
  decided?: DecidedScan;
}

/** Scans begun that a journal remembers by the scanner's id and start time (for resent scans). */
export const BEGUN_KEPT = 10_000;

/**
 * Open scans that must not die with the process. The lane pipeline writes an entry when a scan
 * begins and removes it once the scan's result and alert are in the outbox; at the next start,
 * every entry left is reported as aborted with reason 'edge-restarted'.
 */
export interface ScanJournal {
  /** Journals a scan that began, and remembers it by scanner id and start time (one transaction). */
  open(meta: ScanMeta): void;
  /** Records the decision of an open scan just before its result is handed on. */
  decided(scanId: string, d: DecidedScan): void;
  close(scanId: string): void;
  /**
   * The edge scan id of a scan begun on this lane (among the last BEGUN_KEPT) with this scanner
   * scan id and start time, or null.
   */
  begunBefore(scannerScanId: string, startedAt: string): string | null;
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
  {
    version: 2,
    name: 'decisions journaled, scans begun remembered by scanner id and start time',
    up: (db) =>
      db.exec(`ALTER TABLE open_scans ADD COLUMN decided TEXT;
        CREATE TABLE IF NOT EXISTS begun_scans (
          seq INTEGER PRIMARY KEY AUTOINCREMENT, lane TEXT NOT NULL, scanner_scan_id TEXT NOT NULL,
          started_at TEXT NOT NULL, scan_id TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS begun_scans_identity ON begun_scans (lane, scanner_scan_id, started_at);`),
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
  readonly #open: (meta: ScanMeta) => void;
  readonly #decided: Database.Statement<[string, string, string]>;
  readonly #delete: Database.Statement<[string, string]>;
  readonly #all: Database.Statement<[string], { meta: string; opened_at: string; decided: string | null }>;
  readonly #begun: Database.Statement<[string, string, string], { scan_id: string }>;

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
    boundPageCache(this.#db, 'open-scan journal');
    try {
      this.schema = migrateSchema(this.#db, 'open-scan journal', opts.path, JOURNAL_MIGRATIONS);
    } catch (err) {
      this.#db.close();
      throw err;
    }
    const insert = this.#db.prepare('INSERT INTO open_scans (lane, scan_id, opened_at, meta) VALUES (?, ?, ?, ?)');
    const remember = this.#db.prepare(
      'INSERT INTO begun_scans (lane, scanner_scan_id, started_at, scan_id) VALUES (?, ?, ?, ?)',
    );
    const forget = this.#db.prepare('DELETE FROM begun_scans WHERE lane = ? AND seq <= ?');
    this.#open = this.#db.transaction((meta: ScanMeta) => {
      insert.run(this.#lane, meta.scanId, new Date().toISOString(), JSON.stringify(meta));
      if (meta.scannerScanId === undefined) return;
      const seq = Number(remember.run(this.#lane, meta.scannerScanId, meta.startedAt, meta.scanId).lastInsertRowid);
      if (seq % 1000 === 0) forget.run(this.#lane, seq - BEGUN_KEPT);
    }).immediate;
    this.#decided = this.#db.prepare('UPDATE open_scans SET decided = ? WHERE lane = ? AND scan_id = ?');
    this.#delete = this.#db.prepare('DELETE FROM open_scans WHERE lane = ? AND scan_id = ?');
    this.#all = this.#db.prepare(
      'SELECT meta, opened_at, decided FROM open_scans WHERE lane = ? ORDER BY opened_at, scan_id',
    );
    this.#begun = this.#db.prepare(
      'SELECT scan_id FROM begun_scans WHERE lane = ? AND scanner_scan_id = ? AND started_at = ? ORDER BY seq DESC LIMIT 1',
    );
  }

  open(meta: ScanMeta): void {
    this.#open(meta);
  }

  decided(scanId: string, d: DecidedScan): void {
    this.#decided.run(JSON.stringify(d), this.#lane, scanId);
  }

  begunBefore(scannerScanId: string, startedAt: string): string | null {
    return this.#begun.get(this.#lane, scannerScanId, startedAt)?.scan_id ?? null;
  }

  close(scanId: string): void {
    this.#delete.run(this.#lane, scanId);
  }

  unfinished(): OpenScanEntry[] {
    return this.#all.all(this.#lane).map((r) => ({
      meta: JSON.parse(r.meta) as ScanMeta,
      openedAt: r.opened_at,
      ...(r.decided ? { decided: JSON.parse(r.decided) as DecidedScan } : {}),
    }));
  }

  shut(): void {
    if (this.#db.open) this.#db.close();
  }
}

/** The journal of a lane whose file could not be opened: keeps entries while the process runs. */
export class MemoryScanJournal implements ScanJournal {
  readonly #open = new Map<string, OpenScanEntry>();
  /** `<scanner id> <start time>` -> edge scan id, oldest first. */
  readonly #begun = new Map<string, string>();
  open(meta: ScanMeta): void {
    this.#open.set(meta.scanId, { meta, openedAt: new Date().toISOString() });
    if (meta.scannerScanId === undefined) return;
    this.#begun.set(`${meta.scannerScanId} ${meta.startedAt}`, meta.scanId);
    if (this.#begun.size > BEGUN_KEPT) this.#begun.delete(this.#begun.keys().next().value!);
  }
  decided(scanId: string, d: DecidedScan): void {
    const e = this.#open.get(scanId);
    if (e) e.decided = d;
  }
  begunBefore(scannerScanId: string, startedAt: string): string | null {
    return this.#begun.get(`${scannerScanId} ${startedAt}`) ?? null;
  }
  close(scanId: string): void {
    this.#open.delete(scanId);
  }
  unfinished(): OpenScanEntry[] {
    return [...this.#open.values()];
  }
  shut(): void {}
}
