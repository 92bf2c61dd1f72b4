import type { SqlQueryable } from './sql.js';

export interface LoginFailurePolicy {
  /** Failures of one name from one address within windowMs that lock the pair. */
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export const DEFAULT_LOGIN_POLICY: LoginFailurePolicy = { maxFailures: 5, windowMs: 10 * 60_000, lockMs: 60_000 };

/**
 * Failed log-ins per (address, name), in the database every central process shares: a guesser
 * spreading attempts over several workers behind a load balancer meets one count. Times are the
 * database's, so the workers' clocks do not matter. Rows past their window and lock are removed
 * at each failure, so the table stays as small as the guessing under way.
 */
export class LoginFailures {
  constructor(
    private readonly db: SqlQueryable,
    private readonly policy: LoginFailurePolicy = DEFAULT_LOGIN_POLICY,
  ) {}

  /** Milliseconds the pair is still locked; 0 when it may try. */
  async blockedFor(name: string, ip: string): Promise<number> {
    const [r] = await this.db.query<{ ms: number }>(
      `select greatest(0, ceil(extract(epoch from (locked_until - now())) * 1000))::int as ms
         from login_failures where ip = $1 and name = $2 and locked_until is not null`,
      [ip, name],
    );
    return r?.ms ?? 0;
  }

  /** Counts one failure; the failure that reaches maxFailures locks the pair for lockMs. */
  async failed(name: string, ip: string): Promise<void> {
    const { maxFailures, windowMs, lockMs } = this.policy;
    await this.db.query(
      `insert into login_failures as f (ip, name, count, first_at) values ($1, $2, 1, now())
       on conflict (ip, name) do update set
         count = case when f.first_at < now() - make_interval(secs => $3::float8 / 1000) then 1 else f.count + 1 end,
         first_at = case when f.first_at < now() - make_interval(secs => $3::float8 / 1000) then now() else f.first_at end`,
      [ip, name, windowMs],
    );
    await this.db.query(
      `update login_failures set count = 0, first_at = now(), locked_until = now() + make_interval(secs => $3::float8 / 1000)
        where ip = $1 and name = $2 and count >= $4`,
      [ip, name, lockMs, maxFailures],
    );
    await this.db.query(
      `delete from login_failures
        where first_at < now() - make_interval(secs => $1::float8 / 1000) and (locked_until is null or locked_until < now())`,
      [windowMs],
    );
  }

  async succeeded(name: string, ip: string): Promise<void> {
    await this.db.query('delete from login_failures where ip = $1 and name = $2', [ip, name]);
  }
}
