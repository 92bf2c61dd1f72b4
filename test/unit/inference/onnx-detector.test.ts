import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OnnxDetector } from '../../../inference/onnx-detector.js';
import { loadModelFiles } from '../../../inference/manifest.js';
import type { TileRunner } from '../../../inference/session.js';
import type { DetectorStatus } from '../../../core/detector.js';
import { batch, completed, FIXTURES, metaFor, scanImage, TINY } from '../../helpers/inference.js';

const opts = { threads: 1, warmup: true };

describe('OnnxDetector on the tiny fixture model', () => {
  let det: OnnxDetector;
  beforeAll(async () => {
    det = await OnnxDetector.open({ path: TINY, ...opts });
  });
  afterAll(async () => {
    await det.close();
  });

  it('is ready with the manifest identity', () => {
    expect(det.status.state).toBe('ready');
    if (det.status.state === 'ready') {
      expect(det.status.model.name).toBe('tiny-fcn');
      expect(det.status.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('finds a dense block and reports its box in the input pixels (5 mm scan, 10 mm model)', async () => {
    // fixture: tileLines 64, overlap 16 model px = 128 / 32 input lines; the block straddles tiles
    const img = scanImage(700, 200, 5, [{ x: 300, y: 100, w: 80, h: 40, a: 7 }]);
    const d = await det.begin(metaFor(img)).finish(completed(img));
    expect(d.score).toBeGreaterThan(0.9);
    expect(d.operatingThreshold).toBeUndefined(); // the fixture's manifest names no operating point
    expect(d.regions.length).toBe(1);
    const r = d.regions[0];
    // heatmap cells are 4 model px = 8 input px; the 3x3 smoothing spreads by up to one cell
    expect(r.x).toBeGreaterThanOrEqual(300 - 16);
    expect(r.x).toBeLessThanOrEqual(300);
    expect(r.x + r.w).toBeGreaterThanOrEqual(380);
    expect(r.x + r.w).toBeLessThanOrEqual(380 + 16);
    expect(r.y).toBeGreaterThanOrEqual(100 - 16);
    expect(r.y + r.h).toBeLessThanOrEqual(140 + 16);
    expect(r.y + r.h).toBeGreaterThanOrEqual(140);
    expect(d.model.name).toBe('tiny-fcn');
  });

  it("splits a region holding two peaks when the manifest's decoding.splitProminence asks for it", async () => {
    // Two dense blocks (heatmap about 1) joined by a lighter bar (about 0.6): one component at 0.3.
    const img = scanImage(700, 200, 5, [
      { x: 200, y: 92, w: 200, h: 40, a: 4.2 },
      { x: 180, y: 90, w: 80, h: 44, a: 7 },
      { x: 340, y: 90, w: 80, h: 44, a: 7 },
    ]);
    expect((await det.begin(metaFor(img)).finish(completed(img))).regions).toHaveLength(1);
    const dir = mkdtempSync(join(tmpdir(), 'ce-split-'));
    try {
      const m = JSON.parse(readFileSync(join(TINY, 'manifest.json'), 'utf8'));
      m.decoding.splitProminence = 0.1;
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
      writeFileSync(join(dir, 'model.onnx'), readFileSync(join(TINY, 'model.onnx')));
      const split = await OnnxDetector.open({ path: dir, ...opts });
      const regions = (await split.begin(metaFor(img)).finish(completed(img))).regions;
      await split.close();
      expect(regions).toHaveLength(2);
      const [left, right] = [...regions].sort((a, b) => a.x - b.x);
      expect(left.x).toBeLessThanOrEqual(180);
      expect(right.x).toBeGreaterThan(260);
      expect(right.x + right.w).toBeGreaterThanOrEqual(420);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds nothing in a clear scan and scores it low', async () => {
    const img = scanImage(500, 160, 5, []);
    const d = await det.begin(metaFor(img)).finish(completed(img));
    expect(d.score).toBeLessThan(0.05);
    expect(d.regions).toEqual([]);
  });

  it('drops regions below minRegionMm2 (the fixture needs 40,000 mm2 = 25 cells of 40 mm)', async () => {
    const img = scanImage(400, 160, 5, [{ x: 200, y: 80, w: 12, h: 12, a: 9 }]);
    const d = await det.begin(metaFor(img)).finish(completed(img));
    expect(d.regions).toEqual([]);
  });

  it('maps boxes through a non-integer pitch ratio and a scan shorter than one tile', async () => {
    const img = scanImage(130, 120, 4, [{ x: 40, y: 50, w: 70, h: 60, a: 8 }]);
    const d = await det.begin(metaFor(img)).finish(completed(img));
    expect(d.regions.length).toBe(1);
    const r = d.regions[0];
    expect(r.x).toBeLessThanOrEqual(40);
    expect(r.x).toBeGreaterThanOrEqual(40 - 20);
    expect(r.x + r.w).toBeGreaterThanOrEqual(110);
    expect(r.x + r.w).toBeLessThanOrEqual(130);
    expect(r.y + r.h).toBeGreaterThanOrEqual(110);
    expect(r.y + r.h).toBeLessThanOrEqual(120);
  });

  it('reads lines at their own pitch: every line sent twice at half the pitch (lineMm) is read as the scan sent once: the same score, boxes in its own lines', async () => {
    const img = scanImage(700, 200, 5, [{ x: 300, y: 100, w: 80, h: 40, a: 7 }]);
    const twice = new Uint16Array(img.width * 2 * img.height);
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < img.width * 2; x++) twice[y * img.width * 2 + x] = img.high[y * img.width + (x >> 1)];
    const slow = { width: img.width * 2, height: img.height, pixelMm: 5, lineMm: 2.5, high: twice };
    const a = await det.begin(metaFor(img)).finish(completed(img));
    const b = await det.begin(metaFor(slow)).finish(completed(slow));
    expect(b.score).toBe(a.score);
    expect(b.regions).toEqual(a.regions.map((r) => ({ ...r, x: r.x * 2, w: r.w * 2 })));
  });

  it('gives the same result streamed in odd batches as from the whole image, with tiles run before the end', async () => {
    const img = scanImage(
      1111,
      150,
      5,
      [
        { x: 90, y: 60, w: 60, h: 50, a: 7 },
        { x: 900, y: 40, w: 70, h: 60, a: 8 },
      ],
      true,
    );
    const whole = await det.begin(metaFor(img)).finish(completed(img));
    const a = det.begin(metaFor(img));
    for (let from = 0; from < img.width; from += 37) a.pushLines(batch(img, from, Math.min(img.width, from + 37)));
    expect((a as unknown as { tilesQueued: number }).tilesQueued).toBeGreaterThan(5);
    const streamed = await a.finish(completed(img));
    expect(streamed.regions).toEqual(whole.regions);
    expect(streamed.score).toBe(whole.score);
    expect(whole.regions.length).toBe(2);
  });

  it('finishes from the completed image after a gap in the lines', async () => {
    const img = scanImage(800, 150, 5, [{ x: 600, y: 60, w: 60, h: 50, a: 7 }]);
    const whole = await det.begin(metaFor(img)).finish(completed(img));
    const a = det.begin(metaFor(img));
    a.pushLines(batch(img, 0, 300));
    a.pushLines(batch(img, 350, 800)); // lines 300..349 lost: the completed image has them filled
    expect((a as unknown as { streaming: boolean }).streaming).toBe(false);
    const d = await a.finish(completed(img));
    expect(d.regions).toEqual(whole.regions);
    expect(d.score).toBe(whole.score);
  });

  it('a cancelled analysis rejects finish and does not make the detector unavailable', async () => {
    const img = scanImage(600, 100, 5, []);
    const a = det.begin(metaFor(img));
    a.pushLines(batch(img, 0, 600));
    a.cancel();
    await expect(a.finish(completed(img))).rejects.toThrow(/cancelled/);
    expect(det.status.state).toBe('ready');
  });
});

describe('failure is never silent', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ce-model-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const folder = (name: string, files: Record<string, string | Buffer>) => {
    const d = join(dir, name);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    for (const [f, data] of Object.entries(files)) writeFileSync(join(d, f), data);
    return d;
  };
  const manifest = () => readFileSync(join(TINY, 'manifest.json'), 'utf8');
  const onnx = () => readFileSync(join(TINY, 'model.onnx'));

  const unavailable = async (path: string, pattern: RegExp) => {
    const d = await OnnxDetector.open({ path, ...opts });
    const s = d.status as Extract<DetectorStatus, { state: 'unavailable' }>;
    expect(s.state).toBe('unavailable');
    expect(s.reason).toMatch(pattern);
    expect(() => d.begin(metaFor(scanImage(10, 10, 5, [])))).toThrow(/detection unavailable/);
    await d.close();
  };

  it('missing folder', async () => {
    await unavailable(join(dir, 'nope'), /manifest .*nope.*cannot be read.*ENOENT/);
  });

  it('missing ONNX file', async () => {
    await unavailable(folder('no-onnx', { 'manifest.json': manifest() }), /model file .*model\.onnx cannot be read/);
  });

  it('manifest that is not JSON, or lacks fields', async () => {
    await unavailable(folder('bad-json', { 'manifest.json': '{ nope', 'model.onnx': onnx() }), /not valid JSON/);
    const m = JSON.parse(manifest());
    delete m.outputs;
    await unavailable(
      folder('no-outputs', { 'manifest.json': JSON.stringify(m), 'model.onnx': onnx() }),
      /invalid: outputs/,
    );
  });

  it('corrupt ONNX file: checksum mismatch', async () => {
    const bytes = Buffer.from(onnx());
    bytes[bytes.length - 5] ^= 0xff;
    await unavailable(
      folder('flipped', { 'manifest.json': manifest(), 'model.onnx': bytes }),
      /corrupt: its sha256 is/,
    );
  });

  it('corrupt ONNX file whose manifest checksum matches: onnxruntime cannot load it', async () => {
    const junk = Buffer.from('this is not an onnx protobuf at all, just text');
    const m = JSON.parse(manifest());
    m.sha256 = createHash('sha256').update(junk).digest('hex');
    await unavailable(
      folder('junk', { 'manifest.json': JSON.stringify(m), 'model.onnx': junk }),
      /cannot be loaded by onnxruntime/,
    );
  });

  it('incompatible model: wrong input name, wrong channel count', async () => {
    await unavailable(join(FIXTURES, 'wrong-input'), /input\(s\) image, not "scan"/);
    await unavailable(join(FIXTURES, 'one-channel'), /1 channel\(s\), the manifest lists 3/);
  });

  it('incompatible model: output names differ from the manifest', async () => {
    const m = JSON.parse(manifest());
    m.outputs.heatmap.name = 'mask';
    const d = folder('renamed', { 'manifest.json': JSON.stringify(m), 'model.onnx': onnx() });
    await unavailable(d, /output\(s\) heatmap, score, not "mask"/);
  });

  it('incompatible model: a stride that does not match the heatmap fails the warm-up', async () => {
    const m = JSON.parse(manifest());
    m.outputs.heatmap.stride = 8;
    const d = folder('stride', { 'manifest.json': JSON.stringify(m), 'model.onnx': onnx() });
    await unavailable(d, /warm-up.*expected \[1,1,8,8\]/);
  });

  it('an inference error rejects finish, turns the detector unavailable with the reason, and a probe restores it', async () => {
    const files = await loadModelFiles(TINY);
    let fail = false;
    let calls = 0;
    const runner: TileRunner = {
      async run(_input, h, w) {
        calls++;
        if (fail) throw new Error('simulated onnxruntime failure');
        return { heatmap: new Float32Array((h / 4) * (w / 4)), heatW: w / 4, heatH: h / 4, score: 0.01 };
      },
      async release() {},
    };
    const d = OnnxDetector.fromModel(
      { manifest: files.manifest, identity: files.identity, runner },
      { ...opts, retryMs: 20 },
    );
    const seen: DetectorStatus[] = [];
    d.onStatus((s) => seen.push(s));
    const img = scanImage(400, 100, 5, []);
    expect((await d.begin(metaFor(img)).finish(completed(img))).score).toBeCloseTo(0.01, 5);
    fail = true;
    const a = d.begin(metaFor(img));
    await expect(a.finish(completed(img))).rejects.toThrow(/simulated onnxruntime failure/);
    expect(d.status).toMatchObject({ state: 'unavailable', reason: 'inference failed: simulated onnxruntime failure' });
    expect(seen.map((s) => s.state)).toEqual(['unavailable']);
    expect(() => d.begin(metaFor(img))).toThrow(/inference failed/);
    fail = false;
    const before = calls;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await vi.advanceTimersByTimeAsync(20); // retryMs: one probe
    } finally {
      vi.useRealTimers();
    }
    await vi.waitFor(() => expect(d.status.state).toBe('ready'));
    expect(calls).toBeGreaterThan(before);
    expect(d.status.state).toBe('ready');
    expect(seen.map((s) => s.state)).toEqual(['unavailable', 'ready']);
    await d.close();
  });

  it('reloads a model folder that appears after a failed start', async () => {
    const d0 = join(dir, 'late');
    const d = await OnnxDetector.open({ path: d0, ...opts, retryMs: 30 });
    expect(d.status.state).toBe('unavailable');
    folder('late', { 'manifest.json': manifest(), 'model.onnx': onnx() });
    const ready = new Promise<DetectorStatus>((r) => d.onStatus(r));
    expect((await ready).state).toBe('ready');
    await d.close();
  });
});
