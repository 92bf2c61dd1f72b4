import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CameraFeed } from '../../../../firmware-bridge/camera/camera-feed.js';
import { MjpegHttpSource } from '../../../../firmware-bridge/camera/mjpeg-source.js';
import { SnapshotPollSource } from '../../../../firmware-bridge/camera/snapshot-source.js';
import type { DeviceStatus } from '../../../../core/domain.js';
import { silentLogger } from '../../../../core/logger.js';
import { CameraSimulator } from '../../../../sim/camera/camera-sim.js';
import { waitFor } from '../../../helpers/lane-context.js';

let sim: CameraSimulator;
const feeds: CameraFeed[] = [];

beforeAll(async () => {
  sim = new CameraSimulator({
    width: 320,
    height: 180,
    fps: 20,
    cameras: [
      { id: 'front', role: 'front' },
      { id: 'plate', role: 'plate' },
      { id: 'side', role: 'side' },
    ],
  });
  await sim.start();
  sim.vehicleEntering('B-AB 1234', { passMs: 4000 });
});
afterAll(async () => {
  await sim.stop();
});
afterEach(async () => {
  await Promise.all(feeds.splice(0).map((f) => f.stop()));
});

function feed(
  camera: string,
  kind: 'mjpeg' | 'snapshot',
  stallMs: number,
): { feed: CameraFeed; statuses: DeviceStatus[] } {
  const statuses: DeviceStatus[] = [];
  const url = `${sim.url}/${camera}/${kind === 'mjpeg' ? 'mjpeg' : 'snapshot.jpg'}`;
  const f = new CameraFeed({
    laneId: 'l1',
    cameraId: camera,
    role: camera,
    stallMs,
    preRollMs: 1000,
    createSource: () =>
      kind === 'mjpeg'
        ? new MjpegHttpSource({ url, connectTimeoutMs: 2000 })
        : new SnapshotPollSource({ url, pollMs: 100, requestTimeoutMs: stallMs }),
    publish: (s) => void statuses.push(s),
    log: silentLogger(),
    backoff: { initialMs: 100, maxMs: 400 },
  });
  feeds.push(f);
  return { feed: f, statuses };
}

async function fault(camera: string, body: object): Promise<void> {
  const r = await fetch(`${sim.url}/${camera}/fault`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(r.status).toBe(200);
}

describe('camera simulator over HTTP', () => {
  it('lists its cameras with their URLs', async () => {
    const list = (await (await fetch(`${sim.url}/`)).json()) as {
      cameras: { id: string; mjpeg: string; snapshot: string }[];
    };
    expect(list.cameras.map((c) => c.id)).toEqual(['front', 'plate', 'side']);
    expect(list.cameras[0].mjpeg).toBe(`${sim.url}/front/mjpeg`);
    const snap = await fetch(list.cameras[1].snapshot);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await snap.arrayBuffer());
    expect([bytes[0], bytes[1], bytes.at(-2), bytes.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    const bad = await fetch(`${sim.url}/front/fault`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":"explode"}',
    });
    expect(bad.status).toBe(400);
  });

  it('drops and counts a corrupt JPEG while the MJPEG stream goes on', async () => {
    const { feed: f, statuses } = feed('front', 'mjpeg', 3000);
    await f.start();
    await waitFor('front ok', () => f.state === 'ok');
    await fault('front', { type: 'corrupt', count: 3 });
    await waitFor('3 corrupt pictures', () => f.counters.corrupt === 3);
    const after = f.counters.frames;
    await waitFor('pictures after the corrupt ones', () => f.counters.frames >= after + 5);
    expect(f.counters.corrupt).toBe(3);
    expect(f.counters.restarts).toBe(0);
    expect(statuses.map((s) => s.state)).toEqual(['starting', 'ok']);
    expect(sim.stats('front').corrupt).toBe(3);
  });

  it('restarts a stalled MJPEG stream within stallMs, publishes stalled, then the recovery', async () => {
    const stallMs = 500;
    const { feed: f, statuses } = feed('side', 'mjpeg', stallMs);
    await f.start();
    await waitFor('side ok', () => f.state === 'ok');
    const t0 = Date.now();
    await fault('side', { type: 'stall', durationMs: 1500 });
    const stalled = await waitFor('stalled status', () => statuses.find((s) => s.state === 'stalled'));
    const tStalled = Date.now() - t0;
    expect(stalled.device).toBe('camera.side');
    expect(stalled.detail).toMatch(/no picture for \d+ ms \(stallMs 500\); restarting with backoff/);
    // Not before stallMs of silence; and well before a watchdog that was not running would show.
    expect(Number(/no picture for (\d+) ms/.exec(stalled.detail!)![1])).toBeGreaterThanOrEqual(stallMs);
    expect(tStalled).toBeLessThan(stallMs + 2000);
    await waitFor('recovery', () => f.state === 'ok' && statuses.at(-1)!.detail?.includes('again'));
    expect(f.counters.restarts).toBeGreaterThanOrEqual(1);
    expect(
      statuses.map((s) => s.state).filter((s, i, a) => s !== a[i - 1]),
      JSON.stringify(statuses),
    ).toEqual(['starting', 'ok', 'stalled', 'ok']);
  });

  it('reports a disconnected camera offline and reconnects', async () => {
    const { feed: f, statuses } = feed('plate', 'mjpeg', 2000);
    await f.start();
    await waitFor('plate ok', () => f.state === 'ok');
    await fault('plate', { type: 'disconnect', durationMs: 600 });
    await waitFor('offline', () => statuses.find((s) => s.state === 'offline'));
    await waitFor('ok again', () => f.state === 'ok' && statuses.length > 3);
    expect(statuses.filter((s) => s.state === 'offline').length).toBeGreaterThanOrEqual(1);
  });

  it('polls snapshots, drops a corrupt one, and restarts a stalled snapshot camera', async () => {
    const { feed: f, statuses } = feed('plate', 'snapshot', 400);
    await f.start();
    await waitFor('plate snapshots ok', () => f.state === 'ok' && f.counters.frames >= 2);
    await fault('plate', { type: 'corrupt', count: 1 });
    await waitFor('corrupt snapshot counted', () => f.counters.corrupt === 1);
    await fault('plate', { type: 'stall', durationMs: 1000 });
    await waitFor('stalled or offline', () => statuses.find((s) => s.state === 'stalled' || s.state === 'offline'));
    await waitFor('snapshots again', () => f.state === 'ok' && statuses.at(-1)!.detail?.includes('again'));
  });
});
