import { ensurePrivateFile } from '../../core/data-files.js';
import { boundPageCache, migrateSchema, type SchemaMigration, type SchemaReport } from '../../core/sqlite-schema.js';
import Database from 'better-sqlite3';
import {
  depthOf,
  evictableKinds,
  type AlertOutbox,
  type OutboxDepth,
  type OutboxEntry,
  type OutboxKind,
  type OutboxMessage,
  type PutResult,
} from './outbox.js';

export interface SqliteOutboxOptions {
  /** SQLite file; several lanes may share one (rows carry the lane). */
  path: string;
  laneId: string;
  maxMessages: number;
  /**
   * full (default): each put is fsync'ed to the WAL before put() returns, so a queued alert
   * survives a killed process and a power cut. normal: survives a killed process (the write is
   * in the OS page cache) but the last commits may roll back on power loss.
   */
  synchronous: 'full' | 'normal';
}

interface Row {
  seq: number;
  kind: OutboxKind;
  id: string;
  topic: string;
  payload: string;
  created_at: string;
}

/**
 * The durable outbox: one row per queued message in a WAL-mode SQLite database. seq is an
 * AUTOINCREMENT key, so it only grows and publish order survives restarts.
 */
/** The outbox's schema, version by version (core/sqlite-schema.ts). */
export const OUTBOX_MIGRATIONS: readonly SchemaMigration[] = [
  {
    version: 1,
    name: 'outbox table and indexes',
    up: (db) =>
      db.exec(`CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        lane TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('alert', 'scan', 'event')),
        id TEXT NOT NULL,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (lane, kind, id)
      );
      CREATE INDEX IF NOT EXISTS outbox_lane_kind_seq ON outbox (lane, kind, seq);
      CREATE INDEX IF NOT EXISTS outbox_lane_seq ON outbox (lane, seq);`),
  },
];

export class SqliteOutbox implements AlertOutbox {
  readonly maxMessages: number;
  /** Which schema migrations ran when the file was opened (for the log). */
  readonly schema: SchemaReport;
  readonly #db: Database.Database;
  readonly #lane: string;
  readonly #put: (m: OutboxMessage) => PutResult;
  readonly #removeAll: (seqs: readonly number[]) => number;
  readonly #stmts: {
    find: Database.Statement<[string, string, string], { seq: number }>;
    count: Database.Statement<[string], { n: number }>;
    oldestOfKind: Database.Statement<[string, string], { seq: number; id: string }>;
    insert: Database.Statement<[string, string, string, string, string, string]>;
    pending: Database.Statement<[string, number, number], Row>;
    remove: Database.Statement<[string, number]>;
    depth: Database.Statement<[string], { kind: OutboxKind; n: number }>;
  };

  constructor(opts: SqliteOutboxOptions) {
    this.maxMessages = opts.maxMessages;
    this.#lane = opts.laneId;
    try {
      ensurePrivateFile(opts.path);
      this.#db = new Database(opts.path);
    } catch (err) {
      throw new Error(
        `MQTT outbox ${opts.path}: cannot open the SQLite file (${(err as Error).message}): check that the folder exists and is writable (mqtt.outbox.path)`,
        { cause: err },
      );
    }
    const db = this.#db;
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('busy_timeout = 5000');
    boundPageCache(db, 'MQTT outbox');
    try {
      this.schema = migrateSchema(db, 'MQTT outbox', opts.path, OUTBOX_MIGRATIONS);
    } catch (err) {
      db.close();
      throw err;
    }
    this.#stmts = {
      find: db.prepare('SELECT seq FROM outbox WHERE lane = ? AND kind = ? AND id = ?'),
      count: db.prepare('SELECT count(*) AS n FROM outbox WHERE lane = ?'),
      oldestOfKind: db.prepare('SELECT seq, id FROM outbox WHERE lane = ? AND kind = ? ORDER BY seq LIMIT 1'),
      insert: db.prepare('INSERT INTO outbox (lane, kind, id, topic, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      pending: db.prepare(
        'SELECT seq, kind, id, topic, payload, created_at FROM outbox WHERE lane = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      remove: db.prepare('DELETE FROM outbox WHERE lane = ? AND seq = ?'),
      depth: db.prepare('SELECT kind, count(*) AS n FROM outbox WHERE lane = ? GROUP BY kind'),
    };
    this.#put = db.transaction((m: OutboxMessage): PutResult => {
      const s = this.#stmts;
      const dup = s.find.get(this.#lane, m.kind, m.id);
      if (dup) return { seq: dup.seq, duplicate: true, refused: false, evicted: [] };
      const evicted: PutResult['evicted'] = [];
      if (s.count.get(this.#lane)!.n >= this.maxMessages) {
        let victim: { seq: number; id: string; kind: OutboxKind } | null = null;
        for (const kind of evictableKinds(m.kind)) {
          const row = s.oldestOfKind.get(this.#lane, kind);
          if (row) {
            victim = { ...row, kind };
            break;
          }
        }
        if (!victim) return { seq: null, duplicate: false, refused: true, evicted };
        s.remove.run(this.#lane, victim.seq);
        evicted.push(victim);
      }
      const info = s.insert.run(this.#lane, m.kind, m.id, m.topic, m.payload, new Date().toISOString());
      return { seq: Number(info.lastInsertRowid), duplicate: false, refused: false, evicted };
    }).immediate;
    this.#removeAll = db.transaction((seqs: readonly number[]) => {
      let n = 0;
      for (const seq of seqs) n += this.#stmts.remove.run(this.#lane, seq).changes;
      return n;
    });
  }

  put(m: OutboxMessage): PutResult {
    return this.#put(m);
  }

  pending(afterSeq: number, limit: number): OutboxEntry[] {
    const rows = this.#stmts.pending.all(this.#lane, afterSeq, limit);
    return rows.map((r) => ({
      seq: r.seq,
      kind: r.kind,
      id: r.id,
      topic: r.topic,
      payload: r.payload,
      createdAt: r.created_at,
    }));
  }

  remove(seq: number): boolean {
    return this.#stmts.remove.run(this.#lane, seq).changes > 0;
  }

  removeAll(seqs: readonly number[]): number {
    return seqs.length === 0 ? 0 : this.#removeAll(seqs);
  }

  depth(): OutboxDepth {
    const counts: Partial<Record<OutboxKind, number>> = {};
    for (const r of this.#stmts.depth.all(this.#lane)) counts[r.kind] = r.n;
    return depthOf(counts);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
