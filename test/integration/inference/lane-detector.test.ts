import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxDetector } from '../../../inference/onnx-detector.js';
import { loadModelFiles } from '../../../inference/manifest.js';
import type { TileRunner } from '../../../inference/session.js';
import type { Alert, DeviceStatus, ScanResult } from '../../../core/domain.js';
import { EventBus } from '../../../core/event-bus.js';
import type { LaneEvents } from '../../../core/events.js';
import { LanePipeline } from '../../../pipeline/lane-pipeline.js';
import { silentLogger } from '../../../core/logger.js';
import { batch, completed, metaFor, scanImage, TINY } from '../../helpers/inference.js';

/** A lane pipeline with the ONNX detector: what the lane publishes for each scan. */
async function lane(detector: OnnxDetector) {
  const bus = new EventBus<LaneEvents>(silentLogger());
  const statuses: DeviceStatus[] = [];
  const results: ScanResult[] = [];
  const alerts: Alert[] = [];
  bus.on('device.status', 'test', (s) => void statuses.push(s));
  bus.on('scan.decided', 'test', ({ result }) => void results.push(result));
  bus.on('alert.raised', 'test', (a) => void alerts.push(a));
  const pipeline = new LanePipeline({
    siteId: 's',
    laneId: 'lane-1',
    bus,
    detector,
    thresholds: { alert: 0.5, region: 0.3 },
    log: silentLogger(),
  });
  await pipeline.start();
  const decided = (n: number) =>
    new Promise<void>((res) => {
      const check = () => (results.length >= n ? res() : setTimeout(check, 5));
      check();
    });
  return { bus, statuses, results, alerts, pipeline, decided };
}

describe('lane pipeline with the ONNX detector', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ce-lane-model-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams a scan with a dense block: verdict person, region in scan pixels, model status ok', async () => {
    const det = await OnnxDetector.open({ path: TINY, threads: 1, warmup: true });
    const l = await lane(det);
    expect(l.statuses.at(-1)).toMatchObject({ device: 'model', state: 'ok', detail: 'tiny-fcn 0.0.1' });
    const img = scanImage(900, 160, 5, [{ x: 500, y: 70, w: 90, h: 50, a: 7 }], true);
    const meta = metaFor(img, 'scan-p');
    l.bus.emit('scan.begin', meta);
    for (let x = 0; x < img.width; x += 32)
      l.bus.emit('scan.lines', batch(img, x, Math.min(img.width, x + 32), 'scan-p'));
    l.bus.emit('scan.end', completed(img, meta));
    await l.decided(1);
    const r = l.results[0];
    expect(r).toMatchObject({ scanId: 'scan-p', verdict: 'person', model: { name: 'tiny-fcn' } });
    expect(r.regions).toHaveLength(1);
    expect(r.regions[0].x).toBeLessThanOrEqual(500);
    expect(r.regions[0].x + r.regions[0].w).toBeGreaterThanOrEqual(590);
    expect(l.alerts.map((a) => a.kind)).toEqual(['person-suspected']);

    const clear = scanImage(600, 160, 5, [], true);
    const m2 = metaFor(clear, 'scan-c');
    l.bus.emit('scan.begin', m2);
    l.bus.emit('scan.lines', batch(clear, 0, 600, 'scan-c'));
    l.bus.emit('scan.end', completed(clear, m2));
    await l.decided(2);
    expect(l.results[1]).toMatchObject({ scanId: 'scan-c', verdict: 'clear', regions: [] });
    expect(l.alerts).toHaveLength(1);
    await l.pipeline.stop();
    await det.close();
  });

  it('a missing model: the lane publishes model unavailable and marks the scan unavailable with an alert, never clear', async () => {
    const det = await OnnxDetector.open({ path: join(dir, 'absent'), threads: 1, warmup: true });
    const l = await lane(det);
    expect(l.statuses.at(-1)).toMatchObject({ device: 'model', state: 'unavailable' });
    expect(l.statuses.at(-1)!.detail).toMatch(/detection unavailable: model manifest .*absent.*cannot be read/);
    const img = scanImage(300, 100, 5, []);
    const meta = metaFor(img, 'scan-u');
    l.bus.emit('scan.begin', meta);
    l.bus.emit('scan.lines', batch(img, 0, 300, 'scan-u'));
    l.bus.emit('scan.end', completed(img, meta));
    await l.decided(1);
    expect(l.results[0]).toMatchObject({ verdict: 'unavailable', score: null });
    expect(l.results[0].unavailableReason).toMatch(/cannot be read/);
    expect(l.alerts.map((a) => a.kind)).toEqual(['detection-unavailable']);
    await l.pipeline.stop();
    await det.close();
  });

  it('an inference error mid-scan: the scan is unavailable, the model status turns unavailable with the reason', async () => {
    const files = await loadModelFiles(TINY);
    let calls = 0;
    const runner: TileRunner = {
      async run(_i, h, w) {
        if (++calls >= 2) throw new Error('onnxruntime: out of memory');
        return { heatmap: new Float32Array((h / 4) * (w / 4)), heatW: w / 4, heatH: h / 4, score: 0 };
      },
      async release() {},
    };
    const det = OnnxDetector.fromModel(
      { manifest: files.manifest, identity: files.identity, runner },
      { threads: 1, warmup: false },
    );
    const l = await lane(det);
    const img = scanImage(700, 100, 5, []);
    const meta = metaFor(img, 'scan-e');
    l.bus.emit('scan.begin', meta);
    for (let x = 0; x < img.width; x += 50)
      l.bus.emit('scan.lines', batch(img, x, Math.min(img.width, x + 50), 'scan-e'));
    l.bus.emit('scan.end', completed(img, meta));
    await l.decided(1);
    expect(l.results[0]).toMatchObject({
      verdict: 'unavailable',
      unavailableReason: 'inference failed: onnxruntime: out of memory',
    });
    expect(l.alerts.map((a) => a.kind)).toEqual(['detection-unavailable']);
    expect(l.statuses.at(-1)).toMatchObject({
      device: 'model',
      state: 'unavailable',
      detail: 'detection unavailable: inference failed: onnxruntime: out of memory',
    });
    await l.pipeline.stop();
    await det.close();
  });
});
