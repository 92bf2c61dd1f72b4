import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConsoleStore } from '../../../../console/server/console-store.js';
import {
  readCookie,
  type Session,
  SESSION_COOKIE,
  sessionCookie,
  type SessionPersistence,
  SessionStore,
} from '../../../../console/server/sessions.js';

describe('SessionStore', () => {
  it('expires a session after its time to live, counted from log-in', () => {
    let now = 1_000_000;
    const store = new SessionStore({ ttlMs: 60_000, now: () => now });
    const { token, session } = store.create('alice', 'operator');
    expect(session.expiresAt).toBe(now + 60_000);
    now += 59_999;
    expect(store.get(token)?.user).toBe('alice');
    now += 1;
    expect(store.get(token)).toBeNull();
    expect(store.size).toBe(0);
  });

  it('keeps only a digest of the token and forgets deleted sessions', () => {
    const store = new SessionStore({ ttlMs: 60_000 });
    const { token, session } = store.create('sam', 'supervisor');
    expect(session.id).not.toContain(token);
    expect(store.get(`${token}x`)).toBeNull();
    expect(store.get(undefined)).toBeNull();
    expect(store.delete(token)?.user).toBe('sam');
    expect(store.get(token)).toBeNull();
  });

  it('writes an HttpOnly SameSite=Strict cookie and reads it back', () => {
    const c = sessionCookie('abc', 600, false);
    expect(c).toBe(`${SESSION_COOKIE}=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=600`);
    expect(sessionCookie('abc', 600, true)).toContain('; Secure');
    expect(readCookie(`theme=dark; ${SESSION_COOKIE}=abc; x=1`, SESSION_COOKIE)).toBe('abc');
    expect(readCookie('theme=dark', SESSION_COOKIE)).toBeUndefined();
    expect(readCookie(undefined, SESSION_COOKIE)).toBeUndefined();
  });
});

describe('SessionStore persisted in the console database', () => {
  it('drops a sessions table written before sessions kept a credential fingerprint', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ce-sessions-old-')), 'console.sqlite');
    const old = new Database(file);
    old.exec(
      'CREATE TABLE sessions (id TEXT PRIMARY KEY, user TEXT NOT NULL, role TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)',
    );
    old
      .prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)')
      .run('x', 'alice', 'operator', Date.now(), Date.now() + 60_000);
    old.close();
    const db = new ConsoleStore(file);
    expect(db.loadSessions(Date.now())).toEqual([]);
    const store = new SessionStore({
      ttlMs: 60_000,
      persist: db,
      onPersistError: (err) => {
        throw err;
      },
    });
    const { token } = store.create('alice', 'operator', 'fp');
    expect(db.loadSessions(Date.now())).toMatchObject([{ user: 'alice', credential: 'fp', id: store.get(token)!.id }]);
    db.close();
  });

  const dir = mkdtempSync(join(tmpdir(), 'ce-sessions-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a restart: a session opened before it is still valid after, a logged-out or expired one is not', () => {
    const file = join(dir, 'restart.sqlite');
    let now = 5_000_000;
    let db = new ConsoleStore(file);
    let store = new SessionStore({ ttlMs: 60_000, now: () => now, persist: db });
    const alice = store.create('alice', 'operator');
    const sam = store.create('sam', 'supervisor');
    const olga = store.create('olga', 'operator');
    store.delete(sam.token);
    db.close();

    now += 30_000;
    db = new ConsoleStore(file); // the runtime restarted
    store = new SessionStore({ ttlMs: 60_000, now: () => now, persist: db });
    expect(store.get(alice.token)).toMatchObject({
      user: 'alice',
      role: 'operator',
      expiresAt: alice.session.expiresAt,
    });
    expect(store.get(sam.token)).toBeNull();
    expect(store.delete(olga.token)?.user).toBe('olga');
    db.close();

    now += 30_000; // alice's hour is up by the next start
    db = new ConsoleStore(file);
    store = new SessionStore({ ttlMs: 60_000, now: () => now, persist: db });
    expect(store.get(alice.token)).toBeNull();
    expect(store.get(olga.token)).toBeNull();
    expect(store.size).toBe(0);
    db.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 0 });
    raw.close();
  });

  it('stores only the digest of a token, and a shorter time to live applies to sessions opened under a longer one', () => {
    const file = join(dir, 'digest.sqlite');
    const now = 9_000_000;
    let db = new ConsoleStore(file);
    const { token } = new SessionStore({ ttlMs: 600_000, now: () => now, persist: db }).create('alice', 'operator');
    db.close();
    const raw = new Database(file, { readonly: true });
    const rows = raw.prepare('SELECT * FROM sessions').all() as Record<string, unknown>[];
    raw.close();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    db = new ConsoleStore(file);
    const store = new SessionStore({ ttlMs: 60_000, now: () => now, persist: db });
    expect(store.get(token)?.expiresAt).toBe(now + 60_000);
    db.close();
  });

  it('a log-out whose deletion fails is retried at the next request, so the session does not come back with a later restart', () => {
    const rows = new Map<string, Session>();
    let failDeletes = true;
    const flaky: SessionPersistence = {
      loadSessions: () => [...rows.values()],
      saveSession: (s) => void rows.set(s.id, s),
      deleteSession: (id) => {
        if (failDeletes) throw new Error('SQLITE_BUSY: database is locked');
        rows.delete(id);
      },
      deleteExpiredSessions: () => {},
    };
    const errors: string[] = [];
    const store = new SessionStore({
      ttlMs: 60_000,
      persist: flaky,
      onPersistError: (err, action) => errors.push(`${action}: ${err.message}`),
    });
    const { token, session } = store.create('alice', 'operator');
    store.delete(token);
    expect(errors).toEqual(['delete the ended session: SQLITE_BUSY: database is locked']);
    expect(store.get(token)).toBeNull();
    expect(store.has(session.id)).toBe(false);
    expect(rows.size).toBe(1); // every request tries again while the database refuses
    expect(errors.length).toBe(2);
    failDeletes = false;
    store.get(undefined); // the next request, of anyone
    expect(rows.size).toBe(0);
    store.create('sam', 'supervisor');
    expect([...rows.values()].map((r) => r.user)).toEqual(['sam']);
    expect(new SessionStore({ ttlMs: 60_000, persist: flaky }).get(token)).toBeNull();
  });

  it('a session loaded after the clock was set back still ends within one time to live', () => {
    const future: Session = {
      id: 'x',
      user: 'alice',
      role: 'operator',
      createdAt: 10_000_000,
      expiresAt: 10_060_000,
      credential: '',
    };
    const persist: SessionPersistence = {
      loadSessions: () => [future],
      saveSession: () => {},
      deleteSession: () => {},
      deleteExpiredSessions: () => {},
    };
    let now = 1_000_000; // the clock went back by 9,000 s
    const store = new SessionStore({ ttlMs: 60_000, now: () => now, persist });
    expect(store.size).toBe(1);
    now += 60_000;
    store.create('sam', 'operator'); // sweeps
    expect(store.size).toBe(1);
  });

  it('a database that cannot be written is reported, and log-ins go on in memory', () => {
    const broken: SessionPersistence = {
      loadSessions: () => [],
      saveSession: () => {
        throw new Error('SQLITE_FULL: database or disk is full');
      },
      deleteSession: () => {},
      deleteExpiredSessions: () => {},
    };
    const errors: string[] = [];
    const store = new SessionStore({
      ttlMs: 60_000,
      persist: broken,
      onPersistError: (err, action) => errors.push(`${action}: ${err.message}`),
    });
    const { token } = store.create('alice', 'operator');
    expect(errors).toEqual(['save the session: SQLITE_FULL: database or disk is full']);
    expect(store.get(token)?.user).toBe('alice');
  });
});
