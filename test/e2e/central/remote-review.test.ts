import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, submitLogIn } from '../../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CentralCommand } from '../../../central/central-service.js';
import { parseCentralConfig } from '../../../central/config.js';
import { hashPassword } from '../../../central/server/accounts.js';
import { UserDirectory } from '../../../console/server/users.js';
import { configSchema } from '../../../config/schema.js';
import { SiteRuntime } from '../../../app/site-runtime.js';
import type { Lane } from '../../../app/context.js';
import type { ReviewDecisionEvent } from '../../../core/events.js';
import type { AlertEvent } from '../../../core/domain.js';
import { EmbeddedBroker } from '../../../app/embedded-broker.js';
import { deviceStatus } from '../../../core/health.js';
import { silentLogger } from '../../../core/logger.js';
import { batchOf, completed, syntheticScan } from '../console/synthetic-scan.js';

// The lane (pipeline, MQTT output, console), the broker, central and the browser are real; only
// the ONNX model is replaced by one that returns the detection each test queues.
vi.mock('../../../app/compose/model.js', async () => {
  const { scriptedDetector } = await import('../console/scripted-detector.js');
  return { createDetector: async () => scriptedDetector };
});
const { scriptedDetector } = await import('../console/scripted-detector.js');

const ESCALATE_S = 5;

let dir: string;
let broker: EmbeddedBroker;
let lane: Lane;
let runtime: SiteRuntime;
let central: CentralCommand;
let browser: Browser;
const decisions: ReviewDecisionEvent[] = [];
const laneEvents: AlertEvent[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'central-e2e-'));
  mkdirSync(join(dir, 'drop'));
  broker = new EmbeddedBroker({ port: 0 });
  await broker.start();
  const users = new UserDirectory(join(dir, 'users.json'));
  await users.set('olga', 'operator', 'olga-password-1');
  runtime = new SiteRuntime({
    config: configSchema.parse({
      site: { id: 'north', name: 'North crossing' },
      dataDir: join(dir, 'lane'),
      http: { host: '127.0.0.1', port: 0 },
      mqtt: {
        url: broker.url,
        protocolVersion: 4,
        review: { verdicts: ['person'] },
        commands: { identities: [{ name: 'central' }] },
      },
      console: { usersFile: join(dir, 'users.json') },
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
  lane.bus.emit(
    'device.status',
    deviceStatus('scanner', 'ok', 'connected', { scannerState: 'Ready', interlocksOk: true, radiationOn: false }),
  );
  lane.bus.on('review.decision', 'e2e', (d) => void decisions.push(d));
  lane.bus.on('alert.event', 'e2e', (e) => void laneEvents.push(e));
  central = new CentralCommand({
    config: parseCentralConfig({
      dataDir: join(dir, 'central'),
      http: { host: '127.0.0.1', port: 0 },
      store: { kind: 'pglite', memory: true },
      ingest: { kind: 'mqtt', url: broker.url, protocolVersion: 4, clientId: 'central-e2e' },
      review: { escalateAfterS: ESCALATE_S, workLimitMinutes: 20, breakMinutes: 10 },
      accounts: { bootstrapAdmin: { name: 'root', password: 'root-password-1' } },
    }),
    log: silentLogger(),
  });
  await central.start();
  await central.store.putAccount('ann', 'analyst', await hashPassword('ann-password-1'));
  await central.store.putAccount('sue', 'supervisor', await hashPassword('sue-password-1'));
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await central?.stop();
  await runtime?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** A scan through the lane as the scanner sends it, with the detection the model will give. */
async function driveScan(scanId: string, score: number): Promise<void> {
  const scan = syntheticScan({ scanId, laneId: 'lane-1', plate: 'AB 12 CDO', channels: 200, lines: 256 });
  scriptedDetector.next(score, score >= 0.5 ? [{ x: 40, y: 30, w: 30, h: 50, score }] : []);
  lane.bus.emit('scan.begin', scan.meta);
  for (let first = 0; first < scan.image.width; first += 64)
    lane.bus.emit('scan.lines', batchOf(scanId, scan.image, first, 64));
  lane.bus.emit('scan.end', completed(scan.meta, scan.image));
}

/** With CENTRAL_SCREENSHOTS=<folder> (docs/screenshots), the views are saved there for the docs. */
async function shot(page: Page, name: string): Promise<void> {
  const out = process.env.CENTRAL_SCREENSHOTS;
  if (out) await page.screenshot({ path: join(out, `${name}.png`), fullPage: false });
}

async function logIn(page: Page, base: string, user: string, password: string): Promise<void> {
  await submitLogIn(page, base, user, password);
  await page.waitForSelector('[data-testid=user]');
}

describe('remote review from a lane to central command and back, in a real browser', () => {
  it('an analyst takes the scan the lane sent, decides it, and the lane console shows the decision', async () => {
    const lanePage = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await logIn(lanePage, runtime.http.url, 'olga', 'olga-password-1');
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await logIn(page, central.url, 'ann', 'ann-password-1');
    await page.click('[data-testid=tab-review]');

    await driveScan('RV-1', 0.93);
    await page.waitForSelector('[data-testid=review-row][data-scan-id=RV-1]', { timeout: 15_000 });
    await page.click('[data-testid=take-next]');
    await page.waitForSelector('[data-testid=review-current][data-scan-id=RV-1]');
    // The scan picture comes from the lane through central's evidence proxy.
    await page.waitForFunction(
      () => {
        const img = document.querySelector('[data-testid=review-current] img') as HTMLImageElement | null;
        return Boolean(img?.complete && img.naturalWidth > 0);
      },
      undefined,
      { timeout: 15_000 },
    );
    await page.fill('[data-testid=review-note]', 'shape behind the cab, search it');
    await shot(page, 'central-review');
    await page.click('[data-testid=decide-search]');
    await page.waitForSelector('[data-testid=review-msg]:has-text("confirmed")', { timeout: 15_000 });

    expect(decisions).toMatchObject([
      { scanId: 'RV-1', decision: 'search', analyst: 'ann', note: 'shape behind the cab, search it' },
    ]);
    const banner = await lanePage.waitForSelector('[data-testid=review-decision][data-scan-id=RV-1]', {
      timeout: 10_000,
    });
    expect(await banner.getAttribute('data-decision')).toBe('search');
    expect(await banner.textContent()).toContain('shape behind the cab, search it');
    await shot(lanePage, 'central-decision-on-lane-console');

    const audit = await central.store.auditLog(20);
    expect(audit.map((a) => [a.actor, a.action, a.target])).toEqual(
      expect.arrayContaining([
        ['ann', 'review-taken', 'north/lane-1/RV-1'],
        ['ann', 'review-decided', 'north/lane-1/RV-1'],
      ]),
    );
    await lanePage.close();
    await page.close();
  }, 90_000);

  it('a scan nobody takes is escalated to supervisors', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await logIn(page, central.url, 'sue', 'sue-password-1');
    await page.click('[data-testid=tab-review]');
    await driveScan('RV-2', 0.88);
    await page.waitForSelector('[data-testid=review-row][data-scan-id=RV-2][data-escalated=no]', { timeout: 15_000 });
    const row = await page.waitForSelector('[data-testid=review-row][data-scan-id=RV-2][data-escalated=yes]', {
      timeout: (ESCALATE_S + 15) * 1000,
    });
    expect(await row.textContent()).toContain('ESCALATED');
    await shot(page, 'central-review-escalated');
    await page.click('[data-testid=tab-alerts]');
    await page.waitForSelector('[data-testid=alert-row]');
    await page.click('[data-testid=alert-row]');
    await page.waitForSelector('[data-testid=alert-detail] img');
    await shot(page, 'central-alerts');
    await page.click('[data-testid=tab-lanes]');
    await page.waitForSelector('[data-testid=lane-row][data-lane="north/lane-1"]');
    await shot(page, 'central-lanes');
    expect(
      (await central.store.auditLog(50)).some(
        (a) => a.actor === 'system' && a.action === 'review-escalated' && a.target === 'north/lane-1/RV-2',
      ),
    ).toBe(true);
    // No decision went to the lane for it.
    expect(decisions.map((d) => d.scanId)).toEqual(['RV-1']);
    await page.close();
  }, 90_000);

  it('a supervisor acknowledges and dispositions an alert from the queue; the lane records both, and the queue shows them', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await logIn(page, central.url, 'sue', 'sue-password-1');
    // The lane mints the alert's id (a UUIDv7): find the one raised for scan RV-1.
    const alertId = (await central.store.alerts()).find((a) => a.scanId === 'RV-1')!.alertId;
    await page.click('[data-testid=tab-alerts]');
    await page.click(`[data-testid=alert-row][data-alert-id="${alertId}"]`);
    await page.click('[data-testid=ack]');
    await page.waitForSelector('[data-testid=alert-msg]:has-text("done")', { timeout: 15_000 });
    await page.selectOption('[data-testid=alert-detail] select', 'false-alarm');
    await page.click('[data-testid=dispose]');
    await expect
      .poll(() => laneEvents.map((e) => [e.alertId, e.type, e.operator, e.onBehalfOf, e.origin]), { timeout: 15_000 })
      .toEqual([
        // The lane records the central identity that acted, and the person central names.
        [alertId, 'acknowledged', 'central', 'sue', 'central'],
        [alertId, 'false-alarm', 'central', 'sue', 'central'],
      ]);
    // The lane publishes the events; central stores them and the open queue drops the alert.
    await page.waitForSelector(`[data-testid=alert-row][data-alert-id="${alertId}"]`, {
      state: 'detached',
      timeout: 15_000,
    });
    expect((await central.store.auditLog(50)).filter((a) => a.actor === 'sue').map((a) => a.action)).toEqual(
      expect.arrayContaining(['alert-ack', 'alert-disposition']),
    );
    await page.close();
  }, 90_000);
});
