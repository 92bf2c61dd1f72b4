import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraFeed } from '../../../../firmware-bridge/camera/camera-feed.js';
import {
  FFMPEG_MISSING,
  FfmpegSource,
  ffmpegArgs,
  findFfmpeg,
} from '../../../../firmware-bridge/camera/ffmpeg-source.js';
import { jpegSize } from '../../../../firmware-bridge/camera/jpeg.js';
import { createCameraServices } from '../../../../app/compose/cameras.js';
import type { DeviceStatus } from '../../../../core/domain.js';
import { silentLogger } from '../../../../core/logger.js';
import { CameraSimulator } from '../../../../sim/camera/camera-sim.js';
import { laneContext, waitFor } from '../../../helpers/lane-context.js';
import { LaneHealth } from '../../../../pipeline/lane-health.js';
import { freePort } from '../../../helpers/net.js';

const run = promisify(execFile);
const ffmpeg = findFfmpeg();
let sim: CameraSimulator;
let dir: string;

beforeAll(async () => {
  if (!ffmpeg) throw new Error(`${FFMPEG_MISSING}: these tests need Debian's ffmpeg (.ci/run installs it)`);
  dir = mkdtempSync(join(tmpdir(), 'cam-ffmpeg-'));
  sim = new CameraSimulator({
    width: 320,
    height: 180,
    fps: 10,
    cameras: [{ id: 'front', role: 'front' }],
    autoTrafficMs: 200,
    passMs: 2000,
  });
  await sim.start();
});
afterAll(async () => {
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function feedFor(url: string): { feed: CameraFeed; statuses: DeviceStatus[]; frames: Buffer[] } {
  const statuses: DeviceStatus[] = [];
  const frames: Buffer[] = [];
  const feed = new CameraFeed({
    laneId: 'l1',
    cameraId: 'cam',
    role: 'front',
    stallMs: 5000,
    preRollMs: 0,
    createSource: () => {
      const s = new FfmpegSource({ ffmpeg: ffmpeg!, url, maxFps: 10, connectTimeoutMs: 8000 });
      return {
        describe: s.describe,
        close: () => s.close(),
        open: (sink) =>
          s.open({
            ...sink,
            frame: (j) => {
              frames.push(j);
              return sink.frame(j);
            },
          }),
      };
    },
    publish: (s) => void statuses.push(s),
    log: silentLogger(),
  });
  return { feed, statuses, frames };
}

describe('ffmpeg', () => {
  it("Debian ffmpeg reads the simulator's MJPEG stream as a standard multipart stream", async () => {
    const out = join(dir, 'from-sim-%02d.jpg');
    await run(ffmpeg!, ['-hide_banner', '-loglevel', 'error', '-i', `${sim.url}/front/mjpeg`, '-frames:v', '3', out], {
      timeout: 15_000,
    });
    const { stdout } = await run(ffmpeg!.replace(/ffmpeg$/, 'ffprobe'), [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'csv=p=0',
      join(dir, 'from-sim-03.jpg'),
    ]);
    expect(stdout.trim()).toBe('mjpeg,320,180');
  });

  it("reads the simulator's MJPEG stream through the ffmpeg source", async () => {
    const { feed, frames } = feedFor(`${sim.url}/front/mjpeg`);
    await feed.start();
    await waitFor('5 pictures through ffmpeg', () => frames.length >= 5, 15_000);
    await feed.stop();
    expect(feed.counters.corrupt).toBe(0);
    expect(jpegSize(frames[0])).toEqual({ width: 320, height: 180 });
  });

  it('reads a video file (file:// URL) through the ffmpeg source, looping it', async () => {
    const file = join(dir, 'testsrc.mp4');
    await run(
      ffmpeg!,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=160x120:rate=10',
        '-t',
        '1',
        '-c:v',
        'mpeg4',
        '-y',
        file,
      ],
      { timeout: 15_000 },
    );
    const { feed, statuses, frames } = feedFor(pathToFileURL(file).href);
    await feed.start();
    // 1 s of video at 10 fps: more than 12 pictures means it looped.
    await waitFor('pictures from the file', () => frames.length >= 13, 15_000);
    await feed.stop();
    expect(statuses.map((s) => s.state)).toEqual(['starting', 'ok', 'offline']);
    expect(jpegSize(frames[0])).toEqual({ width: 160, height: 120 });
  });

  it('says what failed when ffmpeg cannot open the URL', async () => {
    const s = new FfmpegSource({
      ffmpeg: ffmpeg!,
      url: pathToFileURL(join(dir, 'no-such.mp4')).href,
      maxFps: 10,
      connectTimeoutMs: 5000,
    });
    await expect(s.open({ frame: () => {}, problem: () => {}, ended: () => {} })).rejects.toThrow(
      /ffmpeg reading file:.*no-such\.mp4 exited \(code \d+\): .*No such file/,
    );
  });

  it("keeps an RTSP camera's password out of the error, the device detail and the lane health (ffmpeg prints its input URL)", async () => {
    const port = await freePort(); // nothing listens: ffmpeg says "rtsp://user:pass@...: Connection refused"
    const s = new FfmpegSource({
      ffmpeg: ffmpeg!,
      url: `rtsp://127.0.0.1:${port}/stream1`,
      username: 'admin',
      password: 'Cam-Pa55word',
      maxFps: 5,
      connectTimeoutMs: 5000,
    });
    const err = (await s.open({ frame: () => {}, problem: () => {}, ended: () => {} }).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`rtsp://\\*\\*\\*@127\\.0\\.0\\.1:${port}/stream1: Connection refused`));
    expect(err.message).not.toContain('Cam-Pa55word');

    const { ctx, statuses } = laneContext([
      { id: 'gate', role: 'overview', kind: 'rtsp', url: `rtsp://admin:Cam-Pa55word@127.0.0.1:${port}/stream1` },
    ]);
    const health = new LaneHealth('lane-1');
    const cams = createCameraServices(ctx);
    for (const svc of cams.services) await svc.start();
    await waitFor(
      'the camera fault',
      () => statuses.some((st) => st.device === 'camera.gate' && /Connection refused/.test(st.detail ?? '')),
      15_000,
    );
    for (const svc of cams.services) await svc.stop();
    for (const st of statuses) health.update(st);
    expect(JSON.stringify(statuses)).not.toContain('Cam-Pa55word');
    expect(JSON.stringify(health.snapshot())).not.toContain('Cam-Pa55word');
  });

  it('finds ffmpeg through FFMPEG_PATH or PATH, and reports an rtsp camera unavailable without it', async () => {
    expect(findFfmpeg({ FFMPEG_PATH: ffmpeg! }, '/nonexistent/ffmpeg')).toBe(ffmpeg);
    expect(findFfmpeg({ PATH: '/nonexistent' }, '/nonexistent/ffmpeg')).toBeNull();
    const args = ffmpegArgs({
      url: 'rtsp://cam.local/stream1',
      username: 'op',
      password: 'p@ss',
      maxFps: 5,
      connectTimeoutMs: 3000,
    });
    expect(args).toContain('rtsp://op:p%40ss@cam.local/stream1');
    expect(args.join(' ')).toMatch(/-rtsp_transport tcp .*-vf fps=5 -f image2pipe -c:v mjpeg/);

    const { ctx, statuses } = laneContext([
      { id: 'gate', role: 'overview', kind: 'rtsp', url: 'rtsp://127.0.0.1:1/x' },
    ]);
    const cams = createCameraServices(ctx, {
      findFfmpeg: () => findFfmpeg({ PATH: '/nonexistent' }, '/nonexistent/ffmpeg'),
    });
    for (const s of cams.services) await s.start();
    for (const s of cams.services) await s.stop();
    expect(statuses.filter((s) => s.device === 'camera.gate').map((s) => [s.state, s.detail])).toEqual([
      ['unavailable', FFMPEG_MISSING],
    ]);

    // A URL that does not fit the kind is said as such, not retried.
    const wrong = laneContext([{ id: 'cam', role: 'front', kind: 'mjpeg', url: 'rtsp://127.0.0.1:1/x' }]);
    const built = createCameraServices(wrong.ctx);
    for (const s of built.services) await s.start();
    for (const s of built.services) await s.stop();
    expect(wrong.statuses.filter((s) => s.device === 'camera.cam').map((s) => s.state)).toEqual([
      'starting',
      'unavailable',
      'offline',
    ]);
    expect(wrong.statuses.find((s) => s.state === 'unavailable')!.detail).toMatch(
      /camera cam: kind mjpeg needs an http\(s\) URL, got rtsp: use kind rtsp/,
    );
  });
});
