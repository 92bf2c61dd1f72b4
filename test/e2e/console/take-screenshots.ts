/**
 * Takes the console screenshots in docs/screenshots/:
 *   node bin/run-ts.js test/e2e/console/take-screenshots.ts [outDir]
 * Scans come from the X-ray synthesizer (sim/xray), streamed line by line onto the lane bus.
 * This script plays the model: a scan's flagged regions are the synthesizer's ground-truth boxes
 * of the hidden people, with a fixed score. Camera pictures are drawn stand-ins.
 * Last, console-demo.png is taken from the running demo (`checkpoint-edge demo`: simulators, the
 * model in models/, MQTT), with the regions as the model flagged them.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { UserDirectory } from '../../../console/server/users.js';
import { configSchema } from '../../../config/schema.js';
import { SiteRuntime } from '../../../app/site-runtime.js';
import type { EvidenceRef, Region, ScanResult } from '../../../core/domain.js';
import { deviceStatus } from '../../../core/health.js';
import { type ModelManifest, operatingThresholds } from '../../../inference/manifest.js';
import { alertFor } from '../../../pipeline/lane-pipeline.js';
import { silentLogger } from '../../../core/logger.js';
import { synthesizeScan, type VehicleClass } from '../../../sim/xray/index.js';
import { batchOf } from './synthetic-scan.js';

// The shipped model's name and the threshold a lane that sets no alert threshold decides at (its lane default).
const shipped = JSON.parse(readFileSync(resolve('models/person-fcn/manifest.json'), 'utf8')) as ModelManifest;
const MODEL_VERSION = shipped.version;
const THRESHOLD = operatingThresholds(shipped).operatingThreshold ?? 0.5;

const out = resolve(process.argv[2] ?? 'docs/screenshots');
mkdirSync(out, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'console-shots-'));
mkdirSync(join(dir, 'drop'));
const users = new UserDirectory(join(dir, 'users.json'));
await users.set('j.meyer', 'operator', 'screenshot-pass');
const config = configSchema.parse({
  site: { id: 'border-east', name: 'Border crossing East' },
  dataDir: join(dir, 'data'),
  http: { host: '127.0.0.1', port: 0 },
  console: { usersFile: join(dir, 'users.json') },
  lanes: [{ id: 'lane-1', name: 'Lane 1 (trucks)', scanner: { fileDrop: { dir: join(dir, 'drop') } } }],
});
const runtime = new SiteRuntime({ config, log: silentLogger(), version: 'docs', announce: () => {} });
await runtime.start();
const lane = runtime.lanes[0]!;
// This script decides the scans itself (as the pipeline and model would), so the lane's own
// pipeline is taken off the bus.
await lane.pipeline.stop();

// Camera pictures for the evidence URLs: a plain rendering standing in for the lane cameras.
runtime.http.route('/evidence', 'screenshots', async (_req, res, url) => {
  const name = url.pathname.split('/').pop() ?? '';
  const label = name.startsWith('plate') ? 'AB 123 CD' : 'front camera';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><rect width="640" height="480" fill="#2d3640"/><rect x="0" y="330" width="640" height="150" fill="#3b3f44"/><rect x="150" y="120" width="340" height="230" rx="16" fill="#c9ced6"/><rect x="190" y="150" width="260" height="90" rx="8" fill="#5d7486"/><rect x="250" y="290" width="140" height="36" fill="#f1f1e8" stroke="#222" stroke-width="3"/><text x="320" y="316" font-family="DejaVu Sans Mono" font-size="22" text-anchor="middle" fill="#111">${name.startsWith('plate') ? label : 'AB 123 CD'}</text><text x="12" y="24" font-family="DejaVu Sans" font-size="16" fill="#fff">${label} ${new Date().toISOString().slice(11, 19)}</text></svg>`;
  const jpeg = await sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer();
  res.writeHead(200, { 'content-type': 'image/jpeg' });
  res.end(jpeg);
  return true;
});

const healthy = () => {
  lane.bus.emit(
    'device.status',
    deviceStatus('scanner', 'ok', 'connected: tcp 10.20.0.5:4001; scanner Ready', {
      scannerState: 'Ready',
      interlocksOk: true,
      radiationOn: false,
      speedKmh: null,
    }),
  );
  lane.bus.emit(
    'device.status',
    deviceStatus('scanner.opcua', 'ok', 'scanner Ready', {
      scannerState: 'Ready',
      interlocks: 0,
      interlocksOpen: '',
      radiationOn: false,
    }),
  );
  lane.bus.emit('device.status', deviceStatus('camera.front', 'ok', '12.5 fps'));
  lane.bus.emit('device.status', deviceStatus('camera.plate', 'ok', 'last read AB-123-CD'));
  lane.bus.emit('device.status', deviceStatus('model', 'ok', `person-fcn ${MODEL_VERSION}`));
  lane.bus.emit(
    'device.status',
    deviceStatus('mqtt', 'ok', 'connected to mqtts://central.example:8883', { outboxDepth: 0 }),
  );
};
healthy();

function evidence(scanId: string): EvidenceRef[] {
  return [
    { name: 'front.jpg', kind: 'camera', contentType: 'image/jpeg', url: `/evidence/${scanId}/front.jpg` },
    { name: 'plate.jpg', kind: 'camera', contentType: 'image/jpeg', url: `/evidence/${scanId}/plate.jpg` },
  ];
}

async function scan(
  scanId: string,
  plate: string,
  o: { seed: number; vehicle: VehicleClass; people: number; model: boolean },
  page?: Page,
  stopAt?: number,
): Promise<void> {
  const image = synthesizeScan({
    seed: o.seed,
    dual: true,
    vehicleClass: o.vehicle,
    peopleCount: o.people,
    cargoDensity: 'medium',
    decoys: 1,
  });
  const startedAt = new Date().toISOString();
  lane.bus.emit('scan.begin', {
    scanId,
    laneId: lane.id,
    startedAt,
    channels: image.height,
    energies: 2,
    pixelMm: image.pixelMm,
    lineRateHz: 300,
    vehicle: { plate },
    source: 'stream',
  });
  const step = 100;
  for (let first = 0; first < image.width; first += step) {
    if (stopAt !== undefined && first >= stopAt && first < stopAt + step) {
      await new Promise((r) => setTimeout(r, 400));
      await page!.screenshot({ path: join(out, 'console-scanning.png') });
    }
    lane.bus.emit('scan.lines', batchOf(scanId, image, first, step));
    await new Promise((r) => setTimeout(r, 10));
  }
  const regions: Region[] = o.model
    ? image.truth.people.map((p, i) => ({ ...p.box, score: i === 0 ? 0.94 : 0.81 }))
    : [];
  // Above the lane default (2.3.2's held-out point, 0.9645) for a vehicle with people.
  const score = regions.length ? 0.99 : 0.03;
  const now = new Date().toISOString();
  const result: ScanResult = {
    scanId,
    laneId: lane.id,
    siteId: config.site.id,
    startedAt,
    endedAt: now,
    decidedAt: now,
    outcome: 'completed',
    verdict: o.model ? (score >= THRESHOLD ? 'person' : 'clear') : 'unavailable',
    ...(o.model
      ? { threshold: THRESHOLD }
      : { unavailableReason: 'model person-fcn failed to load: manifest.json missing' }),
    score: o.model ? score : null,
    regions,
    model: o.model ? { name: 'person-fcn', version: MODEL_VERSION } : null,
    vehicle: { plate },
    lines: image.width,
    channels: image.height,
    missingLines: 0,
    evidence: evidence(scanId),
  };
  lane.bus.emit('scan.decided', { result, image });
  const alert = alertFor(result);
  if (alert) lane.bus.emit('alert.raised', alert);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
await page.goto(runtime.http.url);
await page.screenshot({ path: join(out, 'console-login.png') });
await page.fill('input[name=user]', 'j.meyer');
await page.fill('input[name=password]', 'screenshot-pass');
await page.click('button[type=submit]');
await page.waitForSelector('[data-testid=status-banner]');

await scan('SC-20260114-0007', 'KL-482-TR', { seed: 7, vehicle: 'van', people: 0, model: true });
await scan('SC-20260114-0008', 'MN-771-PA', { seed: 8, vehicle: 'box-truck', people: 0, model: true });
await page.waitForSelector('[data-testid=verdict][data-verdict=clear][data-scan-id=SC-20260114-0008]');
await page.waitForFunction(
  () => !document.querySelector('.live .viewer-caption')?.textContent?.includes('live preview'),
);
await page.waitForTimeout(500);
await page.screenshot({ path: join(out, 'console-clear.png') });

await scan('SC-20260114-0009', 'AB-123-CD', { seed: 24, vehicle: 'articulated', people: 2, model: true }, page, 2000);
await page.waitForSelector('[data-testid=alert-banner][data-state=new]');
const fullPicture = () =>
  page.waitForFunction(() => !document.querySelector('.live .viewer-caption')?.textContent?.includes('live preview'));
await fullPicture();
await page.waitForTimeout(500);
await page.screenshot({ path: join(out, 'console-alert.png') });
await page.click('[data-testid=ack]');
await page.waitForSelector('[data-testid=alert-banner][data-state=acknowledged]');
await page.click('[data-testid=dispo-person-found]');
await page.fill('[data-testid=dispo-note]', 'Two adults found behind the pallets, handed to border police.');
await page.screenshot({ path: join(out, 'console-disposition.png') });
await page.click('[data-testid=dispo-submit]');
await page.waitForSelector('[data-testid=alert-banner]', { state: 'detached' });

// Material view of the same scan, zoomed in (mouse wheel) on the flagged regions.
await page.click('text=Material');
await page.waitForTimeout(800);
const box = (await page.locator('.live [data-testid=scan-canvas]').boundingBox())!;
const [imgW, imgH] = [3592, 1000];
const k = Math.min((box.height - 32) / imgH, (box.width - 32) / imgW);
const cx = box.x + (box.width - imgW * k) / 2 + 2420 * k;
const cy = box.y + (box.height - imgH * k) / 2 + 600 * k;
await page.mouse.move(cx, cy);
for (let i = 0; i < 8; i++) {
  await page.mouse.wheel(0, -100);
  await page.waitForTimeout(60);
}
await page.waitForTimeout(600);
await page.screenshot({ path: join(out, 'console-material.png') });
await page.click('text=Fit');
await page.click('text=High energy');

// Degraded: the model is gone and a camera is down.
lane.bus.emit(
  'device.status',
  deviceStatus('model', 'unavailable', 'detection unavailable: model person-fcn failed to load: manifest.json missing'),
);
lane.bus.emit('device.status', deviceStatus('camera.front', 'offline', 'no frame for 5 s; reconnecting'));
await scan('SC-20260114-0010', 'GH-310-KE', { seed: 10, vehicle: 'box-truck', people: 0, model: false });
await page.waitForSelector('[data-testid=status-banner][data-level=bad]');
await page.waitForSelector('[data-testid=verdict][data-verdict=unavailable]');
await fullPicture();
await page.waitForTimeout(500);
await page.screenshot({ path: join(out, 'console-degraded.png') });
await page.click('[data-testid=ack]');
healthy();

await page.click('[data-testid=tab-history]');
await page.waitForSelector('[data-testid=history-table] tbody tr');
await page.click('[data-testid=history-table] tbody tr[data-scan-id="SC-20260114-0009"]');
await page.waitForSelector('[data-testid=history-viewer] [data-testid=scan-canvas]:not([data-width="0"])');
await page.waitForTimeout(600);
await page.screenshot({ path: join(out, 'console-history.png') });

await runtime.stop();
await demoShot(browser);
await browser.close();
// Palette PNGs: a third of the size, no visible change at this resolution.
for (const name of readdirSync(out).filter((n) => n.startsWith('console-') && n.endsWith('.png'))) {
  const file = join(out, name);
  writeFileSync(
    file,
    await sharp(readFileSync(file)).png({ compressionLevel: 9, palette: true, quality: 90, effort: 8 }).toBuffer(),
  );
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`screenshots in ${out}\n`);

/** A person alert of the running demo, as its model flagged it (a scan with 1-4 regions). */
async function demoShot(b: Browser): Promise<void> {
  const bin = join(import.meta.dirname, '../../../bin/checkpoint-edge.js');
  const child = spawn(
    process.execPath,
    [
      bin,
      'demo',
      '--port',
      '0',
      '--mqtt-port',
      '0',
      '--gap-ms',
      '6000',
      '--person-share',
      '1',
      '--seed',
      '5',
      '--data-dir',
      join(dir, 'demo'),
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    let text = '';
    await new Promise<void>((res, rej) => {
      child.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        if (/console log-in: .*\n/.test(text)) res();
      });
      child.on('exit', (code) => rej(new Error(`demo exited with ${code}: ${text}`)));
    });
    const url = /^console: (\S+)$/m.exec(text)![1]!;
    const password = /user demo \/ password (\S+) /.exec(text)![1]!;
    const p = await b.newPage({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
    await p.goto(url);
    await p.fill('input[name=user]', 'demo');
    await p.fill('input[name=password]', password);
    await p.click('button[type=submit]');
    for (let i = 0; i < 6; i++) {
      await p.waitForSelector('[data-testid=verdict][data-scan-id]', { timeout: 120_000 });
      await p.waitForFunction(
        () => !document.querySelector('.live .viewer-caption')?.textContent?.includes('live preview'),
        undefined,
        { timeout: 30_000 },
      );
      const regions = Number(await p.getAttribute('.live [data-testid=scan-canvas]', 'data-regions'));
      if (
        (await p.getAttribute('[data-testid=verdict]', 'data-verdict')) === 'person' &&
        regions >= 1 &&
        regions <= 4
      ) {
        await p.waitForTimeout(1500);
        await p.screenshot({ path: join(out, 'console-demo.png') });
        return;
      }
      await p.waitForSelector('[data-testid=verdict][data-verdict=scanning]', { timeout: 120_000 });
    }
    throw new Error('the demo gave no person alert with 1-4 regions in 6 scans; console-demo.png not taken');
  } finally {
    child.kill('SIGKILL');
  }
}
