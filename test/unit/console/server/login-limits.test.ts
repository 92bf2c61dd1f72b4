import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RuntimeHttpServer } from '../../../../app/http-server.js';
import { ConsoleService, type ConsoleLane, type ConsoleSite } from '../../../../console/server/console-service.js';
import { ConsoleStore } from '../../../../console/server/console-store.js';
import { HashQueue, QueueFull, RateLimiter, ThrottleAudit } from '../../../../console/server/login-throttle.js';
import { UserDirectory } from '../../../../console/server/users.js';
import { configSchema } from '../../../../config/schema.js';
import { clientIp } from '../../../../core/client-ip.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { silentLogger } from '../../../../core/logger.js';
import { LaneHealth } from '../../../../pipeline/lane-health.js';

let dir: string;
let http: RuntimeHttpServer | null = null;
let service: ConsoleService | null = null;
let base: string;

afterEach(async () => {
  await service?.stop();
  await http?.stop();
  service = null;
  http = null;
  rmSync(dir, { recursive: true, force: true });
});

async function start(login: Record<string, number>, httpCfg: Record<string, unknown> = {}): Promise<ConsoleService> {
  dir = mkdtempSync(join(tmpdir(), 'login-limits-'));
  const log = silentLogger();
  const config = configSchema.parse({
    site: { id: 'site-a' },
    dataDir: dir,
    http: { port: 0, ...httpCfg },
    console: { login },
    lanes: [{ id: 'lane-1', scanner: { fileDrop: { dir: join(dir, 'drop') } } }],
  });
  const bus = new EventBus<LaneEvents>(log);
  const health = new LaneHealth('lane-1');
  health.attach(bus);
  const lane: ConsoleLane = { id: 'lane-1', name: 'Lane 1', bus, health, scanState: () => 'idle' };
  http = new RuntimeHttpServer({ host: '127.0.0.1', port: 0, log });
  await http.start();
  const ctx: ConsoleSite = {
    config,
    lanes: [lane],
    log,
    dataDir: dir,
    http,
    version: 't',
    demo: false,
    announce: () => {},
  };
  const users = new UserDirectory(join(dir, 'users.json'));
  await users.set('alice', 'operator', 'alice-password-1');
  service = new ConsoleService(ctx, { skipWebBuild: true });
  await service.start();
  base = http.url;
  return service;
}

function login(user: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-console-request': '1', ...headers },
    body: JSON.stringify({ user, password }),
  });
}

/** Counts how many password checks run at once. */
function watchHashing(s: ConsoleService): { calls: () => number; maxAtOnce: () => number } {
  const original = s.users.authenticate.bind(s.users);
  let now = 0;
  let max = 0;
  let calls = 0;
  vi.spyOn(s.users, 'authenticate').mockImplementation(async (name, password) => {
    calls++;
    max = Math.max(max, ++now);
    try {
      return await original(name, password);
    } finally {
      now--;
    }
  });
  return { calls: () => calls, maxAtOnce: () => max };
}

describe('log-in limits', () => {
  it('80 parallel log-ins hash at most 2 passwords at once, and file I/O on the same thread pool is not stuck behind them', async () => {
    const s = await start({ perAddressPerMinute: 1000, perMinute: 1000, concurrentHashes: 2, queuedHashes: 100 });
    const hashing = watchHashing(s);
    const file = join(dir, 'some-file');
    writeFileSync(file, 'x'.repeat(4096));
    const order: string[] = [];
    const logins = Array.from({ length: 80 }, (_, i) =>
      login('alice', `wrong-guess-${i}`).then(async (r) => {
        order.push('login');
        return r.status;
      }),
    );
    // Every log-in has reached the server: 2 hashing, the rest in the queue.
    await vi.waitFor(() => expect(s.loginLoad.running + s.loginLoad.queued + order.length).toBe(80), {
      timeout: 60_000,
      interval: 5,
    });
    expect(s.loginLoad.running).toBeLessThanOrEqual(2);
    // A file read now (libuv's pool, like static files and evidence) is not queued behind 78 scrypts.
    const read = readFile(file).then(() => order.push('file'));
    const statuses = await Promise.all(logins);
    await read;
    expect(statuses.every((st) => st === 401)).toBe(true);
    expect(hashing.maxAtOnce()).toBe(2);
    expect(order.indexOf('file')).toBeLessThan(order.length - 70);
  }, 240_000);

  it('refuses a full queue at once with 503, without hashing', async () => {
    const s = await start({ perAddressPerMinute: 1000, perMinute: 1000, concurrentHashes: 1, queuedHashes: 2 });
    const hashing = watchHashing(s);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => login('alice', `guess-${i}`).then((r) => r.status)),
    );
    expect(statuses.filter((st) => st === 503).length).toBeGreaterThanOrEqual(1);
    expect(hashing.calls()).toBe(statuses.filter((st) => st === 401).length);
  });

  it('limits attempts per client address and in total before any hashing, and audits a burst of refusals as one row', async () => {
    const s = await start({ perAddressPerMinute: 3, perMinute: 1000, concurrentHashes: 2, queuedHashes: 16 });
    const hashing = watchHashing(s);
    const statuses: number[] = [];
    for (let i = 0; i < 23; i++) statuses.push((await login(`user-${i}`, 'whatever-password')).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(new Set(statuses.slice(3))).toEqual(new Set([429]));
    expect(hashing.calls()).toBe(3);
    // 20 refused attempts (spraying 20 user names): one audit row, not 20.
    const rows = s.store
      .listAudit({ action: 'login' })
      .filter((r) => r.detail?.reason === 'too many log-in attempts from this address');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ user: 'user-3', ok: false, ip: '127.0.0.1' });
  });

  it('applies a console-wide limit across addresses (given by a trusted proxy)', async () => {
    const s = await start(
      { perAddressPerMinute: 100, perMinute: 5, concurrentHashes: 2, queuedHashes: 16 },
      { trustedProxies: ['127.0.0.1'] },
    );
    const hashing = watchHashing(s);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await login('alice', `spray-${i}`, { 'x-forwarded-for': `10.9.0.${i + 1}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(hashing.calls()).toBe(5);
    expect(
      s.store
        .listAudit({ action: 'login' })
        .filter((r) => r.detail?.reason === 'too many log-in attempts on this console'),
    ).toHaveLength(1);
  });

  it('behind a trusted proxy, locks out the guessing address only: the operator still logs in from her own', async () => {
    await start(
      { perAddressPerMinute: 100, perMinute: 1000, concurrentHashes: 2, queuedHashes: 16 },
      { trustedProxies: ['127.0.0.1'] },
    );
    for (let i = 0; i < 5; i++)
      expect((await login('alice', `guess-${i}`, { 'x-forwarded-for': '203.0.113.66' })).status).toBe(401);
    expect((await login('alice', 'alice-password-1', { 'x-forwarded-for': '203.0.113.66' })).status).toBe(429);
    expect((await login('alice', 'alice-password-1', { 'x-forwarded-for': '10.20.0.41' })).status).toBe(200);
    expect(service!.store.listAudit({ action: 'login', limit: 1 })[0]).toMatchObject({
      user: 'alice',
      ok: true,
      ip: '10.20.0.41',
    });
  });

  it('without trusted proxies, ignores the header: a client cannot choose its own address', async () => {
    await start({ perAddressPerMinute: 2, perMinute: 1000, concurrentHashes: 2, queuedHashes: 16 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await login('alice', 'wrong-password', { 'x-forwarded-for': `198.51.100.${i}` })).status);
    expect(statuses).toEqual([401, 401, 429, 429]);
  });
});

describe('client address', () => {
  const req = (peer: string, xff?: string) =>
    ({ socket: { remoteAddress: peer }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as unknown as IncomingMessage;
  const o = { trustedProxies: ['10.0.0.2', '10.0.0.3'], header: 'x-forwarded-for' };
  it('believes the header only from a trusted proxy, reading it from the right', () => {
    expect(clientIp(req('::ffff:10.0.0.2', '1.2.3.4, 203.0.113.9'), o)).toBe('203.0.113.9');
    expect(clientIp(req('10.0.0.2', '1.2.3.4, 203.0.113.9, 10.0.0.3'), o)).toBe('203.0.113.9');
    expect(clientIp(req('192.0.2.7', '203.0.113.9'), o)).toBe('192.0.2.7');
    expect(clientIp(req('10.0.0.2', 'not-an-address'), o)).toBe('10.0.0.2');
    expect(clientIp(req('10.0.0.2'), o)).toBe('10.0.0.2');
  });
});

describe('log-in limit parts', () => {
  it('a token bucket refills at its rate', () => {
    let now = 0;
    const r = new RateLimiter(6, { now: () => now });
    for (let i = 0; i < 6; i++) expect(r.take('a')).toBe(0);
    expect(r.take('a')).toBe(10_000);
    expect(r.take('b')).toBe(0);
    now = 10_000;
    expect(r.take('a')).toBe(0);
  });

  it('the hash queue runs in order within its bound and refuses beyond the queue', async () => {
    const q = new HashQueue(1, 1);
    const release: (() => void)[] = [];
    const job = () => q.run(() => new Promise<void>((r) => release.push(r)));
    const a = job();
    const b = job();
    await expect(job()).rejects.toBeInstanceOf(QueueFull);
    expect([q.running, q.queued]).toEqual([1, 1]);
    release.shift()!();
    await a;
    await vi.waitFor(() => expect(release).toHaveLength(1));
    release.shift()!();
    await b;
    expect([q.running, q.queued]).toEqual([0, 0]);
  });

  it('aggregates a burst in one audit row, counts written at most every flush, a new row after a quiet minute', () => {
    let now = Date.parse('2026-12-06T10:00:00Z');
    const rows: { id: number; detail: Record<string, unknown> }[] = [];
    const store = {
      audit: (e: { detail?: Record<string, unknown> }) => {
        rows.push({ id: rows.length + 1, detail: e.detail! });
        return { id: rows.length };
      },
      updateAuditDetail: (id: number, detail: Record<string, unknown>) => {
        rows[id - 1]!.detail = detail;
      },
    };
    const a = new ThrottleAudit({ store, now: () => now, quietMs: 60_000 });
    for (let i = 0; i < 50; i++) a.note('rate', '10.0.0.9', `u${i % 3}`);
    expect(rows).toHaveLength(1);
    a.flush();
    expect(rows[0]!.detail).toMatchObject({ attempts: 50, users: ['u0', 'u1', 'u2'] });
    now += 61_000;
    a.note('rate', '10.0.0.9', 'u0');
    a.close();
    expect(rows.map((r) => r.detail.attempts)).toEqual([50, 1]);
  });

  it('the audit log is pruned after console.auditRetentionDays', () => {
    const d = mkdtempSync(join(tmpdir(), 'audit-prune-'));
    dir = d;
    const store = new ConsoleStore(join(d, 'c.sqlite'));
    store.audit({ action: 'login', user: 'a' });
    expect(store.pruneAudit(new Date(Date.now() - 86_400_000).toISOString())).toBe(0);
    expect(store.pruneAudit(new Date(Date.now() + 1000).toISOString())).toBe(1);
    expect(store.listAudit()).toEqual([]);
    store.close();
  });
});
