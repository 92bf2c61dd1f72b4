import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UnavailableDetector } from '../../../../core/detector.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { silentLogger } from '../../../../core/logger.js';
import { EvidenceStore } from '../../../../outputs/evidence/evidence-store.js';
import { LanePipeline } from '../../../../pipeline/lane-pipeline.js';
import { completed, metaFor, scanImage } from '../../../helpers/inference.js';

describe('the verdict before the pictures', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('publishes the result and its alert on the bus before the evidence picture is begun; its link is named in the result already', async () => {
    root = mkdtempSync(join(tmpdir(), 'verdict-first-'));
    const order: string[] = [];
    const bus = new EventBus<LaneEvents>(silentLogger());
    const evidence = new EvidenceStore({
      laneId: 'lane-1',
      dir: root,
      bus,
      log: silentLogger(),
      retention: { maxAgeMs: 86_400_000, maxBytes: 1 << 30 },
      renderScan: async () => {
        order.push('render');
        return Buffer.from('jpeg');
      },
    });
    await evidence.start();
    const pipeline = new LanePipeline({
      siteId: 's',
      laneId: 'lane-1',
      bus,
      detector: new UnavailableDetector('no model in this test'),
      thresholds: { region: 0.3 },
      log: silentLogger(),
      evidence,
    });
    await pipeline.start();
    let url = '';
    bus.on('scan.decided', 'test', ({ result }) => {
      order.push('decided');
      url = result.evidence[0]?.url ?? '';
    });
    bus.on('alert.raised', 'test', (a) => {
      order.push(`alert ${a.kind}`);
    });
    const img = scanImage(200, 40, 5, []);
    bus.emit('scan.begin', metaFor(img));
    bus.emit('scan.end', completed(img));
    await pipeline.stop();
    await evidence.flushed();
    expect(order).toEqual(['decided', 'alert detection-unavailable', 'render']);
    expect(url).toMatch(/^\/evidence\/scan-1\/scan\.jpg$/);
    await evidence.stop();
  });
});
