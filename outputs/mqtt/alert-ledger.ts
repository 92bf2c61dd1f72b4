import { ensurePrivateFile } from '../../core/data-files.js';
import { boundPageCache, migrateSchema, type SchemaMigration, type SchemaReport } from '../../core/sqlite-schema.js';
import Database from 'better-sqlite3';
import type { Alert, AlertEvent } from '../../core/domain.js';

export interface AlertRecord {
  alertId: string;
  raisedAt: string;
  kind: string;
  acknowledged: { at: string; by: string } | null;
  disposition: { type: string; at: string; by: string } | null;
}

interface Row {
  alert_id: string;
  raised_at: string;
  kind: string;
  ack_at: string | null;
  ack_by: string | null;
  disposition: string | null;
  disposed_at: string | null;
  disposed_by: string | null;
}

/** The ledger's schema, version by version (core/sqlite-schema.ts). */
export const LEDGER_MIGRATIONS: readonly SchemaMigration[] = [
  {
    version: 1,
    name: 'alert_ledger table',
    up: (db) =>
      db.exec(`CREATE TABLE IF NOT EXISTS alert_ledger (
        lane TEXT NOT NULL, alert_id TEXT NOT NULL, raised_at TEXT NOT NULL, kind TEXT NOT NULL,
        ack_at TEXT, ack_by TEXT, disposition TEXT, disposed_at TEXT, disposed_by TEXT,
        PRIMARY KEY (lane, alert_id))`),
  },
];

/**
 * What the lane knows of each alert it raised (acknowledged? dispositioned?), so that a command
 * from central command can be checked before it changes anything. Kept in SQLite beside the
 * outbox (or in memory for tests) for `keepDays` days.
 */
export class AlertLedger {
  /** Which schema migrations ran when the file was opened (for the log). */
  readonly schema: SchemaReport;
  readonly #db: Database.Database;
  readonly #lane: string;
  readonly #get: Database.Statement<[string, string], Row>;
  readonly #raise: Database.Statement<[string, string, string, string]>;
  readonly #ack: Database.Statement<[string, string, string, string]>;
  readonly #dispose: Database.Statement<[string, string, string, string, string]>;

  constructor(opts: { path: string | ':memory:'; laneId: string; keepDays?: number }) {
    this.#lane = opts.laneId;
    try {
      ensurePrivateFile(opts.path);
      this.#db = new Database(opts.path);
    } catch (err) {
      throw new Error(`MQTT alert ledger ${opts.path}: cannot open the SQLite file (${(err as Error).message})`, {
        cause: err,
      });
    }
    const db = this.#db;
    if (opts.path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    boundPageCache(db, 'MQTT alert ledger');
    try {
      this.schema = migrateSchema(db, 'MQTT alert ledger', opts.path, LEDGER_MIGRATIONS);
    } catch (err) {
      db.close();
      throw err;
    }
    const cutoff = new Date(Date.now() - (opts.keepDays ?? 30) * 86_400_000).toISOString();
    db.prepare('DELETE FROM alert_ledger WHERE lane = ? AND raised_at < ?').run(this.#lane, cutoff);
    this.#get = db.prepare('SELECT * FROM alert_ledger WHERE lane = ? AND alert_id = ?');
    this.#raise = db.prepare(
      'INSERT OR IGNORE INTO alert_ledger (lane, alert_id, raised_at, kind) VALUES (?, ?, ?, ?)',
    );
    this.#ack = db.prepare(
      'UPDATE alert_ledger SET ack_at = ?, ack_by = ? WHERE lane = ? AND alert_id = ? AND ack_at IS NULL',
    );
    this.#dispose = db.prepare(
      'UPDATE alert_ledger SET disposition = ?, disposed_at = ?, disposed_by = ? WHERE lane = ? AND alert_id = ? AND disposition IS NULL',
    );
  }

  raised(a: Alert): void {
    this.#raise.run(this.#lane, a.alertId, a.raisedAt, a.kind);
  }

  /** Records an acknowledgement or disposition (from the console or central command). */
  record(e: AlertEvent): void {
    if (e.type === 'acknowledged') this.#ack.run(e.at, e.operator, this.#lane, e.alertId);
    else {
      this.#ack.run(e.at, e.operator, this.#lane, e.alertId); // a disposition implies it was seen
      this.#dispose.run(e.type, e.at, e.operator, this.#lane, e.alertId);
    }
  }

  get(alertId: string): AlertRecord | null {
    const r = this.#get.get(this.#lane, alertId);
    if (!r) return null;
    return {
      alertId: r.alert_id,
      raisedAt: r.raised_at,
      kind: r.kind,
      acknowledged: r.ack_at ? { at: r.ack_at, by: r.ack_by ?? '' } : null,
      disposition: r.disposition ? { type: r.disposition, at: r.disposed_at ?? '', by: r.disposed_by ?? '' } : null,
    };
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
