import Database from 'better-sqlite3';
import { ensurePrivateFile } from '../../core/data-files.js';
import { boundPageCache, migrateSchema, type SchemaMigration, type SchemaReport } from '../../core/sqlite-schema.js';
import type { Alert, AlertEvent, Disposition, ScanResult, Verdict } from '../../core/domain.js';
import type { AlertRecord, AuditEntry, ScanRow } from './messages.js';
import type { Session, SessionPersistence } from './sessions.js';

export type { AlertRecord, AuditEntry, ScanRow };

export interface ScanQuery {
  laneId?: string;
  /** ISO time: scans that started at or after. */
  from?: string;
  /** ISO time: scans that started before. */
  to?: string;
  /** Part of a plate or container code, any case. */
  plate?: string;
  verdict?: Verdict;
  limit?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS scans (
  lane_id TEXT NOT NULL, scan_id TEXT NOT NULL, started_at TEXT NOT NULL, decided_at TEXT NOT NULL,
  outcome TEXT NOT NULL, verdict TEXT NOT NULL, score REAL, plate TEXT, container_code TEXT,
  result TEXT NOT NULL, PRIMARY KEY (lane_id, scan_id));
CREATE INDEX IF NOT EXISTS scans_started ON scans (started_at);
CREATE TABLE IF NOT EXISTS alerts (
  alert_id TEXT PRIMARY KEY, lane_id TEXT NOT NULL, scan_id TEXT, raised_at TEXT NOT NULL,
  kind TEXT NOT NULL, severity TEXT NOT NULL, alert TEXT NOT NULL,
  acknowledged_at TEXT, acknowledged_by TEXT, acknowledged_origin TEXT,
  disposition TEXT, disposition_at TEXT, disposition_by TEXT, disposition_origin TEXT, note TEXT);
CREATE INDEX IF NOT EXISTS alerts_raised ON alerts (raised_at);
CREATE INDEX IF NOT EXISTS alerts_scan ON alerts (scan_id);
CREATE TABLE IF NOT EXISTS alert_events (
  event_id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, at TEXT NOT NULL, type TEXT NOT NULL,
  operator TEXT NOT NULL, origin TEXT NOT NULL, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alert_events_alert ON alert_events (alert_id);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT, role TEXT, action TEXT NOT NULL,
  target TEXT, ok INTEGER NOT NULL, detail TEXT, ip TEXT);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, user TEXT NOT NULL, role TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  credential TEXT NOT NULL);
`;

const columns = (db: Database.Database, table: string) =>
  (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name);

/** The console's schema, version by version (core/sqlite-schema.ts). */
export const CONSOLE_MIGRATIONS: readonly SchemaMigration[] = [
  {
    version: 1,
    name: 'scans, alerts, alert events, audit, sessions',
    up: (db) => {
      // A sessions table from before sessions kept their credential fingerprint: drop it (its
      // sessions end; everyone logs in once more) so that it is created afresh.
      const sessions = columns(db, 'sessions');
      if (sessions.length && !sessions.includes('credential')) db.exec('DROP TABLE sessions');
      db.exec(SCHEMA);
    },
  },
  {
    version: 2,
    name: "scans.scanner_scan_id: the scanner's own id beside the edge's",
    up: (db) => {
      // Scans stored before the edge minted its own scan ids keep a null scanner id.
      if (!columns(db, 'scans').includes('scanner_scan_id'))
        db.exec('ALTER TABLE scans ADD COLUMN scanner_scan_id TEXT');
    },
  },
];

interface AlertDbRow {
  alert: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  acknowledged_origin: AlertEvent['origin'] | null;
  disposition: Disposition | null;
  disposition_at: string | null;
  disposition_by: string | null;
  disposition_origin: AlertEvent['origin'] | null;
  note: string | null;
}

/**
 * The console's durable state in one SQLite file (<dataDir>/console.sqlite): scan history,
 * alerts with their acknowledgements and dispositions, the audit log, and the log-in sessions
 * (by the sha256 of their tokens, never the tokens).
 */
export class ConsoleStore implements SessionPersistence {
  readonly path: string;
  /** Which schema migrations ran when the file was opened (for the log). */
  readonly schema: SchemaReport;
  readonly #db: Database.Database;

  constructor(path: string) {
    this.path = path;
    ensurePrivateFile(path);
    try {
      this.#db = new Database(path);
    } catch (err) {
      throw new Error(
        `console database ${path} cannot be opened: ${(err as Error).message}; check the folder's permissions and free space`,
        { cause: err },
      );
    }
    this.#db.pragma('journal_mode = WAL');
    // FULL: a disposition, an audit entry or a log-out that was answered survives a power cut too.
    this.#db.pragma('synchronous = FULL');
    boundPageCache(this.#db, 'console');
    try {
      this.schema = migrateSchema(this.#db, 'console', path, CONSOLE_MIGRATIONS);
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  close(): void {
    this.#db.close();
  }

  loadSessions(now: number): Session[] {
    const rows = this.#db
      .prepare('SELECT id, user, role, created_at, expires_at, credential FROM sessions WHERE expires_at > ?')
      .all(now) as {
      id: string;
      user: string;
      role: Session['role'];
      created_at: number;
      expires_at: number;
      credential: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      user: r.user,
      role: r.role,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      credential: r.credential,
    }));
  }

  saveSession(s: Session): void {
    this.#db
      .prepare(
        'INSERT OR REPLACE INTO sessions (id, user, role, created_at, expires_at, credential) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(s.id, s.user, s.role, s.createdAt, s.expiresAt, s.credential);
  }

  deleteSession(id: string): void {
    this.#db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
  }

  deleteExpiredSessions(now: number): void {
    this.#db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
  }

  /**
   * Stores a decided scan under the edge's scan id. A second result with the same id is refused
   * (an error), never merged: the edge mints each scan id once, and a row once written is the
   * record of that vehicle.
   */
  recordScan(r: ScanResult): void {
    this.#db
      .prepare(`INSERT INTO scans (lane_id, scan_id, scanner_scan_id, started_at, decided_at, outcome, verdict, score, plate, container_code, result)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        r.laneId,
        r.scanId,
        r.scannerScanId ?? null,
        r.startedAt,
        r.decidedAt,
        r.outcome,
        r.verdict,
        r.score,
        r.vehicle?.plate ?? null,
        r.vehicle?.containerCode ?? null,
        JSON.stringify(r),
      );
  }

  /** Deletes scans that started before `before` (ISO); alerts, their events and the audit log stay. */
  pruneScans(before: string): number {
    return this.#db.prepare('DELETE FROM scans WHERE started_at < ?').run(before).changes;
  }

  /**
   * Deletes what else grows without end, older than `before` (ISO): audit entries (older than
   * `auditBefore`, console.auditRetentionDays), and closed alerts (a disposition recorded) with
   * their events. Open alerts stay whatever their age.
   */
  pruneRecords(before: string, auditBefore = before): { audit: number; alerts: number; events: number } {
    return this.#db.transaction(() => {
      const audit = this.pruneAudit(auditBefore);
      const events = this.#db
        .prepare(
          'DELETE FROM alert_events WHERE alert_id IN (SELECT alert_id FROM alerts WHERE disposition IS NOT NULL AND raised_at < ?)',
        )
        .run(before).changes;
      const alerts = this.#db
        .prepare('DELETE FROM alerts WHERE disposition IS NOT NULL AND raised_at < ?')
        .run(before).changes;
      return { audit, alerts, events };
    })();
  }

  listScans(q: ScanQuery = {}): ScanRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const filter = (clause: string, value: string | undefined) => {
      if (value) {
        where.push(clause);
        args.push(value);
      }
    };
    filter('s.lane_id = ?', q.laneId);
    filter('s.started_at >= ?', q.from);
    filter('s.started_at < ?', q.to);
    filter('s.verdict = ?', q.verdict);
    if (q.plate) {
      where.push("(s.plate LIKE ? ESCAPE '\\' OR s.container_code LIKE ? ESCAPE '\\')");
      const like = `%${q.plate.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      args.push(like, like);
    }
    const limit = Math.min(Math.max(1, q.limit ?? 100), 1000);
    const rows = this.#db
      .prepare(`SELECT s.result, a.alert_id, a.acknowledged_at, a.disposition FROM scans s
        LEFT JOIN alerts a ON a.scan_id = s.scan_id AND a.lane_id = s.lane_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.started_at DESC LIMIT ?`)
      .all(...args, limit) as {
      result: string;
      alert_id: string | null;
      acknowledged_at: string | null;
      disposition: Disposition | null;
    }[];
    return rows.map((r) => ({
      result: JSON.parse(r.result) as ScanResult,
      alertId: r.alert_id,
      alertState: r.alert_id ? (r.disposition ? 'closed' : r.acknowledged_at ? 'acknowledged' : 'new') : null,
      disposition: r.disposition,
    }));
  }

  getScan(scanId: string, laneId?: string): ScanResult | null {
    const row = (
      laneId
        ? this.#db.prepare('SELECT result FROM scans WHERE scan_id = ? AND lane_id = ?').get(scanId, laneId)
        : this.#db.prepare('SELECT result FROM scans WHERE scan_id = ? ORDER BY decided_at DESC').get(scanId)
    ) as { result: string } | undefined;
    return row ? (JSON.parse(row.result) as ScanResult) : null;
  }

  /** Stores a raised alert; a replay of a known alert id keeps what was already done about it. */
  recordAlert(a: Alert): void {
    this.#db
      .prepare(
        'INSERT OR IGNORE INTO alerts (alert_id, lane_id, scan_id, raised_at, kind, severity, alert) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(a.alertId, a.laneId, a.scanId, a.raisedAt, a.kind, a.severity, JSON.stringify(a));
  }

  getAlert(alertId: string): AlertRecord | null {
    const row = this.#db.prepare('SELECT * FROM alerts WHERE alert_id = ?').get(alertId) as AlertDbRow | undefined;
    return row ? this.#toRecord(row) : null;
  }

  /** The latest alert a scan raised, if any. */
  alertForScan(laneId: string, scanId: string): AlertRecord | null {
    const row = this.#db
      .prepare('SELECT * FROM alerts WHERE lane_id = ? AND scan_id = ? ORDER BY raised_at DESC LIMIT 1')
      .get(laneId, scanId) as AlertDbRow | undefined;
    return row ? this.#toRecord(row) : null;
  }

  /** Alerts raised since `since` (ISO), or open ones, newest first. */
  listAlerts(opts: { openOnly?: boolean; since?: string; limit?: number } = {}): AlertRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.openOnly) where.push('disposition IS NULL');
    if (opts.since) {
      where.push('raised_at >= ?');
      args.push(opts.since);
    }
    const rows = this.#db
      .prepare(
        `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_at DESC LIMIT ?`,
      )
      .all(...args, Math.min(Math.max(1, opts.limit ?? 50), 500)) as AlertDbRow[];
    return rows.map((r) => this.#toRecord(r));
  }

  /**
   * Applies an acknowledgement or disposition, from the console or from central. Idempotent by
   * event id. Returns the updated alert, or null when the event was already applied or the
   * alert is unknown (then the event is still kept, for the record).
   */
  applyEvent(e: AlertEvent): { applied: boolean; record: AlertRecord | null } {
    const tx = this.#db.transaction((): { applied: boolean; record: AlertRecord | null } => {
      const ins = this.#db
        .prepare(
          'INSERT OR IGNORE INTO alert_events (event_id, alert_id, at, type, operator, origin, event) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(e.eventId, e.alertId, e.at, e.type, e.operator, e.origin, JSON.stringify(e));
      if (ins.changes === 0) return { applied: false, record: this.getAlert(e.alertId) };
      if (e.type === 'acknowledged') {
        this.#db
          .prepare(
            'UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, acknowledged_origin = ? WHERE alert_id = ? AND acknowledged_at IS NULL',
          )
          .run(e.at, e.operator, e.origin, e.alertId);
      } else {
        // A disposition implies an acknowledgement (central may send only the disposition).
        this.#db
          .prepare(`UPDATE alerts SET disposition = ?, disposition_at = ?, disposition_by = ?, disposition_origin = ?, note = ?,
            acknowledged_at = COALESCE(acknowledged_at, ?), acknowledged_by = COALESCE(acknowledged_by, ?), acknowledged_origin = COALESCE(acknowledged_origin, ?)
            WHERE alert_id = ?`)
          .run(e.type, e.at, e.operator, e.origin, e.note ?? null, e.at, e.operator, e.origin, e.alertId);
      }
      return { applied: true, record: this.getAlert(e.alertId) };
    });
    return tx();
  }

  audit(entry: {
    user?: string | null;
    role?: string | null;
    action: string;
    target?: string | null;
    ok?: boolean;
    detail?: Record<string, unknown>;
    ip?: string | null;
  }): AuditEntry {
    const at = new Date().toISOString();
    const ok = entry.ok ?? true;
    const info = this.#db
      .prepare('INSERT INTO audit (at, user, role, action, target, ok, detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(
        at,
        entry.user ?? null,
        entry.role ?? null,
        entry.action,
        entry.target ?? null,
        ok ? 1 : 0,
        entry.detail ? JSON.stringify(entry.detail) : null,
        entry.ip ?? null,
      );
    return {
      id: Number(info.lastInsertRowid),
      at,
      user: entry.user ?? null,
      role: entry.role ?? null,
      action: entry.action,
      target: entry.target ?? null,
      ok,
      detail: entry.detail ?? null,
      ip: entry.ip ?? null,
    };
  }

  /** Replaces the detail of an audit row (a burst of refused log-ins counted up). */
  updateAuditDetail(id: number, detail: Record<string, unknown>): void {
    this.#db.prepare('UPDATE audit SET detail = ? WHERE id = ?').run(JSON.stringify(detail), id);
  }

  /** Deletes audit entries older than `before` (ISO). */
  pruneAudit(before: string): number {
    return this.#db.prepare('DELETE FROM audit WHERE at < ?').run(before).changes;
  }

  listAudit(opts: { limit?: number; user?: string; action?: string } = {}): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.user) {
      where.push('user = ?');
      args.push(opts.user);
    }
    if (opts.action) {
      where.push('action = ?');
      args.push(opts.action);
    }
    const rows = this.#db
      .prepare(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`)
      .all(...args, Math.min(Math.max(1, opts.limit ?? 200), 2000)) as {
      id: number;
      at: string;
      user: string | null;
      role: string | null;
      action: string;
      target: string | null;
      ok: number;
      detail: string | null;
      ip: string | null;
    }[];
    return rows.map((r) => ({
      ...r,
      ok: r.ok === 1,
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    }));
  }

  #toRecord(row: AlertDbRow): AlertRecord {
    const alert = JSON.parse(row.alert) as Alert;
    const events = (
      this.#db.prepare('SELECT event FROM alert_events WHERE alert_id = ? ORDER BY at, rowid').all(alert.alertId) as {
        event: string;
      }[]
    ).map((e) => JSON.parse(e.event) as AlertEvent);
    return {
      alert,
      state: row.disposition ? 'closed' : row.acknowledged_at ? 'acknowledged' : 'new',
      acknowledgedAt: row.acknowledged_at,
      acknowledgedBy: row.acknowledged_by,
      acknowledgedOrigin: row.acknowledged_origin,
      disposition: row.disposition,
      dispositionAt: row.disposition_at,
      dispositionBy: row.disposition_by,
      dispositionOrigin: row.disposition_origin,
      note: row.note,
      events,
    };
  }
}
