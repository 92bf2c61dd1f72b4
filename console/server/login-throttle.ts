/**
 * Slows password guessing: after `maxFailures` failed log-ins for one user name from one address
 * within `windowMs`, further attempts for that pair are refused for `lockMs` (without checking
 * the password). A success clears the count.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; firstAt: number; lockedUntil: number }>();
  readonly #options: { maxFailures: number; windowMs: number; lockMs: number; now: () => number };

  constructor(opts: Partial<{ maxFailures: number; windowMs: number; lockMs: number; now: () => number }> = {}) {
    this.#options = {
      maxFailures: opts.maxFailures ?? 5,
      windowMs: opts.windowMs ?? 10 * 60_000,
      lockMs: opts.lockMs ?? 60_000,
      now: opts.now ?? (() => Date.now()),
    };
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
    for (const [k, f] of this.#failures)
      if (now - f.firstAt > this.#options.windowMs && f.lockedUntil <= now) this.#failures.delete(k);
  }
}

function key(user: string, ip: string | null): string {
  return `${ip ?? '?'}\u0000${user}`;
}

/**
 * A token bucket per key: `perMinute` attempts a minute, at most `perMinute` at once. take()
 * spends one and returns 0, or returns how many milliseconds until one is free (nothing spent).
 * At most `maxKeys` keys are tracked; full buckets are forgotten first.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #options: { perMinute: number; now: () => number; maxKeys: number };

  constructor(perMinute: number, opts: Partial<{ now: () => number; maxKeys: number }> = {}) {
    this.#options = { perMinute, now: opts.now ?? (() => Date.now()), maxKeys: opts.maxKeys ?? 10_000 };
  }

  take(key: string): number {
    const now = this.#options.now();
    const rate = this.#options.perMinute / 60_000;
    const b = this.#buckets.get(key) ?? { tokens: this.#options.perMinute, at: now };
    b.tokens = Math.min(this.#options.perMinute, b.tokens + (now - b.at) * rate);
    b.at = now;
    if (b.tokens < 1) {
      this.#buckets.set(key, b);
      return Math.ceil((1 - b.tokens) / rate);
    }
    b.tokens -= 1;
    this.#buckets.delete(key); // re-insert: the map's order is least recently used first
    this.#buckets.set(key, b);
    if (this.#buckets.size > this.#options.maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
    return 0;
  }
}

/** Thrown by HashQueue.run when the queue is full: answer 503, nothing was hashed. */
export class QueueFull extends Error {}

/**
 * Bounds how many password hashes (scrypt, 32 MiB and tens of milliseconds each, on libuv's
 * thread pool) run at once, so that log-ins cannot starve file I/O, DNS and the rest of the
 * lane: `concurrency` run, `maxQueued` wait in order, further ones are refused at once.
 */
export class HashQueue {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {}

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueued)
        throw new QueueFull(`${this.#running} password checks running and ${this.#waiting.length} waiting`);
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next)
        next(); // the slot passes to the next in line
      else this.#running--;
    }
  }
}

/** One audit row per burst of refused log-ins, instead of one fsynced row per attempt. */
export interface ThrottleAuditStore {
  audit(entry: {
    user?: string | null;
    action: string;
    ok?: boolean;
    detail?: Record<string, unknown>;
    ip?: string | null;
  }): { id: number };
  updateAuditDetail(id: number, detail: Record<string, unknown>): void;
}

interface Burst {
  id: number;
  reason: string;
  ip: string | null;
  firstAt: string;
  lastAt: number;
  attempts: number;
  written: number;
  users: Set<string>;
  /** The console-wide limit's bursts: the addresses seen (at most 20). */
  addresses: Set<string> | null;
}

/**
 * Aggregates throttled log-in attempts: the first attempt of a burst (per reason and address)
 * writes an audit row; later ones only count, and the row's detail (attempts, user names tried,
 * last attempt) is brought up to date at most every `flushMs`. A burst ends after `quietMs`
 * without attempts; the next one starts a new row.
 */
export class ThrottleAudit {
  readonly #bursts = new Map<string, Burst>();
  readonly #options: { store: ThrottleAuditStore; flushMs: number; quietMs: number; now: () => number };
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: { store: ThrottleAuditStore; flushMs?: number; quietMs?: number; now?: () => number }) {
    this.#options = {
      store: opts.store,
      flushMs: opts.flushMs ?? 5000,
      quietMs: opts.quietMs ?? 60_000,
      now: opts.now ?? (() => Date.now()),
    };
  }

  /**
   * Records one refused attempt; true when it opened a new burst (a new audit row). A burst is
   * per reason and address, or per reason alone with `acrossAddresses` (the console-wide limit:
   * the row then lists the addresses).
   */
  note(reason: string, ip: string | null, user: string, acrossAddresses = false): boolean {
    const now = this.#options.now();
    const key = acrossAddresses ? `${reason}\u0000*` : `${reason}\u0000${ip ?? ''}`;
    let b = this.#bursts.get(key);
    if (b && now - b.lastAt > this.#options.quietMs) {
      this.#write(b);
      this.#bursts.delete(key);
      b = undefined;
    }
    if (b) {
      b.attempts++;
      b.lastAt = now;
      if (b.users.size < 20) b.users.add(user);
      if (b.addresses && b.addresses.size < 20 && ip) b.addresses.add(ip);
      this.#schedule();
      return false;
    }
    const firstAt = new Date(now).toISOString();
    const addresses = acrossAddresses ? new Set(ip ? [ip] : []) : null;
    const row = this.#options.store.audit({
      user,
      action: 'login',
      ok: false,
      ip,
      detail: {
        reason,
        attempts: 1,
        users: [user],
        ...(addresses ? { addresses: [...addresses] } : {}),
        lastAt: firstAt,
      },
    });
    this.#bursts.set(key, {
      id: row.id,
      reason,
      ip,
      firstAt,
      lastAt: now,
      attempts: 1,
      written: 1,
      users: new Set([user]),
      addresses,
    });
    if (this.#bursts.size > 1000) this.#closeQuiet(now, true);
    return true;
  }

  /** Writes every count not yet written and closes the quiet bursts (also called by the timer). */
  flush(): void {
    this.#timer = null;
    const now = this.#options.now();
    for (const b of this.#bursts.values()) this.#write(b);
    this.#closeQuiet(now, false);
  }

  /** At stop: writes what is pending. */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const b of this.#bursts.values()) this.#write(b);
    this.#bursts.clear();
  }

  #closeQuiet(now: number, oldestToo: boolean): void {
    for (const [k, b] of this.#bursts) {
      if (now - b.lastAt > this.#options.quietMs || (oldestToo && this.#bursts.size > 1000)) {
        this.#write(b);
        this.#bursts.delete(k);
      }
    }
  }

  #write(b: Burst): void {
    if (b.written === b.attempts) return;
    this.#options.store.updateAuditDetail(b.id, {
      reason: b.reason,
      attempts: b.attempts,
      users: [...b.users],
      ...(b.addresses ? { addresses: [...b.addresses] } : {}),
      lastAt: new Date(b.lastAt).toISOString(),
    });
    b.written = b.attempts;
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.flush(), this.#options.flushMs);
    this.#timer.unref();
  }
}
