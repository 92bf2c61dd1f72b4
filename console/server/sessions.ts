import { createHash, randomBytes } from 'node:crypto';
import { credentialOf, type Role, type UserDirectory, type UserRecord } from './users.js';

export interface Session {
  /** sha256 of the cookie token: the token itself is never kept, so a heap dump cannot replay it. */
  id: string;
  user: string;
  /** The account's role, kept current with the users file on each request. */
  role: Role;
  createdAt: number;
  expiresAt: number;
  /** Fingerprint of the account's password hash at log-in (credentialOf): a changed password ends the session. */
  credential: string;
}

export const SESSION_COOKIE = 'ce_session';

/** Where sessions outlive the process (the console's SQLite file). Only token digests are stored. */
export interface SessionPersistence {
  /** The sessions still live at `now`. */
  loadSessions(now: number): Session[];
  saveSession(s: Session): void;
  deleteSession(id: string): void;
  deleteExpiredSessions(now: number): void;
}

/**
 * Log-in sessions. A session lasts ttlMs from log-in (absolute, not sliding), so a console left
 * open at shift change asks for the next log-in. With `persist`, sessions are written through to
 * it and loaded back at start, so a restart of the runtime does not log the operators out; a
 * write that fails is reported to `onPersistError` and the session goes on in memory.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #persist: SessionPersistence | undefined;
  readonly #onPersistError: (err: Error, action: string) => void;
  /** Ended sessions whose deletion from the database failed: retried until it succeeds. */
  readonly #undeleted = new Set<string>();

  constructor(opts: {
    ttlMs: number;
    now?: () => number;
    persist?: SessionPersistence;
    onPersistError?: (err: Error, action: string) => void;
  }) {
    this.#ttlMs = opts.ttlMs;
    this.#now = opts.now ?? (() => Date.now());
    this.#persist = opts.persist;
    this.#onPersistError = opts.onPersistError ?? (() => {});
    if (this.#persist) {
      const now = this.#now();
      this.#write('load the sessions', (p) => {
        p.deleteExpiredSessions(now);
        // A session never outlives this process's ttl, even if it was opened under a longer one
        // or the clock has been set back since.
        for (const s of p.loadSessions(now))
          this.#sessions.set(s.id, {
            ...s,
            expiresAt: Math.min(s.expiresAt, s.createdAt + this.#ttlMs, now + this.#ttlMs),
          });
      });
    }
  }

  #write(action: string, fn: (p: SessionPersistence) => void): boolean {
    if (!this.#persist) return true;
    try {
      fn(this.#persist);
      return true;
    } catch (err) {
      this.#onPersistError(err instanceof Error ? err : new Error(String(err)), action);
      return false;
    }
  }

  /** Tries again to delete the ended sessions the database refused to delete before. */
  #retryDeletes(): void {
    for (const id of [...this.#undeleted]) this.#forget(id, 'delete the ended session');
  }

  /** Deletes an ended session from the database; one that cannot be deleted now is retried later. */
  #forget(id: string, action: string): void {
    this.#sessions.delete(id);
    if (this.#write(action, (p) => p.deleteSession(id))) this.#undeleted.delete(id);
    else this.#undeleted.add(id);
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** Opens a session; returns the token to put in the cookie. */
  create(user: string, role: Role, credential = ''): { token: string; session: Session } {
    this.#sweep();
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    const session: Session = {
      id: digest(token),
      user,
      role,
      createdAt: now,
      expiresAt: now + this.#ttlMs,
      credential,
    };
    this.#sessions.set(session.id, session);
    this.#write('save the session', (p) => p.saveSession(session));
    return { token, session };
  }

  /** The live session of a token, or null if unknown or expired. */
  get(token: string | undefined): Session | null {
    this.#retryDeletes();
    if (!token) return null;
    const id = digest(token);
    const s = this.#sessions.get(id);
    if (!s) return null;
    if (s.expiresAt <= this.#now()) {
      this.#forget(id, 'delete the expired session');
      return null;
    }
    return s;
  }

  delete(token: string | undefined): Session | null {
    if (!token) return null;
    const id = digest(token);
    const s = this.#sessions.get(id) ?? null;
    this.#forget(id, 'delete the ended session');
    return s;
  }

  /** Whether a session id (the token's digest) is open: the live stream checks its sessions with it. */
  has(id: string): boolean {
    const s = this.#sessions.get(id);
    return s !== undefined && s.expiresAt > this.#now();
  }

  get size(): number {
    return this.#sessions.size;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id);
    this.#write('delete expired sessions', (p) => p.deleteExpiredSessions(now));
    this.#retryDeletes();
  }
}

/**
 * The account a session may still act for, or why it may not: the account was removed from the
 * users file, or its password changed since the log-in (the fingerprints differ).
 */
export function sessionAccount(
  users: Pick<UserDirectory, 'get'>,
  s: Session,
): { account: UserRecord } | { ended: string } {
  const account = users.get(s.user);
  if (!account) return { ended: `the account ${s.user} no longer exists` };
  if (credentialOf(account.password) !== s.credential)
    return { ended: `the password of ${s.user} was changed: log in again` };
  return { account };
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Set-Cookie value for a session: HttpOnly, SameSite=Strict, whole site, expiring with it. */
export function sessionCookie(token: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}
