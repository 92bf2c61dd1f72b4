import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserDirectory } from '../../../console/server/users.js';
import { configSchema } from '../../../config/schema.js';
import { encodeFrame } from '../../../firmware-bridge/scanner/protocol/frames.js';
import { SiteRuntime } from '../../../app/site-runtime.js';
import type { Lane } from '../../../app/context.js';
import { deviceStatus } from '../../../core/health.js';
import { silentLogger } from '../../../core/logger.js';

// The lane's tiles and headline when its scanner links go down, in Chromium. The scanner's line
// stream is real (a TCP peer that says hello and its status, then is cut off); the OPC UA side's
// status is put on the lane bus as its client would. The model is a scripted stand-in (ok).
vi.mock('../../../app/compose/model.js', async () => {
  const { scriptedDetector } = await import('./scripted-detector.js');
  return { createDetector: async () => scriptedDetector };
});

const READY = {
  scannerState: 'Ready',
  interlocks: 0,
  interlocksOpen: '',
  speedKmh: 0,
  radiationOn: false,
  fault: null,
};

let dir: string;
let runtime: SiteRuntime;
let lane: Lane;
let browser: Browser;
let page: Page;
let scanner: Server;
const sockets: Socket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'console-status-e2e-'));
  const users = new UserDirectory(join(dir, 'users.json'));
  await users.set('alice', 'operator', 'alice-password-1');
  scanner = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.write(encodeFrame({ type: 'hello', heartbeatMs: 60_000, device: 'e2e-scanner', firmware: '1.0' }, 1));
    s.write(encodeFrame({ type: 'status', state: 'ready', radiationOn: false, interlocksOk: true, speedKmh: null }, 2));
  });
  await new Promise<void>((r) => scanner.listen(0, '127.0.0.1', () => r()));
  const config = configSchema.parse({
    site: { id: 'status-site' },
    dataDir: join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0 },
    console: { usersFile: join(dir, 'users.json') },
    lanes: [
      {
        id: 'lane-1',
        name: 'Lane 1',
        scanner: {
          transport: { type: 'tcp', host: '127.0.0.1', port: (scanner.address() as { port: number }).port },
          reconnect: { initialMs: 100, maxMs: 200 },
        },
        model: { path: 'scripted' },
      },
    ],
  });
  runtime = new SiteRuntime({ config, log: silentLogger(), version: 'test', announce: () => {} });
  await runtime.start();
  lane = runtime.lanes[0]!;
  lane.bus.emit('device.status', deviceStatus('scanner.opcua', 'ok', 'scanner Ready', READY));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(runtime.http.url);
  await page.fill('input[name=user]', 'alice');
  await page.fill('input[name=password]', 'alice-password-1');
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=user]');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const s of sockets) s.destroy();
  scanner?.close();
  await runtime?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const tile = (device: string) => page.locator(`.tile[data-device="${device}"]`);
const headline = () => page.locator('[data-testid=status-banner]');

describe('lane status in the console when scanner links go down', () => {
  it("with both links up: screening active, the scanner's state and interlocks on its tiles", async () => {
    await page.waitForSelector('.tile[data-device=scanner][data-state=ok]');
    await page.waitForSelector('.tile[data-device=scanner] .tile-info:has-text("State: ready")');
    expect(await tile('scanner').textContent()).toContain('Interlocks closed');
    expect(await tile('scanner.opcua').textContent()).toContain('Interlocks closed');
    await page.waitForSelector('[data-testid=status-banner][data-level=ok]');
    expect(await headline().textContent()).toContain('SCREENING ACTIVE');
  });

  it('OPC UA lost alone: its tile shows unknown values, the headline says control is lost and screening goes on', async () => {
    // As an older client would send it: the last values seen, with the link down.
    lane.bus.emit(
      'device.status',
      deviceStatus('scanner.opcua', 'disconnected', 'opc.tcp://10.0.0.5:4840: connection refused', READY),
    );
    await page.waitForSelector('.tile[data-device="scanner.opcua"][data-state=disconnected]');
    const opcua = (await tile('scanner.opcua').textContent())!;
    expect(opcua).toContain('State: unknown');
    expect(opcua).toContain('Interlocks: unknown');
    expect(opcua).not.toContain('Interlocks closed');
    expect(opcua).not.toContain('State: Ready');
    await page.waitForSelector('[data-testid=status-banner][data-level=warn]');
    const h = (await headline().textContent())!;
    expect(h).toContain('SCANNER CONTROL LOST — SCREENING GOES ON');
    expect(h).toContain('Scan images still arrive and are screened');
    expect(h).not.toMatch(/SCANNER DISCONNECTED/);
    // the line stream's tile still knows the scanner's state
    expect(await tile('scanner').textContent()).toContain('State: ready');
  });

  it('the line stream cut as well: its tile forgets state and interlocks, and the headline says no images, nothing screened', async () => {
    scanner.close(); // no reconnection possible
    for (const s of sockets) s.destroy();
    await page.waitForSelector('.tile[data-device=scanner][data-state=disconnected]', { timeout: 10_000 });
    const line = (await tile('scanner').textContent())!;
    expect(line).toContain('State: unknown');
    expect(line).toContain('Interlocks: unknown');
    expect(line).not.toContain('Interlocks closed');
    expect(line).not.toContain('State: ready');
    await page.waitForSelector('[data-testid=status-banner][data-level=bad]');
    const h = (await headline().textContent())!;
    expect(h).toContain('NO SCANNER IMAGES — VEHICLES ARE NOT SCREENED');
    expect(h).toContain('Scanner control and status (OPC UA) are lost too.');
  });
});
