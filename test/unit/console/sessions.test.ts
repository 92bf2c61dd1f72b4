import { describe, expect, it } from 'vitest';
import { readCookie, SESSION_COOKIE, sessionCookie, SessionStore } from '../../../console/server/sessions.js';

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
