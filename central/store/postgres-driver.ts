import { Backoff } from '../../core/backoff.js';
import type { SqlDriver, SqlQueryable } from './sql.js';

/** node-postgres pool on a PostgreSQL server: several central workers share one database. */
export async function openPostgresDriver(opts: { url: string; poolSize: number }): Promise<SqlDriver> {
  const pg = (await import('pg')).default;
  // bigint counts (count(*)) as numbers: the figures stay far below 2^53.
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize });
  pool.on('error', () => {
    // An idle client lost its connection (server restart); the pool replaces it on next use.
  });
  try {
    const c = await pool.connect();
    c.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(
      `PostgreSQL at ${redactUrl(opts.url)} cannot be reached: ${(err as Error).message}; check store.url and that the server runs`,
      { cause: err },
    );
  }
  return {
    kind: 'postgres',
    async query<R>(sql: string, params?: unknown[]) {
      return (await pool.query(sql, params)).rows as R[];
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const tx: SqlQueryable = {
          query: async <R>(sql: string, params?: unknown[]) => (await c.query(sql, params)).rows as R[],
        };
        const out = await fn(tx);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    },
    async listen(channel, onNote, onError = () => {}) {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel))
        throw new Error(`LISTEN channel ${JSON.stringify(channel)}: expected a lower-case identifier`);
      const backoff = new Backoff(250, 10_000);
      let client: InstanceType<typeof pg.Client> | null = null;
      let timer: NodeJS.Timeout | null = null;
      let stopped = false;
      const again = (err: Error) => {
        client = null;
        if (stopped || timer) return;
        const delay = backoff.next();
        onError(
          new Error(`LISTEN ${channel} on ${redactUrl(opts.url)}: ${err.message}; listening again in ${delay} ms`),
        );
        timer = setTimeout(() => {
          timer = null;
          void connect();
        }, delay);
      };
      const connect = async (): Promise<void> => {
        if (stopped) return;
        const c = new pg.Client({ connectionString: opts.url });
        c.on('notification', (n) => {
          if (n.channel === channel && n.payload !== undefined) onNote(n.payload);
        });
        c.on('error', (err) => {
          c.end().catch(() => {});
          if (client === c) again(err);
        });
        try {
          await c.connect();
          await c.query(`LISTEN ${channel}`);
          if (stopped) {
            await c.end();
            return;
          }
          client = c;
          backoff.reset();
        } catch (err) {
          c.end().catch(() => {});
          again(err as Error);
        }
      };
      await connect();
      return async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await (client as InstanceType<typeof pg.Client> | null)?.end().catch(() => {});
        client = null;
      };
    },
    async notify(channel, payload) {
      await pool.query('select pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      await pool.end();
    },
  };
}

export function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}
