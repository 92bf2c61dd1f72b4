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
  /**
   * Calls onNote with the payload of every NOTIFY on channel (an identifier) by any process on
   * this database, this one included. PostgreSQL: a LISTEN connection of its own, reconnected
   * with backoff (onError says why meanwhile). PGlite: in this process, the only one it allows.
   * Returns the function that stops listening.
   */
  listen(
    channel: string,
    onNote: (payload: string) => void,
    onError?: (err: Error) => void,
  ): Promise<() => Promise<void>>;
  /** NOTIFY channel with payload (under 8000 bytes). */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}
