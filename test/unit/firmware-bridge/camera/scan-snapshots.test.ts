import { describe, expect, it } from 'vitest';
import type { CameraFrame } from '../../../../firmware-bridge/camera/frame-ring.js';
import { ScanSnapshotter, type SnapshotCamera } from '../../../../firmware-bridge/camera/scan-snapshots.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { CameraSnapshot, LaneEvents } from '../../../../core/events.js';
import { silentLogger } from '../../../../core/logger.js';
import { parseFault } from '../../../../sim/camera/cli.js';

const frame = (n: number, at: number): CameraFrame => ({ jpeg: Buffer.from([0xff, 0xd8, n, 0xff, 0xd9]), at });

function camera(id: string, latest: CameraFrame | null, pre: CameraFrame | null): SnapshotCamera {
  return { cameraId: id, role: id, state: latest ? 'ok' : 'stalled', latest: () => latest, preRoll: () => pre };
}

describe('ScanSnapshotter', () => {
  it('takes pre-roll and current pictures at scan begin, the current one at end and abort', async () => {
    const bus = new EventBus<LaneEvents>(silentLogger());
    const shots: CameraSnapshot[] = [];
    bus.on('camera.snapshot', 'test', (s) => void shots.push(s));
    const front = camera('front', frame(2, 2000), frame(1, 1000));
    const same = frame(3, 3000);
    const plate = camera('plate', same, same); // pre-roll is the current picture: taken once
    const dead = camera('rear', null, null);
    const s = new ScanSnapshotter({ laneId: 'l1', bus, cameras: [front, plate, dead], log: silentLogger() });
    await s.start();
    bus.emit('scan.begin', {
      scanId: 'a',
      laneId: 'l1',
      startedAt: '',
      channels: 1,
      energies: 1,
      pixelMm: 5,
      source: 'stream',
    });
    bus.emit('scan.aborted', { scanId: 'a', laneId: 'l1', reason: 'timeout', detail: '', at: '' });
    await s.stop();
    bus.emit('scan.begin', {
      scanId: 'b',
      laneId: 'l1',
      startedAt: '',
      channels: 1,
      energies: 1,
      pixelMm: 5,
      source: 'stream',
    });
    expect(shots.map((x) => [x.scanId, x.cameraId, x.moment, x.jpeg[2], x.at])).toEqual([
      ['a', 'front', 'pre-roll', 1, new Date(1000).toISOString()],
      ['a', 'front', 'scan-begin', 2, new Date(2000).toISOString()],
      ['a', 'plate', 'scan-begin', 3, new Date(3000).toISOString()],
      ['a', 'front', 'scan-end', 2, new Date(2000).toISOString()],
      ['a', 'plate', 'scan-end', 3, new Date(3000).toISOString()],
    ]);
  });
});

describe('camera simulator options', () => {
  it('parses --fault specs and refuses malformed ones', () => {
    expect(parseFault('front:stall:3000@10000')).toEqual({
      camera: 'front',
      type: 'stall',
      durationMs: 3000,
      atMs: 10000,
    });
    expect(parseFault('plate:corrupt:4@0')).toEqual({ camera: 'plate', type: 'corrupt', count: 4, atMs: 0 });
    expect(parseFault('side:disconnect@500')).toEqual({ camera: 'side', type: 'disconnect', atMs: 500 });
    expect(() => parseFault('front:melt@1')).toThrow(/not camera:type/);
  });
});
