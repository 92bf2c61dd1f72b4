import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, submitLogIn } from '../../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CentralCommand } from '../../../central/central-service.js';
import { parseCentralConfig } from '../../../central/config.js';
import { hashPassword } from '../../../central/server/accounts.js';
import { SiteRuntime } from '../../../app/site-runtime.js';
import { EmbeddedBroker } from '../../../app/embedded-broker.js';
import { configSchema } from '../../../config/schema.js';
import type { Alert } from '../../../core/domain.js';
import { silentLogger } from '../../../core/logger.js';
import { centralKeys } from '../../helpers/watchlist.js';

// Central command's watchlist tabs in Chromium with a real lane: a supervisor imports a list as
// CSV, adds and expires entries, signs and publishes it; the lane takes it and hits on its reads;
// the hits (covert included) come back to central, where an analyst records a misread; the audit
// holds every change and the verification.
const keys = centralKeys('central-e2e');
const CSV = `id,plate,country,category,action,priority,source,covert
p1,B-AB 1234,DE,stolen-vehicle,stop and search,1,national-police,false
k1,S-CO 999,DE,surveillance,discreet check - do not stop,1,national-police,true
x1,X-EX 1,DE,stolen-vehicle,stop and search,1,national-police,false
`;

let dir: string;
let broker: EmbeddedBroker;
let runtime: SiteRuntime;
let central: CentralCommand;
let browser: Browser;
const laneAlerts: Alert[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'central-wl-e2e-'));
  mkdirSync(join(dir, 'drop'));
  writeFileSync(join(dir, 'central.key'), keys.privatePem);
  writeFileSync(join(dir, 'central.pub'), keys.publicPem);
  broker = new EmbeddedBroker({ port: 0 });
  await broker.start();
  runtime = new SiteRuntime({
    config: configSchema.parse({
      site: { id: 'north' },
      dataDir: join(dir, 'lane'),
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { url: broker.url, protocolVersion: 4 },
      watchlist: { keys: [{ keyId: 'central-e2e', publicKey: join(dir, 'central.pub') }] },
      lanes: [{ id: 'lane-1', scanner: { fileDrop: { dir: join(dir, 'drop') } } }],
    }),
    log: silentLogger(),
    version: 'test',
    announce: () => {},
  });
  await runtime.build();
  runtime.lanes[0]!.bus.on('alert.raised', 'e2e', (a) => void laneAlerts.push(a));
  await runtime.start();
  central = new CentralCommand({
    config: parseCentralConfig({
      dataDir: join(dir, 'central'),
      http: { host: '127.0.0.1', port: 0 },
      store: { kind: 'pglite', memory: true },
      ingest: { kind: 'mqtt', url: broker.url, protocolVersion: 4, clientId: 'central-wl-e2e' },
      watchlist: { keyId: 'central-e2e', privateKey: join(dir, 'central.key') },
    }),
    log: silentLogger(),
  });
  await central.start();
  await central.store.putAccount('ann', 'analyst', await hashPassword('ann-password-1'));
  await central.store.putAccount('sue', 'supervisor', await hashPassword('sue-password-1'));
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await central?.stop();
  await runtime?.stop();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function logIn(user: string, password: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await submitLogIn(page, central.url, user, password);
  await page.waitForSelector('[data-testid=user]');
  return page;
}

async function waitFor<T>(what: string, probe: () => T | undefined | null | false, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const read = (plate: string) =>
  fetch(`${runtime.http.url}/api/anpr/lane-1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ plate, confidence: 0.88 }),
  });

describe('watchlists managed at central command, in a real browser', () => {
  it('a supervisor imports, edits, expires and publishes; the lane hits; an analyst verifies a hit; all audited', async () => {
    const sue = await logIn('sue', 'sue-password-1');
    await sue.click('[data-testid=tab-watchlists]');
    await sue.fill('[data-testid=csv]', CSV);
    await sue.click('[data-testid=import]');
    await sue.waitForSelector('[data-testid=watchlist-message]:has-text("3 entries imported")');
    const form = '[data-testid=entry-form]';
    await sue.fill(`${form} input[name=id]`, 'c1');
    await sue.fill(`${form} input[name=containerCode]`, 'CSQU 305438 4'); // wrong check digit
    await sue.fill(`${form} input[name=category]`, 'smuggling');
    await sue.fill(`${form} input[name=action]`, 'stop and search');
    await sue.fill(`${form} input[name=source]`, 'customs');
    await sue.click(`${form} button[type=submit]`);
    await sue.waitForSelector('[data-testid=watchlist-message]:has-text("check digit 4, ISO 6346 gives 3")');
    await sue.fill(`${form} input[name=containerCode]`, 'CSQU 305438 3');
    await sue.click(`${form} button[type=submit]`);
    await sue.waitForSelector('[data-testid=watchlist-message]:has-text("entry c1 saved")');
    // The table is reloaded after a save; the click waits for the reloaded one, or it lands on a row being replaced.
    await sue.waitForSelector('tr[data-entry-id=c1]');
    await sue.click('[data-testid=expire-x1]');
    await sue.waitForSelector('[data-testid=watchlist-message]:has-text("entry x1 expired")');
    await sue.click('[data-testid=publish]');
    await sue.waitForSelector(
      '[data-testid=watchlist-message]:has-text("national v1 (4 entries) signed and published")',
    );

    const laneHealth = () => runtime.lanes[0]!.health.get('watchlist');
    await waitFor('the lane holding national v1', () => laneHealth()?.info?.['version.national'] === 1);

    await read('B AB 1234');
    await read('S CO 999');
    await read('X EX 1'); // expired at central before publishing: no hit
    await waitFor('the open hit on the lane', () => laneAlerts.find((a) => a.watchlist?.entry.id === 'p1'));

    const ann = await logIn('ann', 'ann-password-1');
    await ann.click('[data-testid=tab-hits]');
    const covertRow = await ann.waitForSelector('[data-testid=hits] tr:has-text("SCO999")', { timeout: 20_000 });
    expect(await covertRow.textContent()).toMatch(/covert.*S CO 999 \(88 %, anpr\).*discreet check - do not stop/);
    const openRow = await ann.waitForSelector('[data-testid=hits] tr:has-text("BAB1234")');
    await (await openRow.$('button:has-text("Misread")'))!.click();
    await ann.waitForSelector(
      '[data-testid=hits] tr:has-text("BAB1234") [data-testid=verification]:has-text("misread · ann")',
    );
    expect(await ann.locator('[data-testid=hits] tr:has-text("XEX1")').count()).toBe(0);
    expect(laneAlerts.find((a) => a.watchlist?.entry.id === 'k1')).toBeUndefined(); // covert: never on the lane's alert event

    const audit = await central.store.auditLog(50);
    expect(audit.map((a) => [a.actor, a.action, a.target])).toEqual(
      expect.arrayContaining([
        ['sue', 'watchlist-imported', 'national'],
        ['sue', 'watchlist-entry-set', 'national/c1'],
        ['sue', 'watchlist-entry-expired', 'national/x1'],
        ['sue', 'watchlist-published', 'national'],
        ['ann', 'watchlist-hit-verified', expect.stringMatching(/^north\/lane-1\//)],
      ]),
    );
    await sue.close();
    await ann.close();
  }, 180_000);
});
