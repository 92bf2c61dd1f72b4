import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EvidenceStore, evidenceFolderName } from '../../../../outputs/evidence/evidence-store.js';
import type { ScanImage, ScanResult } from '../../../../core/domain.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { silentLogger } from '../../../../core/logger.js';
import { scanResult } from '../../../helpers/builders.js';

const DAY = 86_400_000;
let root: string;

function result(scanId: string): ScanResult {
  return scanResult({ scanId, laneId: 'l1', siteId: 's1', model: null, lines: 300 });
}

/** Noise, so the JPEG has a predictable, non-trivial size. */
function image(seed: number): ScanImage {
  const high = new Uint16Array(300 * 64);
  let s = seed;
  for (let i = 0; i < high.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    high[i] = 1000 + (s >>> 16);
  }
  return { width: 300, height: 64, pixelMm: 5, high };
}

describe('EvidenceStore', () => {
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'evidence-store-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('deletes evidence past retentionDays at start', async () => {
    const old = join(root, 'old-scan');
    mkdirSync(old);
    writeFileSync(join(old, 'scan.jpg'), Buffer.alloc(100));
    const t = (Date.now() - 31 * DAY) / 1000;
    utimesSync(join(old, 'scan.jpg'), t, t);
    utimesSync(old, t, t);
    mkdirSync(join(root, 'recent'));
    const store = new EvidenceStore({
      laneId: 'l1',
      dir: root,
      bus: new EventBus<LaneEvents>(silentLogger()),
      log: silentLogger(),
      retention: { maxAgeMs: 30 * DAY, maxBytes: 1 << 30 },
    });
    await store.start();
    await store.stop(); // waits for the sweep started by start()
    expect(readdirSync(root)).toEqual(['recent']);
  });

  it('keeps the evidence under maxBytes by deleting the oldest scans first, as scans come in', async () => {
    const bus = new EventBus<LaneEvents>(silentLogger());
    const probe = new EvidenceStore({
      laneId: 'l1',
      dir: join(root, 'probe'),
      bus,
      log: silentLogger(),
      retention: { maxAgeMs: DAY, maxBytes: 1 << 30 },
    });
    await probe.collect(result('p'), image(1));
    await probe.flushed();
    const one = statSync(join(root, 'probe', 'p', 'scan.jpg')).size;

    const dir = join(root, 'lane');
    const store = new EvidenceStore({
      laneId: 'l1',
      dir,
      bus,
      log: silentLogger(),
      retention: { maxAgeMs: DAY, maxBytes: Math.floor(one * 2.5) },
    });
    await store.start();
    for (let i = 1; i <= 5; i++) {
      const refs = await store.collect(result(`scan-${i}`), image(i));
      expect(refs).toEqual([
        { name: 'scan.jpg', kind: 'scan', contentType: 'image/jpeg', url: `/evidence/scan-${i}/scan.jpg` },
      ]);
      await store.flushed();
      // Distinct modification times, oldest first, without waiting for the clock.
      const at = new Date(Date.now() - (10 - i) * 60_000);
      for (const f of readdirSync(join(dir, `scan-${i}`))) utimesSync(join(dir, `scan-${i}`, f), at, at);
      utimesSync(join(dir, `scan-${i}`), at, at);
    }
    await store.sweep();
    await store.stop();
    expect(readdirSync(dir).sort()).toEqual(['scan-4', 'scan-5']);
  });

  it('stores camera snapshots of the scan from the bus, named by camera and moment', async () => {
    const bus = new EventBus<LaneEvents>(silentLogger());
    const store = new EvidenceStore({
      laneId: 'l1',
      dir: root,
      bus,
      log: silentLogger(),
      retention: { maxAgeMs: DAY, maxBytes: 1 << 30 },
    });
    await store.start();
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    bus.emit('camera.snapshot', {
      cameraId: 'front',
      role: 'front',
      scanId: 'x/1',
      moment: 'scan-begin',
      at: '',
      jpeg,
    });
    bus.emit('camera.snapshot', {
      cameraId: 'front',
      role: 'front',
      scanId: 'other',
      moment: 'scan-begin',
      at: '',
      jpeg,
    });
    const refs = await store.collect(result('x/1'), undefined);
    await store.stop();
    expect(refs).toEqual([
      {
        name: 'front-scan-begin.jpg',
        kind: 'camera',
        contentType: 'image/jpeg',
        url: '/evidence/x_1/front-scan-begin.jpg',
      },
    ]);
    expect(readdirSync(join(root, 'x_1'))).toEqual(['front-scan-begin.jpg']);
    expect(evidenceFolderName('..')).toBe('scan_');
    expect(evidenceFolderName('a b/../c')).toBe('a_b___c');
  });

  it('returns the references before the scan picture is written, and stop() waits for the write', async () => {
    const bus = new EventBus<LaneEvents>(silentLogger());
    const store = new EvidenceStore({
      laneId: 'l1',
      dir: root,
      bus,
      log: silentLogger(),
      retention: { maxAgeMs: DAY, maxBytes: 1 << 30 },
    });
    await store.start();
    const refs = await store.collect(result('fast'), image(7));
    expect(refs.map((r) => r.url)).toEqual(['/evidence/fast/scan.jpg']);
    await store.stop();
    const jpeg = readFileSync(join(root, 'fast', 'scan.jpg'));
    expect([jpeg[0], jpeg[1], jpeg.at(-2), jpeg.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
  });
});
