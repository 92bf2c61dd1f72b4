/**
 * Slows password guessing: after `maxFailures` failed log-ins for one user name from one address
 * within `windowMs`, further attempts for that pair are refused for `lockMs` (without checking
 * the password). A success clears the count.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; firstAt: number; lockedUntil: number }>();
  readonly #options: { maxFailures: number; windowMs: number; lockMs: number; now: () => number };

  constructor(opts: Partial<{ maxFailures: number; windowMs: number; lockMs: number; now: () => number }> = {}) {
    this.#options = { maxFailures: opts.maxFailures ?? 5, windowMs: opts.windowMs ?? 10 * 60_000, lockMs: opts.lockMs ?? 60_000, now: opts.now ?? (() => Date.now()) };
  }

  /** Milliseconds until this pair may try again, or 0. */
  blockedFor(user: string, ip: string | null): number {
    const f = this.#failures.get(key(user, ip));
    return f ? Math.max(0, f.lockedUntil - this.#options.now()) : 0;
  }

  failed(user: string, ip: string | null): void {
    const now = this.#options.now();
    const k = key(user, ip);
    let f = this.#failures.get(k);
    if (!f || now - f.firstAt > this.#options.windowMs) f = { count: 0, firstAt: now, lockedUntil: 0 };
    f.count++;
    if (f.count >= this.#options.maxFailures) {
      f.lockedUntil = now + this.#options.lockMs;
      f.count = 0;
      f.firstAt = now;
    }
    this.#failures.set(k, f);
    if (this.#failures.size > 10_000) this.#sweep(now);
  }

  succeeded(user: string, ip: string | null): void {
    this.#failures.delete(key(user, ip));
  }

  #sweep(now: number): void {
    for (const [k, f] of this.#failures) if (now - f.firstAt > this.#options.windowMs && f.lockedUntil <= now) this.#failures.delete(k);
  }
}

function key(user: string, ip: string | null): string {
  return `${ip ?? '?'}\u0000${user}`;
}
