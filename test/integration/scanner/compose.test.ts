import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../config/load.js';
import { createScannerServices } from '../../../runtime/compose/scanner.js';
import type { LaneContext } from '../../../runtime/context.js';
import { EventBus } from '../../../runtime/event-bus.js';
import type { LaneEvents } from '../../../runtime/events.js';
import { LaneHealth } from '../../../runtime/lane-health.js';
import { silentLogger } from '../../../runtime/logger.js';
import type { Service } from '../../../runtime/service.js';
import { ScannerStreamSim } from '../../../sim/scanner/line-stream-sim.js';
import { arraySource } from '../../../sim/scanner/scan-source.js';
import { writeFileDropScan } from '../../../sim/scanner/file-drop-writer.js';
import { patternScan } from './helpers.js';

const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function laneContext(scanner: Record<string, unknown>): LaneContext {
  const dataDir = mkdtempSync(join(tmpdir(), 'ce-compose-'));
  dirs.push(dataDir);
  const config = validateConfig({ site: { id: 's1' }, dataDir, lanes: [{ id: 'lane-c', scanner }] }, 'test.yaml', {});
  const bus = new EventBus<LaneEvents>(silentLogger());
  return { config, lane: config.lanes[0], bus, health: new LaneHealth('lane-c'), log: silentLogger(), dataDir, http: undefined as never, metrics: undefined as never };
}

describe('createScannerServices', () => {
  it('builds the line stream and the file drop from the lane config; both feed scans to the lane bus', async () => {
    const sim = new ScannerStreamSim({ source: arraySource([patternScan(1, 40, 8)]), scans: 1, lineRateHz: 5000, gapMs: 0 });
    const { port } = await sim.listenTcp(0);
    stops.push(() => sim.stop());
    const drop = mkdtempSync(join(tmpdir(), 'ce-compose-drop-'));
    dirs.push(drop);
    const ctx = laneContext({ id: 'xr1', transport: { type: 'tcp', host: '127.0.0.1', port }, fileDrop: { dir: drop, stableMs: 100, xmlFields: { plate: 'A/B' } }, reconnect: { initialMs: 20, maxMs: 100 } });
    const ended: LaneEvents['scan.end'][] = [];
    const status = new Map<string, string>();
    ctx.bus.on('scan.end', 't', (s) => void ended.push(s));
    ctx.bus.on('device.status', 't', (s) => void status.set(s.device, s.state));
    const services: Service[] = createScannerServices(ctx);
    expect(services.map((s) => s.name)).toEqual(['scanner-line-stream:lane-c', 'scanner-file-drop:lane-c']);
    for (const s of services) await s.start();
    stops.push(async () => {
      for (const s of [...services].reverse()) await s.stop();
    });
    await writeFileDropScan(drop, patternScan(2, 30, 8), { scanId: 'F-1', format: 'png16' });
    await expect.poll(() => ended.map((e) => e.meta.source).sort(), { timeout: 5000 }).toEqual(['file', 'stream']);
    expect(status.get('xr1')).toBe('ok');
    expect(status.get('xr1.filedrop')).toBe('ok');
  });

  it('names an unknown xmlFields key, with the lane, and what to use instead', () => {
    const ctx = laneContext({ fileDrop: { dir: '/nonexistent', xmlFields: { licence: 'A/B' } } });
    expect(() => createScannerServices(ctx)).toThrow('lane lane-c: scanner.fileDrop.xmlFields.licence is not a sidecar field; use one of scanId, time, pixelMm, plate, vehicle, containerCode');
  });
});
