import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConsoleService, type ConsoleLane, type ConsoleSite } from '../../../../console/server/console-service.js';
import { UserDirectory } from '../../../../console/server/users.js';
import { configSchema } from '../../../../config/schema.js';
import type { AlertEvent, ScanResult } from '../../../../core/domain.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { RuntimeHttpServer } from '../../../../app/http-server.js';
import { LaneHealth } from '../../../../pipeline/lane-health.js';
import { alertFor } from '../../../../pipeline/lane-pipeline.js';
import { silentLogger } from '../../../../core/logger.js';
import { rawRequest } from '../../../helpers/http.js';
import { scanResult } from '../../../helpers/builders.js';

let dir: string;
let http: RuntimeHttpServer;
let service: ConsoleService;
let lane: ConsoleLane;
let announced: string[];
let base: string;

/** Dates the users file a minute back, so that the next write is seen as a change whatever the clock's resolution. */
function backdate(path: string): void {
  const past = new Date(Date.now() - 60_000);
  utimesSync(path, past, past);
}

async function start(opts: { demo?: boolean; ttlMinutes?: number; heartbeatMs?: number } = {}): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'console-api-'));
  const log = silentLogger();
  const config = configSchema.parse({
    site: { id: 'site-a' },
    dataDir: dir,
    http: { port: 0 },
    console: { sessionTtlMinutes: opts.ttlMinutes ?? 30 },
    lanes: [{ id: 'lane-1', scanner: { fileDrop: { dir: join(dir, 'drop') } } }],
  });
  const bus = new EventBus<LaneEvents>(log);
  const health = new LaneHealth('lane-1');
  health.attach(bus);
  lane = { id: 'lane-1', name: 'Lane 1', bus, health, scanState: () => 'idle' };
  http = new RuntimeHttpServer({ host: '127.0.0.1', port: 0, log });
  await http.start();
  announced = [];
  const ctx: ConsoleSite = {
    config,
    lanes: [lane],
    log,
    dataDir: dir,
    http,
    version: 't',
    demo: opts.demo ?? false,
    announce: (l) => announced.push(l),
  };
  if (!opts.demo) {
    const users = new UserDirectory(join(dir, 'users.json'));
    await users.set('alice', 'operator', 'alice-pass');
    await users.set('sam', 'supervisor', 'sam-pass');
  }
  service = new ConsoleService(ctx, {
    skipWebBuild: true,
    ...(opts.heartbeatMs ? { streamHeartbeatMs: opts.heartbeatMs } : {}),
  });
  await service.start();
  base = http.url;
}

afterEach(async () => {
  vi.useRealTimers();
  await service?.stop();
  await http?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const JSON_POST = { 'content-type': 'application/json', 'x-console-request': '1' };

async function login(
  user: string,
  password: string,
): Promise<{ status: number; cookie: string; setCookie: string | null }> {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: JSON_POST,
    body: JSON.stringify({ user, password }),
  });
  const setCookie = res.headers.get('set-cookie');
  return { status: res.status, cookie: setCookie?.split(';')[0] ?? '', setCookie };
}

function api(cookie: string, path: string, body?: unknown) {
  return fetch(
    `${base}${path}`,
    body === undefined
      ? { headers: { cookie } }
      : { method: 'POST', headers: { ...JSON_POST, cookie }, body: JSON.stringify(body) },
  );
}

function person(scanId: string): ScanResult {
  const now = new Date().toISOString();
  return scanResult({
    scanId,
    startedAt: now,
    endedAt: now,
    decidedAt: now,
    verdict: 'person',
    score: 0.9,
    regions: [{ x: 1, y: 1, w: 5, h: 5, score: 0.9 }],
    vehicle: { plate: 'AB-1' },
    lines: 10,
    channels: 10,
  });
}

describe('console API access', () => {
  beforeEach(() => start());

  it('answers 401 without a session, and refuses a wrong password with an audit entry', async () => {
    for (const path of ['/api/scans', '/api/alerts', '/api/lanes', '/api/events', '/api/session'])
      expect((await fetch(`${base}${path}`)).status).toBe(401);
    expect((await fetch(`${base}/api/alerts/x/ack`, { method: 'POST', headers: JSON_POST, body: '{}' })).status).toBe(
      401,
    );
    const bad = await login('alice', 'wrong');
    expect(bad.status).toBe(401);
    expect(bad.setCookie).toBeNull();
    expect((await login('nobody', 'alice-pass')).status).toBe(401);
    expect(service.store.listAudit({ action: 'login' }).map((e) => [e.user, e.ok])).toEqual([
      ['nobody', false],
      ['alice', false],
    ]);
  });

  it('sets an HttpOnly SameSite=Strict cookie and refuses POSTs without the CSRF header or from another origin', async () => {
    const ok = await login('alice', 'alice-pass');
    expect(ok.status).toBe(200);
    expect(ok.setCookie).toMatch(/^ce_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=1800$/);
    expect((await api(ok.cookie, '/api/session')).status).toBe(200);
    const noHeader = await fetch(`${base}/api/logout`, {
      method: 'POST',
      headers: { cookie: ok.cookie, 'content-type': 'application/json' },
    });
    expect(noHeader.status).toBe(403);
    const crossSite = await fetch(`${base}/api/logout`, {
      method: 'POST',
      headers: { ...JSON_POST, cookie: ok.cookie, origin: 'http://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    // A sandboxed frame or a file: page sends "Origin: null": refused as foreign, not a 500.
    const nullOrigin = await rawRequest(`${base}/api/logout`, {
      method: 'POST',
      headers: { ...JSON_POST, cookie: ok.cookie, origin: 'null' },
      body: '{}',
    });
    expect(nullOrigin.status).toBe(403);
    expect(JSON.parse(nullOrigin.body).error).toMatch(/origin "null" is not this console/);
    const garbage = await rawRequest(`${base}/api/login`, {
      method: 'POST',
      headers: { ...JSON_POST, origin: '::nonsense' },
      body: '{}',
    });
    expect(garbage.status).toBe(403);
    const formPost = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'x-console-request': '1', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=alice&password=alice-pass',
    });
    expect(formPost.status).toBe(415);
    expect((await api(ok.cookie, '/api/logout', {})).status).toBe(200);
    expect((await api(ok.cookie, '/api/session')).status).toBe(401);
  });

  it('refuses log-ins for a while after five wrong passwords, even with the right one', async () => {
    for (let i = 0; i < 5; i++) expect((await login('alice', `guess-${i}`)).status).toBe(401);
    const res = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: JSON_POST,
      body: JSON.stringify({ user: 'alice', password: 'alice-pass' }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(service.store.listAudit({ action: 'login', limit: 1 })[0]).toMatchObject({
      user: 'alice',
      ok: false,
      detail: { reason: 'too many failed log-ins' },
    });
    expect((await login('sam', 'sam-pass')).status).toBe(200);
  });

  it('expires a session after console.sessionTtlMinutes', async () => {
    const { cookie } = await login('alice', 'alice-pass');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 31 * 60_000);
    const res = await api(cookie, '/api/scans');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/session expired/);
  });

  it('ends the sessions of an account removed from the users file, and applies a changed role at once', async () => {
    const alice = await login('alice', 'alice-pass');
    const sam = await login('sam', 'sam-pass');
    const users = new UserDirectory(join(dir, 'users.json'));
    backdate(join(dir, 'users.json'));
    await users.set('alice', 'supervisor', 'alice-pass', { replace: true });
    expect((await api(alice.cookie, '/api/audit')).status).toBe(200);
    users.remove('sam');
    const res = await api(sam.cookie, '/api/scans');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('the account sam no longer exists');
  });

  it('a new password closes the live stream of a session opened with the old one, even when it makes no request', async () => {
    await service.stop();
    await http.stop();
    rmSync(dir, { recursive: true, force: true });
    await start({ heartbeatMs: 50 });
    const { cookie } = await login('alice', 'alice-pass');
    const res = await fetch(`${base}/api/events`, { headers: { cookie } });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: hello');
    const users = new UserDirectory(join(dir, 'users.json'));
    backdate(join(dir, 'users.json'));
    await users.set('alice', 'operator', 'alice-new-pass', { replace: true });
    const deadline = Date.now() + 3000;
    let ended = false;
    while (!ended && Date.now() < deadline) ended = (await reader.read()).done;
    expect(ended).toBe(true);
  });

  it('a new password ends the sessions opened with the old one', async () => {
    const alice = await login('alice', 'alice-pass');
    const users = new UserDirectory(join(dir, 'users.json'));
    backdate(join(dir, 'users.json'));
    await users.set('alice', 'operator', 'alice-new-pass', { replace: true });
    const res = await api(alice.cookie, '/api/scans');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('the password of alice was changed: log in again');
    expect((await api((await login('alice', 'alice-new-pass')).cookie, '/api/scans')).status).toBe(200);
  });

  it('keeps the audit log and the users list for supervisors', async () => {
    const op = await login('alice', 'alice-pass');
    expect((await api(op.cookie, '/api/audit')).status).toBe(403);
    expect((await api(op.cookie, '/api/users')).status).toBe(403);
    const sup = await login('sam', 'sam-pass');
    const users = (await (await api(sup.cookie, '/api/users')).json()) as {
      users: { name: string; password?: string }[];
    };
    expect(users.users.map((u) => u.name)).toEqual(['alice', 'sam']);
    expect(users.users.every((u) => u.password === undefined)).toBe(true);
    expect((await api(sup.cookie, '/api/audit')).status).toBe(200);
  });
});

describe('console API alerts', () => {
  beforeEach(() => start());

  it('acknowledges, then records a disposition, each as an alert.event on the lane bus', async () => {
    const events: AlertEvent[] = [];
    lane.bus.on('alert.event', 'test', (e) => {
      events.push(e);
    });
    const r = person('S1');
    lane.bus.emit('scan.decided', { result: r });
    const raised = alertFor(r)!;
    lane.bus.emit('alert.raised', raised);
    const { cookie } = await login('alice', 'alice-pass');
    const early = await api(cookie, `/api/alerts/${raised.alertId}/disposition`, { disposition: 'false-alarm' });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: string }).error).toMatch(/must be acknowledged/);
    expect((await api(cookie, '/api/alerts/nope/ack', {})).status).toBe(404);
    expect((await api(cookie, `/api/alerts/${raised.alertId}/ack`, {})).status).toBe(200);
    expect((await api(cookie, `/api/alerts/${raised.alertId}/ack`, {})).status).toBe(409);
    expect((await api(cookie, `/api/alerts/${raised.alertId}/disposition`, { disposition: 'maybe' })).status).toBe(400);
    const done = await api(cookie, `/api/alerts/${raised.alertId}/disposition`, {
      disposition: 'person-found',
      note: ' two adults ',
    });
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({
      state: 'closed',
      disposition: 'person-found',
      note: 'two adults',
      dispositionBy: 'alice',
    });
    expect(events.map((e) => [e.type, e.operator, e.origin, e.alertId, e.note])).toEqual([
      ['acknowledged', 'alice', 'console', raised.alertId, undefined],
      ['person-found', 'alice', 'console', raised.alertId, 'two adults'],
    ]);
    expect(service.store.listAudit({ user: 'alice' }).map((e) => `${e.action}:${e.ok}`)).toEqual([
      'disposition-alert:true',
      'disposition-alert:false',
      'acknowledge-alert:false',
      'acknowledge-alert:true',
      'acknowledge-alert:false',
      'disposition-alert:false',
      'login:true',
    ]);
  });

  it("keeps central command's commands in the audit log like console actions", async () => {
    lane.bus.emit('audit', {
      laneId: 'lane-1',
      at: new Date().toISOString(),
      user: 'central-hq',
      role: 'central',
      action: 'disposition-alert',
      target: 'A1',
      ok: true,
      detail: { via: 'mqtt', onBehalfOf: 'op1' },
    });
    const sam = await login('sam', 'sam-pass');
    const entries = (await (await api(sam.cookie, '/api/audit?user=central-hq')).json()) as {
      entries: {
        user: string;
        role: string;
        action: string;
        target: string;
        ok: boolean;
        detail: Record<string, unknown>;
      }[];
    };
    expect(entries.entries).toEqual([
      expect.objectContaining({
        user: 'central-hq',
        role: 'central',
        action: 'disposition-alert',
        target: 'A1',
        ok: true,
        detail: { laneId: 'lane-1', via: 'mqtt', onBehalfOf: 'op1' },
      }),
    ]);
  });

  it('raises a test alert on a lane for whoever wants to check the chain', async () => {
    const raised: string[] = [];
    lane.bus.on('alert.raised', 'test', (a) => {
      raised.push(`${a.kind}/${a.severity}/${a.laneId}`);
    });
    const { cookie } = await login('alice', 'alice-pass');
    const res = await api(cookie, '/api/lanes/lane-1/test-alert', {});
    expect(res.status).toBe(200);
    const rec = (await res.json()) as { alert: { alertId: string; message: string }; state: string };
    expect(rec.state).toBe('new');
    expect(rec.alert.message).toContain('(alice)');
    expect(raised).toEqual(['test/info/lane-1']);
    expect((await api(cookie, '/api/lanes/lane-9/test-alert', {})).status).toBe(404);
    expect(service.store.listAudit({ action: 'test-alert' })[0]).toMatchObject({
      user: 'alice',
      target: rec.alert.alertId,
    });
  });

  it('streams a hello with the lane and its open alerts, then live lines and decisions', async () => {
    const r = person('S2');
    lane.bus.emit('scan.decided', { result: r });
    const raised = alertFor(r)!;
    lane.bus.emit('alert.raised', raised);
    const { cookie } = await login('alice', 'alice-pass');
    const ac = new AbortController();
    const res = await fetch(`${base}/api/events`, { headers: { cookie }, signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const until = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += new TextDecoder().decode(value);
      }
    };
    await until('event: hello');
    await until('\n\n');
    const hello = JSON.parse(/event: hello\ndata: (.*)\n/.exec(text)![1]!) as {
      user: string;
      lanes: { id: string }[];
      alerts: { alert: { alertId: string }; state: string }[];
    };
    expect(hello.user).toBe('alice');
    expect(hello.lanes.map((l) => l.id)).toEqual(['lane-1']);
    expect(hello.alerts.map((a) => [a.alert.alertId, a.state])).toEqual([[raised.alertId, 'new']]);
    lane.bus.emit('scan.begin', {
      scanId: 'S3',
      laneId: 'lane-1',
      startedAt: new Date().toISOString(),
      channels: 8,
      energies: 1,
      pixelMm: 5,
      source: 'stream',
    });
    lane.bus.emit('scan.lines', {
      scanId: 'S3',
      firstIndex: 0,
      count: 2,
      channels: 8,
      high: new Uint16Array(16).fill(65535),
    });
    await until('event: scan.lines');
    await until('"height":8');
    lane.bus.emit('alert.event', {
      eventId: 'c1',
      alertId: raised.alertId,
      laneId: 'lane-1',
      siteId: 'site-a',
      at: new Date().toISOString(),
      type: 'acknowledged',
      operator: 'hq',
      origin: 'central',
    });
    await until('"acknowledgedOrigin":"central"');
    ac.abort();
  });
});

describe('console in demo mode', () => {
  beforeEach(() => start({ demo: true }));

  it('announces its URL first, then demo credentials that log in', async () => {
    expect(announced[0]).toBe(`console: ${base}`);
    const m = /user demo \/ password (\S+) \(operator\); user demo-supervisor \/ password (\S+) \(supervisor\)/.exec(
      announced[1] ?? '',
    );
    expect(m, announced.join('\n')).not.toBeNull();
    expect((await login('demo', m![1]!)).status).toBe(200);
    expect((await login('demo-supervisor', m![2]!)).status).toBe(200);
  });
});

describe('console with a broken users file', () => {
  it('starts, says why nobody can log in, and refuses log-ins with the reason', async () => {
    dir = mkdtempSync(join(tmpdir(), 'console-api-'));
    writeFileSync(join(dir, 'users.json'), '{"users": [');
    const log = silentLogger();
    const config = configSchema.parse({
      site: { id: 's' },
      dataDir: dir,
      http: { port: 0 },
      lanes: [{ id: 'lane-1', scanner: { fileDrop: { dir: join(dir, 'drop') } } }],
    });
    const bus = new EventBus<LaneEvents>(log);
    lane = { id: 'lane-1', name: 'Lane 1', bus, health: new LaneHealth('lane-1'), scanState: () => 'idle' };
    http = new RuntimeHttpServer({ host: '127.0.0.1', port: 0, log });
    await http.start();
    announced = [];
    service = new ConsoleService(
      { config, lanes: [lane], log, dataDir: dir, http, version: 't', demo: false, announce: (l) => announced.push(l) },
      { skipWebBuild: true },
    );
    await service.start();
    base = http.url;
    expect(announced[1]).toMatch(/^console: nobody can log in: users file .*users\.json is not valid JSON/);
    const res = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: JSON_POST,
      body: JSON.stringify({ user: 'a', password: 'b' }),
    });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /log-in is not possible: users file .* is not valid JSON/,
    );
  });
});
