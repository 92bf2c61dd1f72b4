import { readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detector, DetectorStatus } from '../../../../core/detector.js';
import type { Alert, CompletedScan, ScanMeta, ScanResult } from '../../../../core/domain.js';
import type { CameraSnapshot } from '../../../../core/events.js';
import { evidenceUrlSigner, type EvidenceUrlSigner } from '../../../../outputs/evidence/evidence-urls.js';
import { createCameraServices } from '../../../../app/compose/cameras.js';
import { LanePipeline } from '../../../../pipeline/lane-pipeline.js';
import { silentLogger } from '../../../../core/logger.js';
import type { Service } from '../../../../core/service.js';
import { CameraSimulator } from '../../../../sim/camera/camera-sim.js';
import { laneContext, waitFor } from '../../../helpers/lane-context.js';
import { scanMeta } from '../../../helpers/builders.js';

/** Flags one region in every scan, so that each scan raises an alert carrying the evidence. */
const detector: Detector = {
  status: { state: 'ready', model: { name: 'fixed', version: '1' } } as DetectorStatus,
  onStatus: () => () => {},
  begin: () => ({
    pushLines: () => {},
    finish: async () => ({
      score: 0.9,
      regions: [{ x: 200, y: 10, w: 100, h: 30, score: 0.9 }],
      model: { name: 'fixed', version: '1' },
      msAfterEnd: 1,
      msInference: 1,
    }),
    cancel: () => {},
  }),
};

const meta = (scanId: string): ScanMeta => scanMeta({ scanId, laneId: 'l1' });
function completed(scanId: string): CompletedScan {
  const high = new Uint16Array(600 * 64).fill(65535);
  for (let y = 5; y < 50; y++) for (let x = 100; x < 500; x++) high[y * 600 + x] = 9000;
  return { meta: meta(scanId), endedAt: new Date().toISOString(), image: { width: 600, height: 64, pixelMm: 5, high } };
}

let sim: CameraSimulator;
let services: Service[] = [];
let pipeline: LanePipeline;
let setup: ReturnType<typeof laneContext>;
/** Signs with the site key, as the MQTT link does for central command. */
let signer: EvidenceUrlSigner;
const results: ScanResult[] = [];
const alerts: Alert[] = [];
const snapshots: CameraSnapshot[] = [];

async function post(
  path: string,
  body: unknown,
  type = 'application/json',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${setup.http.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

function rawGet(path: string): Promise<number> {
  const u = new URL(setup.http.url);
  return new Promise((resolve, reject) => {
    request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    })
      .on('error', reject)
      .end();
  });
}

beforeAll(async () => {
  sim = new CameraSimulator({
    width: 320,
    height: 180,
    fps: 10,
    cameras: [
      { id: 'front', role: 'front' },
      { id: 'plate', role: 'plate' },
    ],
  });
  await sim.start();
  sim.setVehicle({ kind: 'truck', plate: 'B-AB 1234', position: 0.3 });
  setup = laneContext([
    { id: 'front', role: 'front', kind: 'mjpeg', url: `${sim.url}/front/mjpeg`, stallMs: 3000, preRollMs: 800 },
    { id: 'plate', role: 'plate', kind: 'snapshot', url: `${sim.url}/plate/snapshot.jpg`, pollMs: 100, stallMs: 3000 },
  ]);
  const { ctx } = setup;
  const cams = createCameraServices(ctx);
  pipeline = new LanePipeline({
    siteId: 's1',
    laneId: 'l1',
    bus: ctx.bus,
    detector,
    thresholds: { alert: 0.5, region: 0.3 },
    log: silentLogger(),
    evidence: cams.evidence,
  });
  ctx.bus.on('scan.decided', 'test', ({ result }) => void results.push(result));
  ctx.bus.on('alert.raised', 'test', (a) => void alerts.push(a));
  ctx.bus.on('camera.snapshot', 'test', (s) => void snapshots.push(s));
  services = [setup.http, pipeline, ...cams.services];
  for (const s of services) await s.start();
  signer = evidenceUrlSigner(setup.config);
  await signer.load();
  await waitFor(
    'both cameras ok',
    () => ctx.health.get('camera.front')?.state === 'ok' && ctx.health.get('camera.plate')?.state === 'ok',
  );
});

afterAll(async () => {
  for (const s of [...services].reverse()) await s.stop();
  await sim.stop();
});

async function scan(scanId: string, between?: () => Promise<void>): Promise<ScanResult> {
  setup.ctx.bus.emit('scan.begin', meta(scanId));
  await between?.();
  await new Promise((r) => setTimeout(r, 300));
  setup.ctx.bus.emit('scan.end', completed(scanId));
  return waitFor(`decision on ${scanId}`, () => results.find((r) => r.scanId === scanId));
}

describe('lane cameras tied to scans', () => {
  it('attaches each scan its own snapshots, with the pre-roll, the scan picture and the ANPR read', async () => {
    await new Promise((r) => setTimeout(r, 900)); // fill the pre-roll
    const held = await post('/api/anpr/l1', { plate: 'B-AB 1234', cameraId: 'plate', confidence: 0.93 });
    expect(held).toEqual({ status: 202, json: { accepted: true, laneId: 'l1', scanId: null, heldForNextScan: true } });
    const r1 = await scan('scan-A');
    sim.setVehicle({ kind: 'van', plate: 'HH-XY 987', position: 0.3 });
    await new Promise((r) => setTimeout(r, 300));
    const r2 = await scan('scan-B', async () => {
      const during = await post('/api/anpr/l1', { containerCode: 'mscu 123456-5' });
      expect(during.json.scanId).toBe('scan-B');
    });

    const names = (r: ScanResult) => r.evidence.map((e) => e.name).sort();
    const expected = [
      'front-pre-roll.jpg',
      'front-scan-begin.jpg',
      'front-scan-end.jpg',
      'plate-pre-roll.jpg',
      'plate-scan-begin.jpg',
      'plate-scan-end.jpg',
      'scan.jpg',
    ];
    expect(names(r1)).toEqual(expected);
    expect(names(r2)).toEqual(expected);
    expect(r1.vehicle).toEqual({ plate: 'B-AB 1234' });
    expect(r2.vehicle?.containerCode).toBe('MSCU1234565');
    expect(r2.vehicle?.plate).toBeUndefined();

    // Each stored snapshot is the picture that was taken for that scan, and served as such.
    for (const r of [r1, r2]) {
      expect(alerts.find((a) => a.scanId === r.scanId)!.evidence).toEqual(r.evidence);
      for (const ref of r.evidence.filter((e) => e.kind === 'camera')) {
        expect(ref.url).toBe(`/evidence/${r.scanId}/${ref.name}`);
        const [cameraId, ...rest] = ref.name.replace(/\.jpg$/, '').split('-');
        const snap = snapshots.find(
          (s) => s.scanId === r.scanId && s.cameraId === cameraId && s.moment === rest.join('-'),
        )!;
        const res = await fetch(`${setup.http.url}${signer.sign(ref.url)}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('image/jpeg');
        expect(Buffer.from(await res.arrayBuffer()).equals(snap.jpeg)).toBe(true);
      }
      const begin = snapshots.find(
        (s) => s.scanId === r.scanId && s.cameraId === 'front' && s.moment === 'scan-begin',
      )!;
      const pre = snapshots.find((s) => s.scanId === r.scanId && s.cameraId === 'front' && s.moment === 'pre-roll')!;
      expect(Date.parse(begin.at) - Date.parse(pre.at)).toBeGreaterThan(300);
    }
    const a = snapshots.find((s) => s.scanId === 'scan-A' && s.cameraId === 'front' && s.moment === 'scan-end')!;
    const b = snapshots.find((s) => s.scanId === 'scan-B' && s.cameraId === 'front' && s.moment === 'scan-end')!;
    expect(a.jpeg.equals(b.jpeg)).toBe(false);
    expect(Date.parse(b.at)).toBeGreaterThan(Date.parse(r1.endedAt));

    const dir = join(setup.ctx.dataDir, 'evidence', 'scan-A');
    expect(readdirSync(dir).sort()).toEqual(expected);
    const scanJpeg = readFileSync(join(dir, 'scan.jpg'));
    expect([scanJpeg[0], scanJpeg[1]]).toEqual([0xff, 0xd8]);
  });

  it('serves evidence only by scan and name, with a signed link: traversal and unknown files are 404', async () => {
    expect(await rawGet(signer.sign('/evidence/scan-A/scan.jpg'))).toBe(200);
    expect(await rawGet('/evidence/scan-A/scan.jpg')).toBe(401);
    const sig = new URL(signer.sign('/evidence/scan-A/scan.jpg'), 'http://x').search;
    expect(await rawGet(`/evidence/%2e%2e/%2e%2e%2fconfig.yaml${sig}`)).toBe(404);
    expect(await rawGet(`/evidence/scan-A/..%2f..%2f..%2fetc%2fpasswd${sig}`)).toBe(404);
    expect(await rawGet(`/evidence/../lanes/l1/x${sig}`)).toBe(404);
    expect(await rawGet(signer.sign('/evidence/scan-A/missing.jpg'))).toBe(404);
    expect(await rawGet(signer.sign('/evidence/scan-Z/scan.jpg'))).toBe(404);
    expect(await rawGet(`/evidence/scan-A${sig}`)).toBe(404);
  });

  it('answers a bad ANPR read with 400 and says what is wrong', async () => {
    const none = await post('/api/anpr/l1', {});
    expect(none.status).toBe(400);
    expect(none.json.error).toMatch(/needs a plate or a containerCode/);
    const code = await post('/api/anpr/l1', { containerCode: 'ABC', confidence: 3, colour: 'red' });
    expect(code.status).toBe(400);
    expect(String(code.json.error)).toMatch(/containerCode must be an ISO 6346 code/);
    expect(String(code.json.error)).toMatch(/confidence must be 0-1/);
    expect(String(code.json.error)).toMatch(/colour/);
    const at = await post('/api/anpr/l1', { plate: 'X1', at: 'yesterday' });
    expect(at.status).toBe(400);
    expect(String(at.json.error)).toMatch(/at must be an ISO 8601 date-time/);
    expect((await post('/api/anpr/l1', 'plate=1', 'text/plain')).status).toBe(415);
    expect((await post('/api/anpr/l1', '{not json')).status).toBe(400);
    expect((await fetch(`${setup.http.url}/api/anpr/l1`)).status).toBe(405);
  });
});
