/**
 * The one thing the store needs from a PostgreSQL connection: parameterised queries and
 * transactions. PGlite (embedded) and node-postgres (a server) each implement it, so the SQL and
 * the migrations are written once.
 */
export interface SqlQueryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface SqlDriver extends SqlQueryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs several statements (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs fn in one transaction; rolled back when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
