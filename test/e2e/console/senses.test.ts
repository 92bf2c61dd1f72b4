import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Lane } from '../../../app/context.js';
import { SiteRuntime } from '../../../app/site-runtime.js';
import { UserDirectory } from '../../../console/server/users.js';
import { configSchema } from '../../../config/schema.js';
import { silentLogger } from '../../../core/logger.js';
import { SensorSimulator } from '../../../sim/sensors/sensor-sim.js';
import { waitFor } from '../../helpers/lane-context.js';
import { batchOf, completed, syntheticScan } from './synthetic-scan.js';

// The lane pipeline, the Modbus pollers, the simulated devices, the bus, HTTP server and console
// are real; only the ONNX model is replaced by one that returns the detection the test queues.
vi.mock('../../../app/compose/model.js', async () => {
  const { scriptedDetector } = await import('./scripted-detector.js');
  return { createDetector: async () => scriptedDetector };
});
const { scriptedDetector } = await import('./scripted-detector.js');

let dir: string;
let runtime: SiteRuntime;
let lane: Lane;
let browser: Browser;
let co2: SensorSimulator;
let heartbeat: SensorSimulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'senses-e2e-'));
  mkdirSync(join(dir, 'drop'));
  const users = new UserDirectory(join(dir, 'users.json'));
  await users.set('alice', 'operator', 'alice-password-1');
  co2 = new SensorSimulator('co2', { seed: 31 });
  heartbeat = new SensorSimulator('heartbeat', { seed: 32 });
  const a = await co2.listenTcp(0);
  const b = await heartbeat.listenTcp(0);
  const config = configSchema.parse({
    site: { id: 'e2e-site' },
    dataDir: join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0 },
    console: { sessionTtlMinutes: 30, usersFile: join(dir, 'users.json') },
    lanes: [
      {
        id: 'lane-1',
        scanner: { fileDrop: { dir: join(dir, 'drop') } },
        model: { path: 'scripted' },
        sensors: [
          {
            kind: 'co2',
            id: 'probe-1',
            transport: { type: 'tcp', host: a.host, port: a.port },
            pollMs: 100,
            timeoutMs: 500,
          },
          {
            kind: 'heartbeat',
            id: 'geophone-1',
            transport: { type: 'tcp', host: b.host, port: b.port },
            pollMs: 100,
            timeoutMs: 500,
          },
        ],
      },
    ],
  });
  runtime = new SiteRuntime({ config, log: silentLogger(), version: 'test', announce: () => {} });
  await runtime.start();
  lane = runtime.lanes[0]!;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  await co2?.stop();
  await heartbeat?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the console shows the second senses', () => {
  it('shows the CO2 and heartbeat evidence of the vehicle, the fused decision and the alert the sensors raised; then a missing sense', {
    timeout: 60_000,
  }, async () => {
    const page = await browser.newPage();
    await page.goto(runtime.http.url);
    await page.fill('input[name=user]', 'alice');
    await page.fill('input[name=password]', 'alice-password-1');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=user]');

    // A container with four people, engine off: CO2 and heartbeat both speak; the X-ray misses them.
    const sensed = co2.vehicleArrives(
      { plate: 'CN-4455', vehicleClass: 'articulated (container)', people: 4, cargoDensity: 'empty' },
      {
        hoursInside: 5,
        doorOpened: false,
        probeDisconnected: false,
        engineRunning: false,
        signalQuality: 0.95,
        heartbeatNoise: 1,
      },
    );
    heartbeat.setVehicle(sensed);
    await waitFor(
      'both sensors ok',
      () => lane.health.get('co2.probe-1')?.state === 'ok' && lane.health.get('heartbeat.geophone-1')?.state === 'ok',
    );
    // A few polls of this vehicle (every 100 ms) before its scan.
    await new Promise((r) => setTimeout(r, 400));
    const scan = syntheticScan({ scanId: 'S-SENSE-1', laneId: 'lane-1', plate: 'CN-4455', channels: 200 });
    scriptedDetector.next(0.04, []);
    lane.bus.emit('scan.begin', scan.meta);
    for (let first = 0; first < scan.image.width; first += 128)
      lane.bus.emit('scan.lines', batchOf('S-SENSE-1', scan.image, first, 128));
    lane.bus.emit('scan.end', completed(scan.meta, scan.image));

    await page.waitForSelector('[data-testid=verdict][data-verdict=clear][data-scan-id=S-SENSE-1]');
    await page.waitForSelector('[data-testid=fused][data-verdict=person]');
    expect(await page.textContent('[data-testid=fused]')).toContain('alert raised by the sensors');
    expect(await page.getAttribute('[data-testid=sense-co2]', 'data-state')).toBe('evidence');
    expect(await page.textContent('[data-testid=sense-co2]')).toMatch(/CO2 \d{4} ppm, \+\d{4} ppm over outdoor air/);
    expect(await page.textContent('[data-testid=sense-heartbeat]')).toMatch(
      /heartbeat score 0\.\d{3} at signal quality 0\.\d\d, engine off/,
    );
    expect(await page.textContent('[data-testid=sense-xray]')).toContain('X-ray score 0.040');
    const banner = page.locator('[data-testid=alert-banner]').filter({ hasText: 'PEOPLE SUSPECTED BY SENSORS' });
    await banner.waitFor();
    expect(await banner.textContent()).toContain('PEOPLE SUSPECTED BY SENSORS');

    // The next vehicle: engine left running, so the heartbeat detector cannot measure.
    const next = co2.vehicleArrives(
      { plate: 'VN-1', vehicleClass: 'van', people: 0 },
      { probeDisconnected: false, engineRunning: true },
    );
    heartbeat.setVehicle(next);
    await new Promise((r) => setTimeout(r, 400));
    const scan2 = syntheticScan({ scanId: 'S-SENSE-2', laneId: 'lane-1', plate: 'VN-1', channels: 200 });
    scriptedDetector.next(0.02, []);
    lane.bus.emit('scan.begin', scan2.meta);
    lane.bus.emit('scan.end', completed(scan2.meta, scan2.image));
    await page.waitForSelector('[data-testid=verdict][data-scan-id=S-SENSE-2]');
    expect(await page.getAttribute('[data-testid=sense-heartbeat]', 'data-state')).toBe('unusable');
    expect(await page.textContent('[data-testid=sense-heartbeat]')).toContain('engine running');
    expect(await page.textContent('[data-testid=senses-missing]')).toBe('Missing for this vehicle: Heartbeat');
    await page.close();
  });
});
