import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { SqlDriver, SqlQueryable } from './sql.js';

/**
 * PGlite: PostgreSQL compiled to WASM, in this process. Heavy (seconds and hundreds of MiB to
 * open), so the demo runs central in its own child process, never inside a lane's.
 */
export async function openPgliteDriver(opts: { dir?: string; memory?: boolean }): Promise<SqlDriver> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (!opts.memory && opts.dir) mkdirSync(opts.dir, { recursive: true });
  const target = opts.memory || !opts.dir ? undefined : opts.dir;
  let db: InstanceType<typeof PGlite>;
  try {
    db = await PGlite.create(target);
  } catch (err) {
    throw new Error(
      `embedded database ${target ?? '(memory)'} cannot be opened: ${(err as Error).message}; check the folder's permissions and free space, or move it aside to start afresh`,
      { cause: err },
    );
  }
  const wrap = (q: { query: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }> }): SqlQueryable => ({
    async query<R>(sql: string, params?: unknown[]) {
      return (await q.query(sql, params)).rows as R[];
    },
  });
  const base = wrap(db);
  // One process only: its notes never need to leave it.
  const notes = new EventEmitter();
  return {
    kind: 'pglite',
    query: base.query,
    async exec(sql) {
      await db.exec(sql);
    },
    async transaction(fn) {
      return db.transaction(async (tx) => fn(wrap(tx)));
    },
    async listen(channel, onNote) {
      notes.on(channel, onNote);
      return async () => {
        notes.off(channel, onNote);
      };
    },
    async notify(channel, payload) {
      notes.emit(channel, payload);
    },
    async close() {
      await db.close();
    },
  };
}
