import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../../../console/server/login-throttle.js';

describe('LoginThrottle', () => {
  it('locks a user name from one address after repeated failures, for a while', () => {
    let now = 0;
    const t = new LoginThrottle({ maxFailures: 3, windowMs: 60_000, lockMs: 10_000, now: () => now });
    t.failed('alice', '10.0.0.1');
    t.failed('alice', '10.0.0.1');
    expect(t.blockedFor('alice', '10.0.0.1')).toBe(0);
    t.failed('alice', '10.0.0.1');
    expect(t.blockedFor('alice', '10.0.0.1')).toBe(10_000);
    expect(t.blockedFor('alice', '10.0.0.2')).toBe(0); // another address
    expect(t.blockedFor('bob', '10.0.0.1')).toBe(0); // another name
    now += 10_000;
    expect(t.blockedFor('alice', '10.0.0.1')).toBe(0);
  });

  it('forgets failures outside the window and after a success', () => {
    let now = 0;
    const t = new LoginThrottle({ maxFailures: 2, windowMs: 1000, lockMs: 5000, now: () => now });
    t.failed('a', null);
    now += 1001;
    t.failed('a', null);
    expect(t.blockedFor('a', null)).toBe(0);
    t.succeeded('a', null);
    t.failed('a', null);
    expect(t.blockedFor('a', null)).toBe(0);
  });
});
