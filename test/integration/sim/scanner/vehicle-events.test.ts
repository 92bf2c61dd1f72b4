import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameParser } from '../../../../firmware-bridge/scanner/protocol/frame-parser.js';
import type { Frame } from '../../../../firmware-bridge/scanner/protocol/frames.js';
import { ScannerStreamSim, type SimVehicle } from '../../../../sim/scanner/line-stream-sim.js';
import { arraySource } from '../../../../sim/scanner/scan-source.js';
import { patternScan } from '../../../helpers/line-stream.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

describe('ScannerStreamSim vehicle events', () => {
  it('announces each vehicle vehicleLeadMs before its scan-begin frame, then says when the scan begins', async () => {
    const scans = [
      { ...patternScan(1, 50, 4), vehicleClass: 'van' },
      { ...patternScan(2, 100, 4), vehicleClass: 'car' },
    ];
    const sim = new ScannerStreamSim({
      source: arraySource(scans),
      scans: 2,
      lineRateHz: 1000,
      gapMs: 100,
      vehicleLeadMs: 150,
      heartbeatMs: 0,
    });
    const { port } = await sim.listenTcp(0);
    stops.push(() => sim.stop());
    const seen: string[] = [];
    const vehicles: SimVehicle[] = [];
    sim.on('vehicle', (v: SimVehicle) => {
      seen.push(`vehicle ${v.scanId}`);
      vehicles.push(v);
    });
    sim.on('scanBegin', (v: SimVehicle) => void seen.push(`scanBegin ${v.scanId} in ${v.beginsInMs}`));
    sim.on('scan', (r: { scanId: string }) => void seen.push(`scan ${r.scanId}`));
    const socket = connect(port, '127.0.0.1');
    stops.push(async () => void socket.destroy());
    // What had been announced when each scan-begin frame arrived.
    const atFrame: string[][] = [];
    socket.pipe(new FrameParser()).on('data', (f: Frame) => {
      if (f.type === 'scanBegin')
        atFrame.push([`${f.scanId} ${f.plate}`, ...seen.filter((s) => s.includes(f.scanId) && !s.startsWith('scan '))]);
    });
    await sim.finished;
    expect(seen).toEqual([
      'vehicle sim-1-1',
      'scanBegin sim-1-1 in 0',
      'scan sim-1-1',
      'vehicle sim-1-2',
      'scanBegin sim-1-2 in 0',
      'scan sim-1-2',
    ]);
    await expect.poll(() => atFrame.length).toBe(2);
    expect(atFrame).toEqual([
      ['sim-1-1 T 1', 'vehicle sim-1-1', 'scanBegin sim-1-1 in 0'],
      ['sim-1-2 T 2', 'vehicle sim-1-2', 'scanBegin sim-1-2 in 0'],
    ]);
    expect(vehicles).toEqual([
      {
        index: 0,
        scanKey: 1,
        scanId: 'sim-1-1',
        plate: 'T 1',
        vehicleClass: 'van',
        speedKmh: 18,
        expectedMs: 50,
        beginsInMs: 150,
      },
      {
        index: 1,
        scanKey: 2,
        scanId: 'sim-1-2',
        plate: 'T 2',
        vehicleClass: 'car',
        speedKmh: 18,
        expectedMs: 100,
        beginsInMs: 150,
      },
    ]);
  });

  it('sends a scan-begin whose speed, line rate and pixel pitch agree (speed = pitch x line rate)', async () => {
    const sim = new ScannerStreamSim({
      source: arraySource([patternScan(1, 20, 4)]),
      scans: 1,
      lineRateHz: 300,
      gapMs: 0,
      heartbeatMs: 0,
    });
    const { port } = await sim.listenTcp(0);
    stops.push(() => sim.stop());
    const begins: Frame[] = [];
    const socket = connect(port, '127.0.0.1');
    stops.push(async () => void socket.destroy());
    socket.pipe(new FrameParser()).on('data', (f: Frame) => void (f.type === 'scanBegin' && begins.push(f)));
    await sim.finished;
    await expect.poll(() => begins.length).toBe(1);
    const b = begins[0] as Extract<Frame, { type: 'scanBegin' }>;
    expect(b).toMatchObject({ pixelMm: 5, lineRateHz: 300 });
    // 5 mm x 300 lines/s = 1.5 m/s = 5.4 km/h.
    expect(b.speedKmh).toBeCloseTo((b.pixelMm * b.lineRateHz * 3.6) / 1000, 1);
  });
});
