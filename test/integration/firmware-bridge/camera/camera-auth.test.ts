import { afterEach, describe, expect, it } from 'vitest';
import { CameraFeed } from '../../../../firmware-bridge/camera/camera-feed.js';
import { MjpegHttpSource } from '../../../../firmware-bridge/camera/mjpeg-source.js';
import { SnapshotPollSource } from '../../../../firmware-bridge/camera/snapshot-source.js';
import type { FrameSource } from '../../../../firmware-bridge/camera/source.js';
import type { DeviceStatus } from '../../../../core/domain.js';
import { silentLogger } from '../../../../core/logger.js';
import { CameraSimulator } from '../../../../sim/camera/camera-sim.js';
import { waitFor } from '../../../helpers/lane-context.js';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

async function sim(scheme: 'basic' | 'digest'): Promise<CameraSimulator> {
  const s = new CameraSimulator({
    width: 160,
    height: 90,
    fps: 10,
    cameras: [{ id: 'front', role: 'front' }],
    auth: { scheme, username: 'admin', password: 'pa:ss w0rd' },
  });
  await s.start();
  running.push(s);
  return s;
}

async function feed(source: () => FrameSource): Promise<{ feed: CameraFeed; statuses: DeviceStatus[] }> {
  const statuses: DeviceStatus[] = [];
  const f = new CameraFeed({
    laneId: 'l1',
    cameraId: 'front',
    role: 'front',
    stallMs: 2000,
    preRollMs: 0,
    createSource: source,
    publish: (s) => void statuses.push(s),
    log: silentLogger(),
    backoff: { initialMs: 200, maxMs: 400 },
  });
  await f.start();
  running.push(f);
  return { feed: f, statuses };
}

describe('camera credentials against the simulator', () => {
  it('streams MJPEG from a camera that asks for Digest, and polls snapshots reusing its nonce', async () => {
    const s = await sim('digest');
    const m = await feed(
      () =>
        new MjpegHttpSource({
          url: `${s.url}/front/mjpeg`,
          username: 'admin',
          password: 'pa:ss w0rd',
          connectTimeoutMs: 2000,
        }),
    );
    await waitFor('mjpeg ok', () => m.feed.counters.frames >= 3);
    expect(s.denied).toBe(1);
    const p = await feed(
      () =>
        new SnapshotPollSource({
          url: `${s.url}/front/snapshot.jpg`,
          username: 'admin',
          password: 'pa:ss w0rd',
          pollMs: 50,
          requestTimeoutMs: 2000,
        }),
    );
    await waitFor('snapshots ok', () => p.feed.counters.frames >= 5);
    expect(s.denied).toBe(2); // one challenge per source, not per picture
  });

  it('takes Basic credentials from the URL', async () => {
    const s = await sim('basic');
    const url = new URL(`${s.url}/front/mjpeg`);
    url.username = 'admin';
    url.password = encodeURIComponent('pa:ss w0rd');
    const m = await feed(() => new MjpegHttpSource({ url: url.href, connectTimeoutMs: 2000 }));
    await waitFor('mjpeg ok', () => m.feed.state === 'ok');
    expect(m.statuses.some((x) => x.detail?.includes('pa:ss'))).toBe(false);
  });

  it('reports a wrong password or missing credentials as offline, saying what to check', async () => {
    const s = await sim('digest');
    const wrong = await feed(
      () =>
        new MjpegHttpSource({
          url: `${s.url}/front/mjpeg`,
          username: 'admin',
          password: 'nope',
          connectTimeoutMs: 2000,
        }),
    );
    const st = await waitFor('offline', () => wrong.statuses.find((x) => x.state === 'offline'));
    expect(st.detail).toMatch(/refused access \(HTTP 401\): check username and password of the camera/);
    const none = await feed(() => new MjpegHttpSource({ url: `${s.url}/front/mjpeg`, connectTimeoutMs: 2000 }));
    const st2 = await waitFor('offline', () => none.statuses.find((x) => x.state === 'offline'));
    expect(st2.detail).toMatch(/it wants credentials: set username and password/);
  });
});
