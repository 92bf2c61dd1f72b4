import sharp from 'sharp';
import { CameraFeed } from '../firmware-bridge/camera/camera-feed.js';
import { decodeJpeg } from '../firmware-bridge/camera/jpeg.js';
import { MultipartParser, type MultipartPart } from '../firmware-bridge/camera/multipart-parser.js';
import type { FrameSink } from '../firmware-bridge/camera/source.js';
import { renderScanJpeg } from '../outputs/evidence/evidence-picture.js';
import { silentLogger } from '../core/logger.js';
import { laneSceneSvg } from '../sim/camera/scene.js';
import { cpuMs, defineBench, timeRuns } from './harness.js';

const FPS = 10;
const SECONDS = 3;
const RUNS = 7;
const CHUNK = 64 * 1024;

/** 1080p camera pictures with sensor-like noise, so that their JPEG size is realistic. */
async function pictures(n: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let s = 12345;
  for (let i = 0; i < n; i++) {
    const svg = laneSceneSvg({
      cameraId: 'front',
      role: 'front',
      width: 1920,
      height: 1080,
      vehicle: { kind: 'truck', plate: 'B-AB 1234', position: i / (n * 2) },
      at: new Date(0),
    });
    const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    for (let j = 0; j < data.length; j++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      data[j] = Math.max(0, Math.min(255, data[j] + ((s >>> 24) % 25) - 12));
    }
    out.push(
      await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
        .jpeg({ quality: 80 })
        .toBuffer(),
    );
  }
  return out;
}

/** The wire bytes of `frames` as an MJPEG camera sends them. */
function multipart(frames: Buffer[]): Buffer {
  return Buffer.concat(
    frames.flatMap((f) => [
      Buffer.from(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${f.length}\r\n\r\n`),
      f,
      Buffer.from('\r\n'),
    ]),
  );
}

/** One camera's ingest path (parser, JPEG check, watchdog, pre-roll ring), fed `bytes` in network-sized chunks. */
async function ingest(bytes: Buffer, decode: boolean): Promise<number> {
  let sink: FrameSink | null = null;
  const feed = new CameraFeed({
    laneId: 'bench',
    cameraId: 'front',
    role: 'front',
    stallMs: 60_000,
    preRollMs: 2000,
    createSource: () => ({
      describe: 'bench',
      open: async (s) => {
        sink = s;
      },
      close: async () => {},
    }),
    publish: () => {},
    log: silentLogger(),
  });
  await feed.start();
  await new Promise((r) => setImmediate(r));
  const parser = new MultipartParser({ boundary: 'frame' });
  const decoded: Promise<unknown>[] = [];
  parser.on('data', (p: MultipartPart) => {
    sink!.frame(p.body);
    if (decode) decoded.push(decodeJpeg(p.body));
  });
  for (let i = 0; i < bytes.length; i += CHUNK) parser.write(bytes.subarray(i, i + CHUNK));
  await new Promise<void>((r) => parser.end(r));
  await Promise.all(decoded);
  const n = feed.counters.frames;
  await feed.stop();
  return n;
}

export default defineBench({
  area: 'camera',
  async run(ctx) {
    const frames = await pictures(FPS);
    const avgKb = frames.reduce((s, f) => s + f.length, 0) / frames.length / 1024;
    const wire = multipart(Array.from({ length: FPS * SECONDS }, (_, i) => frames[i % frames.length]));
    for (const decode of [false, true]) {
      const name = decode ? 'decoding' : 'buffering';
      if (!ctx.wants(`camera.1080p-10fps.${name}.cpu-ms-per-s`)) continue;
      await ingest(wire, decode); // warm-up
      const samples: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        let n = 0;
        const ms = await cpuMs(async () => {
          n = await ingest(wire, decode);
        });
        if (n !== FPS * SECONDS) throw new Error(`camera bench: ${n} pictures came through, expected ${FPS * SECONDS}`);
        samples.push(ms / SECONDS);
      }
      const what = decode
        ? 'parse + check + pre-roll + sharp decode of every picture to RGB'
        : 'parse + SOI/EOI check + watchdog + pre-roll ring, JPEG bytes kept';
      ctx.report(
        `camera.1080p-10fps.${name}.cpu-ms-per-s`,
        samples,
        'ms CPU/s',
        `${what}; ${avgKb.toFixed(0)} KiB pictures; CPU time of all threads (incl. libvips) per second of video, 10 ms/s = 1 % of one core`,
      );
      ctx.report(
        `camera.1080p-10fps.${name}.core-percent`,
        samples.map((ms) => ms / 10),
        '% of one core',
        `one camera at ${FPS} frames/s of 1920x1080 MJPEG; ${what}`,
      );
    }
    if (ctx.wants('camera.evidence.scan-render-6000x1000-ms')) {
      const w = 6000;
      const h = 1000;
      const high = new Uint16Array(w * h);
      for (let i = 0; i < high.length; i++) high[i] = 2000 + ((i * 2654435761) >>> 20);
      const regions = [{ x: 2500, y: 300, w: 400, h: 300, score: 0.9 }];
      const ms = await timeRuns(RUNS, () => renderScanJpeg({ width: w, height: h, pixelMm: 5, high }, regions));
      ctx.report(
        'camera.evidence.scan-render-6000x1000-ms',
        ms,
        'ms',
        'evidence scan JPEG: 6,000 lines x 1,000 channels, log-attenuation window, downscaled to 2,000 px wide, one red box, wall time',
      );
    }
  },
});
