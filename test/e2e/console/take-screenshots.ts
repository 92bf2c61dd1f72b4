/**
 * Takes the console screenshots in docs/screenshots/ from a runtime fed with synthetic scans:
 *   node bin/run-ts.js test/e2e/console/take-screenshots.ts [outDir]
 * The lane bus gets the events a scanner, the lane pipeline and the model would produce; the
 * camera pictures are drawn stand-ins.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { UserDirectory } from '../../../console/server/users.js';
import { configSchema } from '../../../config/schema.js';
import { SiteRuntime } from '../../../runtime/app.js';
import type { Alert, EvidenceRef, Region, ScanResult } from '../../../runtime/domain.js';
import { deviceStatus } from '../../../runtime/lane-health.js';
import { alertFor } from '../../../runtime/lane-pipeline.js';
import { silentLogger } from '../../../runtime/logger.js';
import { batchOf, syntheticScan } from './synthetic-scan.js';

const out = resolve(process.argv[2] ?? 'docs/screenshots');
mkdirSync(out, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'console-shots-'));
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
  lane.bus.emit('device.status', deviceStatus('scanner', 'ok', 'ready for the next vehicle', { interlocks: 'all closed', radiation: false }));
  lane.bus.emit('device.status', deviceStatus('scanner.opcua', 'ok', 'connected', { state: 'Ready' }));
  lane.bus.emit('device.status', deviceStatus('camera.front', 'ok', '12.5 fps'));
  lane.bus.emit('device.status', deviceStatus('camera.plate', 'ok', 'last read AB-123-CD'));
  lane.bus.emit('device.status', deviceStatus('model', 'ok', 'person-fcn 1.0.0'));
  lane.bus.emit('device.status', deviceStatus('mqtt', 'ok', 'connected to central', { outboxDepth: 0 }));
};
healthy();

function evidence(scanId: string): EvidenceRef[] {
  return [
    { name: 'front.jpg', kind: 'camera', contentType: 'image/jpeg', url: `/evidence/${scanId}/front.jpg` },
    { name: 'plate.jpg', kind: 'camera', contentType: 'image/jpeg', url: `/evidence/${scanId}/plate.jpg` },
  ];
}

async function scan(scanId: string, plate: string, detection: { score: number; regions: Region[] } | null, page?: Page, stopAt?: number): Promise<{ result: ScanResult; alert: Alert | null }> {
  const s = syntheticScan({ scanId, laneId: lane.id, plate, lines: 900, channels: 300 });
  lane.bus.emit('scan.begin', s.meta);
  for (let first = 0; first < s.image.width; first += 60) {
    if (stopAt !== undefined && first >= stopAt) {
      await new Promise((r) => setTimeout(r, 300));
      await page!.screenshot({ path: join(out, 'console-scanning.png') });
    }
    lane.bus.emit('scan.lines', batchOf(scanId, s.image, first, 60));
    await new Promise((r) => setTimeout(r, 10));
  }
  const now = new Date().toISOString();
  const result: ScanResult = {
    scanId, laneId: lane.id, siteId: config.site.id, startedAt: s.meta.startedAt, endedAt: now, decidedAt: now, outcome: 'completed',
    verdict: detection ? (detection.score >= 0.5 ? 'person' : 'clear') : 'unavailable',
    ...(detection ? {} : { unavailableReason: 'model person-fcn failed to load: manifest.json missing' }),
    score: detection?.score ?? null, regions: detection?.regions ?? [], model: detection ? { name: 'person-fcn', version: '1.0.0' } : null,
    vehicle: { plate }, lines: s.image.width, channels: s.image.height, missingLines: 0, evidence: evidence(scanId),
  };
  lane.bus.emit('scan.decided', { result, image: s.image });
  const alert = alertFor(result);
  if (alert) lane.bus.emit('alert.raised', alert);
  return { result, alert };
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
await page.goto(runtime.http.url);
await page.screenshot({ path: join(out, 'console-login.png') });
await page.fill('input[name=user]', 'j.meyer');
await page.fill('input[name=password]', 'screenshot-pass');
await page.click('button[type=submit]');
await page.waitForSelector('[data-testid=status-banner]');

await scan('SC-20260114-0007', 'KL-482-TR', { score: 0.04, regions: [] });
await scan('SC-20260114-0008', 'MN-771-PA', { score: 0.02, regions: [] });
await page.waitForSelector('[data-testid=verdict][data-verdict=clear]');
await page.waitForTimeout(600);
await page.screenshot({ path: join(out, 'console-clear.png') });

await scan('SC-20260114-0009', 'AB-123-CD', { score: 0.91, regions: [{ x: 478, y: 128, w: 62, h: 100, score: 0.91 }, { x: 610, y: 150, w: 40, h: 60, score: 0.38 }] }, page, 540);
await page.waitForSelector('[data-testid=alert-banner][data-state=new]');
await page.waitForSelector('[data-testid=scan-canvas][data-width="900"]');
await page.waitForTimeout(800);
await page.screenshot({ path: join(out, 'console-alert.png') });
await page.click('[data-testid=ack]');
await page.waitForSelector('[data-testid=alert-banner][data-state=acknowledged]');
await page.click('[data-testid=dispo-person-found]');
await page.fill('[data-testid=dispo-note]', 'Two adults found behind the pallets, handed to border police.');
await page.screenshot({ path: join(out, 'console-disposition.png') });
await page.click('[data-testid=dispo-submit]');
await page.waitForSelector('[data-testid=alert-banner]', { state: 'detached' });

// Material view of the same scan.
await page.click('text=Material');
await page.waitForTimeout(800);
await page.screenshot({ path: join(out, 'console-material.png') });
await page.click('text=High energy');

// Degraded: the model is gone and a camera is down.
lane.bus.emit('device.status', deviceStatus('model', 'unavailable', 'detection unavailable: model person-fcn failed to load: manifest.json missing'));
lane.bus.emit('device.status', deviceStatus('camera.front', 'offline', 'no frame for 5 s; reconnecting'));
await scan('SC-20260114-0010', 'GH-310-KE', null);
await page.waitForSelector('[data-testid=status-banner][data-level=bad]');
await page.waitForTimeout(800);
await page.screenshot({ path: join(out, 'console-degraded.png') });
await page.click('[data-testid=ack]');
healthy();

await page.click('[data-testid=tab-history]');
await page.waitForSelector('[data-testid=history-table] tbody tr');
await page.click('[data-testid=history-table] tbody tr[data-scan-id="SC-20260114-0009"]');
await page.waitForSelector('[data-testid=history-viewer] [data-testid=scan-canvas][data-width="900"]');
await page.waitForTimeout(600);
await page.screenshot({ path: join(out, 'console-history.png') });

await browser.close();
await runtime.stop();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`screenshots in ${out}\n`);
