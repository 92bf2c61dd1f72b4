import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserDirectory } from '../../../console/server/users.js';
import { configSchema } from '../../../config/schema.js';
import { SiteRuntime } from '../../../app/site-runtime.js';
import type { Lane } from '../../../app/context.js';
import { EmbeddedBroker } from '../../../app/embedded-broker.js';
import { deviceStatus } from '../../../core/health.js';
import { silentLogger } from '../../../core/logger.js';
import type { AlertPayload } from '../../../core/mqtt-payloads.js';
import { centralKeys, entry, signed, snapshot } from '../../helpers/watchlist.js';
import { batchOf, completed, syntheticScan } from './synthetic-scan.js';

// The lane console in Chromium while the lane matches a list with a covert entry: the covert hit
// reaches central command over MQTT and never the console; an open hit is shown with the verdict.
vi.mock('../../../app/compose/model.js', async () => {
  const { scriptedDetector } = await import('./scripted-detector.js');
  return { createDetector: async () => scriptedDetector };
});
const { scriptedDetector } = await import('./scripted-detector.js');

const keys = centralKeys('central-e2e');

let dir: string;
let broker: EmbeddedBroker;
let runtime: SiteRuntime;
let lane: Lane;
let browser: Browser;
let central: MqttClient;
const atCentral: AlertPayload[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'watchlist-e2e-'));
  mkdirSync(join(dir, 'drop'));
  mkdirSync(join(dir, 'data', 'watchlists'), { recursive: true });
  // The last good version on disk, as a lane that took it from central earlier keeps it.
  writeFileSync(
    join(dir, 'data', 'watchlists', 'national.snapshot.bin'),
    signed(
      snapshot('national', 3, [
        entry({
          id: 'covert-1',
          plate: 'S-CO 999',
          country: 'DE',
          category: 'surveillance',
          action: 'discreet check - do not stop',
          covert: true,
        }),
        entry({
          id: 'open-1',
          plate: 'B-AB 1234',
          country: 'DE',
          category: 'stolen-vehicle',
          action: 'stop and search',
        }),
      ]),
      keys,
    ),
  );
  writeFileSync(join(dir, 'central.pub'), keys.publicPem);
  const users = new UserDirectory(join(dir, 'users.json'));
  await users.set('alice', 'operator', 'alice-password-1');
  broker = new EmbeddedBroker({ port: 0 });
  await broker.start();
  central = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'e2e-central', reconnectPeriod: 0 });
  central.on('message', (_t, payload) => void atCentral.push(JSON.parse(payload.toString()) as AlertPayload));
  await central.subscribeAsync('checkpoint/wl-e2e/lane-1/alert', { qos: 1 });
  runtime = new SiteRuntime({
    config: configSchema.parse({
      site: { id: 'wl-e2e' },
      dataDir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { url: broker.url, protocolVersion: 4 },
      console: { usersFile: join(dir, 'users.json') },
      watchlist: { keys: [{ keyId: 'central-e2e', publicKey: join(dir, 'central.pub') }] },
      lanes: [
        {
          id: 'lane-1',
          name: 'Lane 1',
          scanner: { fileDrop: { dir: join(dir, 'drop') } },
          model: { path: 'scripted' },
        },
      ],
    }),
    log: silentLogger(),
    version: 'test',
    announce: () => {},
  });
  await runtime.start();
  lane = runtime.lanes[0]!;
  lane.bus.emit('device.status', deviceStatus('scanner', 'ok', 'connected'));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await central?.endAsync();
  await runtime?.stop();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function driveScan(scanId: string, score: number, plate: string): Promise<void> {
  const scan = syntheticScan({ scanId, laneId: 'lane-1', plate, channels: 64 });
  scriptedDetector.next(score, score >= 0.5 ? [{ x: 10, y: 10, w: 20, h: 20, score }] : []);
  lane.bus.emit('scan.begin', scan.meta);
  for (let first = 0; first < scan.image.width; first += 128)
    lane.bus.emit('scan.lines', batchOf(scanId, scan.image, first, 128));
  lane.bus.emit('scan.end', completed(scan.meta, scan.image));
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  ms = 10_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function logIn(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(runtime.http.url);
  await page.fill('input[name=user]', 'alice');
  await page.fill('input[name=password]', 'alice-password-1');
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=verdict]');
  return page;
}

describe('watchlist hits on the lane console (Chromium)', () => {
  it('never shows a covert hit, which central command receives; shows an open hit with the person verdict of the same vehicle', async () => {
    const page = await logIn();
    // A covert vehicle, cleared by the model.
    await driveScan('COVERT-SCAN', 0.05, 'S CO 999');
    const covert = await waitFor('the covert hit at central', () =>
      atCentral.find((a) => a.kind === 'watchlist' && a.watchlist?.entry.id === 'covert-1'),
    );
    expect(covert).toMatchObject({
      scanId: 'COVERT-SCAN',
      watchlist: { entry: { covert: true, action: 'discreet check - do not stop' }, listVersion: 3 },
    });
    await page.waitForSelector('[data-testid=verdict][data-scan-id=COVERT-SCAN]');
    // The next vehicle: on the open list and flagged by the model.
    await driveScan('OPEN-SCAN', 0.93, 'B-AB 1234');
    await page.waitForSelector('[data-testid=verdict][data-scan-id=OPEN-SCAN][data-verdict=person]');
    const verdictHit = await page.waitForSelector(
      '[data-testid=verdict] [data-testid=verdict-watchlist] [data-testid=watchlist-hit][data-entry-id=open-1]',
    );
    expect(await verdictHit.textContent()).toMatch(/stop and search.*BAB1234 \(DE\).*B-AB 1234.*exact/);
    await page.waitForSelector('[data-testid=alert-banner] [data-testid=watchlist-hit][data-entry-id=open-1]', {
      state: 'attached',
    });
    expect(await page.locator('[data-testid=alert-banner]').count()).toBeGreaterThanOrEqual(2); // the person alert and the hit
    // Everything the console has shown and holds, in the page and through its API: nothing covert.
    const text = await page.textContent('body');
    expect(text).not.toMatch(/discreet check|SCO999|S CO 999|covert-1/);
    expect(await page.locator('[data-entry-id=covert-1]').count()).toBe(0);
    const api = await page.evaluate(async () => {
      const out: string[] = [];
      for (const path of ['/api/alerts', '/api/scans'])
        out.push(await (await fetch(path, { credentials: 'same-origin' })).text());
      return out.join('\n');
    });
    expect(api).toContain('open-1');
    expect(api).not.toMatch(/covert-1|discreet check/);
    await page.close();
  }, 60_000);
});
