import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, submitLogIn } from '../../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserDirectory } from '../../../console/server/users.js';
import { configSchema, type Config } from '../../../config/schema.js';
import { SiteRuntime } from '../../../app/site-runtime.js';
import type { AlertEvent, Region } from '../../../core/domain.js';
import { EmbeddedBroker } from '../../../app/embedded-broker.js';
import type { Lane } from '../../../app/context.js';
import { deviceStatus } from '../../../core/health.js';
import { silentLogger } from '../../../core/logger.js';
import { batchOf, completed, syntheticScan } from './synthetic-scan.js';

// The lane pipeline, bus, HTTP server and console are real; only the ONNX model is replaced by
// one that returns the detection each test queues.
vi.mock('../../../app/compose/model.js', async () => {
  const { scriptedDetector } = await import('./scripted-detector.js');
  return { createDetector: async () => scriptedDetector };
});
const { scriptedDetector } = await import('./scripted-detector.js');

let dir: string;
let broker: EmbeddedBroker;
let runtime: SiteRuntime;
let lane: Lane;
let browser: Browser;
let base: string;
const events: AlertEvent[] = [];
let central: MqttClient;
/** What central command received on the lane's event topic. */
const published: AlertEvent[] = [];
const TOPIC = 'checkpoint/e2e-site/lane-1';
/** Edge alert id by scan id. */
const alertIds = new Map<string, string>();

/** The id of the alert raised for a scan, once it is raised. */
async function alertOf(scanId: string): Promise<string> {
  const until = Date.now() + 15_000;
  while (!alertIds.has(scanId)) {
    if (Date.now() > until) throw new Error(`no alert raised for scan ${scanId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return alertIds.get(scanId)!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'console-e2e-'));
  mkdirSync(join(dir, 'drop'));
  const users = new UserDirectory(join(dir, 'users.json'));
  await users.set('alice', 'operator', 'alice-password-1');
  await users.set('sam', 'supervisor', 'sam-password-1');
  broker = new EmbeddedBroker({ port: 0 });
  await broker.start();
  const config: Config = configSchema.parse({
    site: { id: 'e2e-site', name: 'E2E crossing' },
    dataDir: join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { url: broker.url, protocolVersion: 4, commands: { identities: [{ name: 'central-hq' }] } },
    console: { sessionTtlMinutes: 30, usersFile: join(dir, 'users.json') },
    lanes: [
      { id: 'lane-1', name: 'Lane 1', scanner: { fileDrop: { dir: join(dir, 'drop') } }, model: { path: 'scripted' } },
    ],
  });
  runtime = new SiteRuntime({ config, log: silentLogger(), version: 'test', announce: () => {} });
  await runtime.start();
  lane = runtime.lanes[0]!;
  lane.bus.on('alert.event', 'e2e-test', (e) => {
    events.push(e);
  });
  // The lane mints its own alert ids (UUIDv7): the tests look them up by scan.
  lane.bus.on('alert.raised', 'e2e-test', (a) => {
    if (a.scanId) alertIds.set(a.scanId, a.alertId);
  });
  lane.bus.emit(
    'device.status',
    deviceStatus('scanner', 'ok', 'connected', { scannerState: 'Ready', interlocksOk: true, radiationOn: false }),
  );
  base = runtime.http.url;
  central = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'e2e-central', reconnectPeriod: 0 });
  central.on('message', (topic, payload) => {
    if (topic === `${TOPIC}/event`) published.push(JSON.parse(payload.toString()) as AlertEvent);
  });
  await central.subscribeAsync(`${TOPIC}/event`, { qos: 1 });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await central?.endAsync();
  await runtime?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function logIn(page: Page, user: string, password: string): Promise<void> {
  await submitLogIn(page, base, user, password);
}

/** Sends a scan through the lane as a scanner would: begin, lines in batches, end. */
async function driveScan(scanId: string, detection: { score: number; regions: Region[] }, plate: string, page?: Page) {
  // 400 channels: the live view is downsampled by 2 (320 lines wide), the full picture is not (640).
  const scan = syntheticScan({ scanId, laneId: 'lane-1', plate, channels: 400 });
  scriptedDetector.next(detection.score, detection.regions);
  lane.bus.emit('scan.begin', scan.meta);
  for (let first = 0; first < scan.image.width; first += 64) {
    lane.bus.emit('scan.lines', batchOf(scanId, scan.image, first, 64));
    if (page && first === 256) {
      // Mid-scan: the live view is building up and says so.
      await expectSoon(
        page,
        async () => Number(await page.getAttribute('[data-testid=scan-canvas]', 'data-width')) > 0,
        'live lines',
      );
      expect(Number(await page.getAttribute('[data-testid=scan-canvas]', 'data-width'))).toBeLessThanOrEqual(160);
      expect(await page.getAttribute('[data-testid=verdict]', 'data-verdict')).toBe('scanning');
    }
    await new Promise((r) => setTimeout(r, 15));
  }
  lane.bus.emit('scan.end', completed(scan.meta, scan.image));
  return scan;
}

async function expectSoon(page: Page, cond: () => Promise<boolean>, what = 'condition'): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (await cond()) return;
    await page.waitForTimeout(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Keeps the scan canvas's pixels (RGBA, as the operator sees them) in the page under `name`. */
async function snapshotCanvas(page: Page, name: string): Promise<void> {
  await page.$eval(
    '[data-testid=scan-canvas]',
    (c, n) => {
      const canvas = c as HTMLCanvasElement;
      const w = window as unknown as { snaps?: Record<string, Uint8ClampedArray> };
      w.snaps ??= {};
      w.snaps[n] = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data.slice();
    },
    name,
  );
}

/** Share of the canvas's pixels whose colour now differs from snapshot `name` by more than 8 levels in some channel. */
async function changedSince(page: Page, name: string): Promise<number> {
  return page.$eval(
    '[data-testid=scan-canvas]',
    (c, n) => {
      const canvas = c as HTMLCanvasElement;
      const a = (window as unknown as { snaps: Record<string, Uint8ClampedArray> }).snaps[n]!;
      const b = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      if (a.length !== b.length) return 1;
      let changed = 0;
      for (let i = 0; i < a.length; i += 4)
        if (Math.abs(a[i]! - b[i]!) > 8 || Math.abs(a[i + 1]! - b[i + 1]!) > 8 || Math.abs(a[i + 2]! - b[i + 2]!) > 8)
          changed++;
      return changed / (a.length / 4);
    },
    name,
  );
}

/** Sets a range input as a user dragging it would (value, then an input event). */
async function setRange(page: Page, label: string, value: number): Promise<void> {
  await page.$eval(
    `input[type=range][aria-label=${label}]`,
    (el, v) => {
      const input = el as HTMLInputElement;
      input.value = String(v);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    },
    value,
  );
}

/** Pixels of the region colour (#ff3b3b) in the scan canvas: only the drawn regions have it. */
async function redPixels(page: Page): Promise<number> {
  return page.$eval('[data-testid=scan-canvas]', (c) => {
    const canvas = c as HTMLCanvasElement;
    const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i]! > 220 && d[i + 1]! < 90 && d[i + 2]! < 90) n++;
    return n;
  });
}

describe('operator console in a real browser', () => {
  it('answers 401 to an API call without a session and refuses a POST without the CSRF header', async () => {
    const res = await fetch(`${base}/api/scans`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/not logged in/);
    const events = await fetch(`${base}/api/events`);
    expect(events.status).toBe(401);
    const noHeader = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice', password: 'alice-password-1' }),
    });
    expect(noHeader.status).toBe(403);
  });

  it('refuses a wrong password and says so', async () => {
    const page = await browser.newPage();
    await logIn(page, 'alice', 'not-her-password');
    await page.waitForSelector('[data-testid=login-error]');
    expect(await page.textContent('[data-testid=login-error]')).toContain('Wrong user name or password');
    expect(await page.$('[data-testid=user]')).toBeNull();
    await page.close();
  });

  it('shows a scan building up, the alert with its regions, and records the acknowledgement and disposition', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    // Counts the tones the page starts (WebAudio oscillators).
    await page.addInitScript(() => {
      const w = window as unknown as { tones: number };
      w.tones = 0;
      const create = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function (this: AudioContext) {
        w.tones++;
        return create.call(this);
      };
    });
    await logIn(page, 'alice', 'alice-password-1');
    await page.waitForSelector('[data-testid=user]');
    expect(await page.textContent('[data-testid=user]')).toContain('alice');
    // The session cookie is HttpOnly and SameSite=Strict.
    const cookie = (await page.context().cookies()).find((c) => c.name === 'ce_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await page.waitForSelector('[data-testid=status-banner]');
    await page.waitForSelector('.tile[data-device=scanner][data-state=ok]');
    expect(await page.textContent('.tile[data-device=scanner]')).toContain('Interlocks closed');
    // An interlock opening shows on the scanner's tile.
    lane.bus.emit(
      'device.status',
      deviceStatus('scanner', 'ok', 'connected', { scannerState: 'Ready', interlocksOk: false, radiationOn: false }),
    );
    await page.waitForSelector('.tile[data-device=scanner] .tile-info.bad:has-text("Interlocks OPEN")');
    lane.bus.emit(
      'device.status',
      deviceStatus('scanner', 'ok', 'connected', { scannerState: 'Ready', interlocksOk: true, radiationOn: false }),
    );

    const regions: Region[] = [
      { x: 340, y: 110, w: 40, h: 80, score: 0.93 },
      { x: 120, y: 60, w: 30, h: 30, score: 0.41 },
    ];
    await driveScan('S-E2E-1', { score: 0.93, regions }, 'AB-123-CD', page);
    const a1 = await alertOf('S-E2E-1');

    const banner = page.locator(`[data-testid=alert-banner][data-alert-id="${a1}"]`);
    await banner.waitFor();
    expect(await banner.getAttribute('data-state')).toBe('new');
    expect(await banner.textContent()).toContain('PERSON SUSPECTED');
    // The alert sounds.
    await expectSoon(
      page,
      async () => (await page.evaluate(() => (window as unknown as { tones: number }).tones)) > 0,
      'the alert tone',
    );
    await page.waitForSelector('[data-testid=verdict][data-verdict=person]');
    expect(await page.textContent('[data-testid=verdict]')).toContain('AB-123-CD');
    // The threshold the lane decided at is shown beside the score (this lane sets none and the
    // scripted model names no operating point: the fallback 0.5).
    expect(await page.textContent('[data-testid=verdict]')).toContain('(alert at 0.50)');
    await page.waitForSelector('[data-testid=scan-canvas][data-regions="2"]');
    expect(Number(await page.getAttribute('[data-testid=scan-canvas]', 'data-width'))).toBeLessThanOrEqual(640);
    // The full-resolution picture replaces the live preview, with the regions drawn in red.
    await page.waitForSelector('[data-testid=scan-canvas][data-width="640"]');
    await expectSoon(page, async () => (await redPixels(page)) > 200, 'regions drawn in red');

    // Contrast and views change the picture itself, not only the buttons.
    await snapshotCanvas(page, 'before');
    expect(await changedSince(page, 'before')).toBe(0);
    await setRange(page, 'Window', 24);
    await setRange(page, 'Level', 60);
    await expectSoon(
      page,
      async () => (await changedSince(page, 'before')) > 0.2,
      'a narrow window to change the picture',
    );
    await snapshotCanvas(page, 'narrow');
    await page.click('text=Material');
    await page.waitForSelector('.seg button.on:has-text("Material")');
    await expectSoon(
      page,
      async () => (await changedSince(page, 'narrow')) > 0.2,
      'the material view to change the picture',
    );

    await page.click('[data-testid=ack]');
    await page.waitForSelector('[data-testid=alert-banner][data-state=acknowledged]');
    expect(events.find((e) => e.type === 'acknowledged')).toMatchObject({
      alertId: a1,
      operator: 'alice',
      origin: 'console',
      laneId: 'lane-1',
      siteId: 'e2e-site',
    });

    await page.click('[data-testid=dispo-cleared-after-search]');
    await page.fill('[data-testid=dispo-note]', 'searched the cargo, nobody inside');
    await page.click('[data-testid=dispo-submit]');
    await page.waitForSelector('[data-testid=alert-banner]', { state: 'detached' });
    const row = page.locator(`.alert-row[data-alert-id="${a1}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('closed');
    expect(await row.textContent()).toContain('Cleared after search');
    expect(events.find((e) => e.type === 'cleared-after-search')).toMatchObject({
      alertId: a1,
      operator: 'alice',
      note: 'searched the cargo, nobody inside',
      origin: 'console',
    });
    // Central command receives both on the lane's event topic.
    await expectSoon(
      page,
      async () => published.some((e) => e.type === 'cleared-after-search'),
      'the disposition on MQTT',
    );
    expect(published.map((e) => [e.alertId, e.type, e.operator, e.origin])).toEqual([
      [a1, 'acknowledged', 'alice', 'console'],
      [a1, 'cleared-after-search', 'alice', 'console'],
    ]);
    expect(published[1]!.note).toBe('searched the cargo, nobody inside');

    // Kept: the alert API (SQLite) has the disposition.
    const alerts = (await page.evaluate(async () => (await fetch('/api/alerts')).json())) as {
      alerts: { alert: { alertId: string }; disposition: string; note: string }[];
    };
    expect(alerts.alerts.find((a) => a.alert.alertId === a1)).toMatchObject({
      disposition: 'cleared-after-search',
      note: 'searched the cargo, nobody inside',
    });

    // An acknowledgement and a disposition from central command show up as they arrive.
    await driveScan('S-E2E-2', { score: 0.81, regions: [{ x: 300, y: 100, w: 50, h: 90, score: 0.81 }] }, 'ZZ-999-XY');
    const a2 = await alertOf('S-E2E-2');
    const second = page.locator(`[data-testid=alert-banner][data-alert-id="${a2}"]`);
    await second.waitFor();
    // Central command acknowledges and closes it over MQTT (the lane's cmd/ topics).
    await central.publishAsync(`${TOPIC}/cmd/ack`, JSON.stringify({ alertId: a2, operator: 'hq-bob' }), { qos: 1 });
    await page.waitForSelector(`[data-testid=alert-banner][data-alert-id="${a2}"][data-state=acknowledged]`);
    // The acting identity is central's configured identity, never the name in the payload.
    expect(await page.textContent(`[data-alert-id="${a2}"] [data-testid=ack-info]`)).toContain(
      'central-hq at central command',
    );
    await central.publishAsync(
      `${TOPIC}/cmd/disposition`,
      JSON.stringify({ alertId: a2, disposition: 'false-alarm', operator: 'hq-bob', note: 'checked on the cameras' }),
      { qos: 1 },
    );
    await second.waitFor({ state: 'detached' });
    expect(await page.textContent(`.alert-row[data-alert-id="${a2}"]`)).toContain(
      'False alarm · central-hq at central command',
    );

    // History: search by plate and by verdict.
    await page.click('[data-testid=tab-history]');
    await page.waitForSelector('[data-testid=history-table] tbody tr');
    await page.fill('[data-testid=filter-plate]', '123');
    await page.click('form[data-testid=history-filters] button[type=submit]');
    await expectSoon(
      page,
      async () => (await page.$$('[data-testid=history-table] tbody tr')).length === 1,
      'one scan with plate 123',
    );
    await page.click('[data-testid=history-table] tbody tr[data-scan-id="S-E2E-1"]');
    await page.waitForSelector('[data-testid=history-viewer] [data-testid=scan-canvas][data-width="640"]');
    await page.close();

    const audit = (await fetch(`${base}/api/audit`)).status;
    expect(audit).toBe(401);
  }, 90_000);

  it('filters /api/scans by plate, verdict and time, and keeps the audit log for supervisors only', async () => {
    // Its own scans, log-ins and actions: this test does not depend on the ones before it.
    await driveScan('S-E2E-3', { score: 0.88, regions: [{ x: 200, y: 80, w: 40, h: 90, score: 0.88 }] }, 'FL-451-TR');
    const a3 = await alertOf('S-E2E-3');
    await driveScan('S-E2E-4', { score: 0.05, regions: [] }, 'CL-777-AA');
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await logIn(page, 'alice', 'not-her-password');
    await page.waitForSelector('[data-testid=login-error]');
    await logIn(page, 'alice', 'alice-password-1');
    await page.waitForSelector('[data-testid=user]');
    // A console opened after a scan was decided gets its full picture and views at once.
    await page.waitForSelector('.live [data-testid=scan-canvas][data-width="640"]');
    expect(await page.isEnabled('.seg button:has-text("Material")')).toBe(true);
    const get = (path: string) =>
      page.evaluate(async (p) => {
        const r = await fetch(p);
        return { status: r.status, body: await r.json() };
      }, path);
    const post = (path: string, body: unknown) =>
      page.evaluate(
        async ({ p, b }) => {
          const r = await fetch(p, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-console-request': '1' },
            body: JSON.stringify(b),
          });
          return r.status;
        },
        { p: path, b: body },
      );
    await expectSoon(
      page,
      async () => (await get('/api/scans?plate=fl-451')).body.scans.length === 1,
      'scan S-E2E-3 in the history',
    );
    const ids = async (q: string) =>
      (await get(`/api/scans?${q}`)).body.scans.map((x: { result: { scanId: string } }) => x.result.scanId);
    expect(await ids('plate=fl-451')).toEqual(['S-E2E-3']);
    expect(await ids('plate=fl-451&verdict=clear')).toEqual([]);
    expect(await ids('plate=cl-777&verdict=clear')).toEqual(['S-E2E-4']);
    expect(await ids('plate=fl-451&verdict=person')).toEqual(['S-E2E-3']);
    expect(await ids(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    expect((await get('/api/scans?verdict=maybe')).status).toBe(400);
    expect((await get('/api/audit')).status).toBe(403);
    await expectSoon(
      page,
      async () =>
        (await get('/api/alerts?open=1')).body.alerts.some(
          (a: { alert: { alertId: string } }) => a.alert.alertId === a3,
        ),
      'the alert of S-E2E-3',
    );
    expect(await post(`/api/alerts/${a3}/ack`, {})).toBe(200);
    expect(await post(`/api/alerts/${a3}/disposition`, { disposition: 'false-alarm', note: 'e2e' })).toBe(200);
    await ctx.close();

    const sup = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const sp = await sup.newPage();
    await logIn(sp, 'sam', 'sam-password-1');
    await sp.click('[data-testid=tab-audit]');
    await sp.waitForSelector('[data-testid=audit-table] tbody tr');
    const text = await sp.textContent('[data-testid=audit-table]');
    for (const action of ['login', 'acknowledge-alert', 'disposition-alert', 'search-scans'])
      expect(text).toContain(action);
    expect(text).toContain(a3);
    expect(text).toContain('refused'); // alice's wrong password in this test
    await sup.close();
  }, 90_000);
});
