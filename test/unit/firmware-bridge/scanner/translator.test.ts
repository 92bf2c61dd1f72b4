import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LineAssembler, transpose } from '../../../../firmware-bridge/scanner/line-assembler.js';
import {
  decodePayload,
  encodeFrame,
  type Frame,
  type FrameBody,
  type LineBody,
} from '../../../../firmware-bridge/scanner/protocol/frames.js';
import { ScannerTranslator, type ScannerTranslatorOptions } from '../../../../firmware-bridge/scanner/translator.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { isUuidv7, uuidv7 } from '../../../../core/ids.js';
import { silentLogger } from '../../../../core/logger.js';
import {
  DUAL_ENERGY_REFERENCE,
  STREAM_MIN_SCANS,
  StreamedLowEnergyScale,
  estimateDualEnergyRatio,
} from '../../../../core/dual-energy-scale.js';

const C = 5;
const hi = (x: number, c: number) => (x * 1000 + c * 7 + 1) & 0xffff;
const lo = (x: number, c: number) => (50_000 - x * 10 - c) & 0xffff;

function frame(body: FrameBody | LineBody, seq = 0): Frame {
  const bytes = encodeFrame(body, seq);
  const names: Record<number, Frame['type']> = {
    1: 'hello',
    2: 'status',
    3: 'scanBegin',
    4: 'line',
    5: 'scanEnd',
    6: 'fault',
    7: 'heartbeat',
  };
  return decodePayload(names[bytes[3]] as never, bytes, { seq, offset: 0, bytes });
}
const lineF = (x: number, key = 1) =>
  frame({
    type: 'line',
    scanKey: key,
    lineIndex: x,
    channels: C,
    energyMask: 3,
    high: Uint16Array.from({ length: C }, (_, c) => hi(x, c)),
    low: Uint16Array.from({ length: C }, (_, c) => lo(x, c)),
  });
const begin = (key = 1, extra: Partial<FrameBody> = {}) =>
  frame({
    type: 'scanBegin',
    scanKey: key,
    channels: C,
    energies: 2,
    pixelMm: 4,
    lineRateHz: 300,
    expectedLines: 0,
    startedAtMs: Date.UTC(2026, 0, 2, 3, 4, 5),
    speedKmh: 5,
    scanId: '',
    plate: 'XY 1',
    containerCode: '',
    vehicleClass: '',
    ...extra,
  } as FrameBody);
const end = (key = 1, lineCount = 0, outcome: 'complete' | 'aborted-by-host' | 'aborted-by-scanner' = 'complete') =>
  frame({ type: 'scanEnd', scanKey: key, lineCount, outcome, endedAtMs: Date.now() });

function setup(timeoutMs = 1000, extra: Partial<ScannerTranslatorOptions> = {}) {
  const bus = new EventBus<LaneEvents>(silentLogger());
  const ev: { name: string; payload: unknown }[] = [];
  for (const name of ['scan.begin', 'scan.lines', 'scan.end', 'scan.aborted', 'device.status'] as const)
    bus.on(name, 'test', (p) => void ev.push({ name, payload: p }));
  const t = new ScannerTranslator({
    laneId: 'lane-1',
    device: 'scanner',
    bus,
    log: silentLogger(),
    defaultPixelMm: 5,
    scanTimeoutMs: timeoutMs,
    batchLines: 4,
    batchMs: 20,
    ...extra,
  });
  const of = <K extends keyof LaneEvents>(name: K) =>
    ev.filter((e) => e.name === name).map((e) => e.payload as LaneEvents[K]);
  return { t, ev, of };
}

describe('transpose', () => {
  it('turns line-major into row-major', () => {
    const lm = Uint16Array.from({ length: 3 * 70 }, (_, i) => i);
    const rm = transpose(lm, 3, 70);
    for (let x = 0; x < 3; x++) for (let c = 0; c < 70; c++) expect(rm[c * 3 + x]).toBe(lm[x * 70 + c]);
  });
});

describe('ScannerTranslator + LineAssembler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('builds the row-major dual-energy image, batches lines, and emits begin/lines/end', () => {
    const { t, of } = setup();
    t.link('up', 'tcp 127.0.0.1:1');
    t.frame(begin());
    for (let x = 0; x < 10; x++) t.frame(lineF(x));
    t.frame(end(1, 10));
    const [meta] = of('scan.begin');
    expect(meta).toMatchObject({
      laneId: 'lane-1',
      channels: C,
      energies: 2,
      pixelMm: 4,
      source: 'stream',
      vehicle: { plate: 'XY 1', speedKmh: 5 },
      startedAt: '2026-01-02T03:04:05.000Z',
    });
    // The edge's own id; the scanner's (here derived from its key and time) kept beside it.
    expect(isUuidv7(meta.scanId)).toBe(true);
    expect(meta.scannerScanId).toBe('scanner-20260102T030405Z-1');
    const batches = of('scan.lines');
    expect(batches.map((b) => [b.firstIndex, b.count])).toEqual([
      [0, 4],
      [4, 4],
      [8, 2],
    ]);
    expect(batches[1].high[1 * C + 2]).toBe(hi(5, 2));
    expect(batches[2].low![C + 4]).toBe(lo(9, 4));
    const [scan] = of('scan.end');
    expect(scan.image).toMatchObject({ width: 10, height: C, pixelMm: 4 });
    for (let x = 0; x < 10; x++)
      for (let c = 0; c < C; c++) {
        expect(scan.image.high[c * 10 + x]).toBe(hi(x, c));
        expect(scan.image.low![c * 10 + x]).toBe(lo(x, c));
      }
    expect([...scan.image.missing!]).toEqual(new Array(10).fill(0));
  });

  it("with scanner.lineMm 'speed', takes each scan's line pitch from its speed and line rate, and says when it cannot", () => {
    const log = silentLogger();
    const warn = vi.spyOn(log, 'warn');
    const { t, of } = setup(1000, { lineMm: 'speed', log });
    t.link('up', 'tcp 127.0.0.1:1');
    // 10.8 km/h = 3 m/s at 300 lines/s: lines 10 mm apart, channels 4 mm
    t.frame(begin(1, { speedKmh: 10.8 }));
    for (let x = 0; x < 4; x++) t.frame(lineF(x, 1));
    t.frame(end(1, 4));
    expect(of('scan.begin')[0]).toMatchObject({ pixelMm: 4, lineMm: 10, lineRateHz: 300 });
    expect(of('scan.end')[0].image).toMatchObject({ pixelMm: 4, lineMm: 10 });
    expect(warn).not.toHaveBeenCalled();
    // no speed (NaN on the wire): read as square, with a warning naming the scan
    t.frame(begin(2, { speedKmh: null, scanId: 'S-2' }));
    for (let x = 0; x < 4; x++) t.frame(lineF(x, 2));
    t.frame(end(2, 4));
    expect(of('scan.begin')[1].lineMm).toBeUndefined();
    expect(of('scan.end')[1].image.lineMm).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][1])).toMatch(
      /^scanner: scan S-2 \(edge .*\): no vehicle speed given \(none\), so no line pitch from it; read with lines as far apart as the channels \(scanner.lineMm\)$/,
    );
    expect(t.counters.linePitchFallbacks).toBe(1);
    // a scan whose scan-begin was lost has no line rate (the speed comes from the status): 'speed' cannot apply
    t.frame(
      frame({ type: 'status', state: 'scanning', radiationOn: true, interlocksOk: true, speedKmh: 10 } as FrameBody),
    );
    for (let x = 0; x < 4; x++) t.frame(lineF(x, 3));
    t.frame(end(3, 4));
    expect(of('scan.end')[2].image.lineMm).toBeUndefined();
    expect(t.counters.linePitchFallbacks).toBe(2);
    expect(String(warn.mock.calls.at(-1)![1])).toMatch(/no line rate given, so no line pitch from the speed/);
  });

  it('a fixed scanner.lineMm applies to every scan, also one whose scan-begin was lost', () => {
    const { t, of } = setup(1000, { lineMm: 8 });
    t.link('up', 'tcp 127.0.0.1:1');
    t.frame(begin(1));
    for (let x = 0; x < 4; x++) t.frame(lineF(x, 1));
    t.frame(end(1, 4));
    for (let x = 0; x < 4; x++) t.frame(lineF(x, 2));
    t.frame(end(2, 4));
    expect(of('scan.end').map((e) => [e.image.pixelMm, e.image.lineMm])).toEqual([
      [4, 8],
      [5, 8],
    ]);
    expect(t.counters.linePitchFallbacks).toBe(0);
  });

  it("with scanner.lineMm 'pixel', says once when a scan's speed and line rate put its lines far from the channels' pitch", () => {
    const log = silentLogger();
    const warn = vi.spyOn(log, 'warn');
    const { t, of } = setup(1000, { log });
    t.link('up', 'tcp 127.0.0.1:1');
    // 4 mm channels; 5 km/h at 300 lines/s is 4.63 mm: within 25 %, nothing said
    t.frame(begin(1));
    t.frame(lineF(0, 1));
    t.frame(end(1, 1));
    expect(warn).not.toHaveBeenCalled();
    for (const key of [2, 3]) {
      t.frame(begin(key, { speedKmh: 10.8 }));
      t.frame(lineF(0, key));
      t.frame(end(key, 1));
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][1])).toMatch(
      /its speed \(10.8 km\/h\) and line rate \(300 lines\/s\) put its lines 10 mm apart, but scanner.lineMm 'pixel' reads them 4 mm apart; .*set scanner.lineMm: speed \(said once\)$/,
    );
    expect(of('scan.begin').every((m) => m.lineMm === undefined)).toBe(true);
  });

  it('flushes a partial batch after batchMs', () => {
    const { t, of } = setup();
    t.frame(begin());
    t.frame(lineF(0));
    expect(of('scan.lines')).toHaveLength(0);
    vi.advanceTimersByTime(25);
    expect(of('scan.lines').map((b) => b.count)).toEqual([1]);
  });

  it('marks missing lines and fills them by interpolation; a late line replaces its fill', () => {
    const { t, of } = setup();
    t.frame(begin());
    for (const x of [1, 2, 5, 3]) t.frame(lineF(x));
    t.frame(end(1, 8));
    const img = of('scan.end')[0].image;
    expect(img.width).toBe(8);
    expect([...img.missing!]).toEqual([1, 0, 0, 0, 1, 0, 1, 1]);
    const px = (x: number, c: number) => img.high[c * 8 + x];
    expect(px(0, 2)).toBe(hi(1, 2)); // leading gap: copy of the first line
    expect(px(3, 1)).toBe(hi(3, 1)); // late line: real data
    expect(px(4, 1)).toBe(Math.round(hi(2, 1) + ((hi(5, 1) - hi(2, 1)) * 2) / 3)); // interpolated between 2 and 5
    expect(px(7, 0)).toBe(hi(5, 0)); // trailing: copy of the last line
    expect(t.counters).toMatchObject({ lateLines: 1, missingLines: 4, scansCompleted: 1 });
  });

  it('aborts with scanner-fault on a fault frame, with the partial image', () => {
    const { t, of } = setup();
    t.link('up', 'tcp');
    t.frame(begin());
    for (let x = 0; x < 3; x++) t.frame(lineF(x));
    t.frame(frame({ type: 'fault', scanKey: 1, code: 17, text: 'collimator interlock' }));
    const [a] = of('scan.aborted');
    expect(a).toMatchObject({ reason: 'scanner-fault', laneId: 'lane-1' });
    expect(a.detail).toContain('fault 17: collimator interlock');
    expect(a.partial!.width).toBe(3);
    expect(a.partial!.high[2 * 3 + 1]).toBe(hi(1, 2));
    expect(of('device.status').at(-1)).toMatchObject({ device: 'scanner', state: 'fault' });
  });

  it('aborts the open scan with scanner-fault and the fault text on a fault reported over OPC UA; nothing when no scan is open', () => {
    const { t, of } = setup();
    t.link('up', 'tcp');
    t.scannerFault('interlock opened: doors');
    expect(of('scan.aborted')).toEqual([]);
    t.frame(begin());
    for (let x = 0; x < 3; x++) t.frame(lineF(x));
    t.scannerFault('interlock opened: doors');
    const [a] = of('scan.aborted');
    expect(a).toMatchObject({
      reason: 'scanner-fault',
      detail: 'interlock opened: doors',
      scanId: of('scan.begin')[0].scanId,
      meta: { scannerScanId: 'scanner-20260102T030405Z-1' },
    });
    expect(a.partial!.width).toBe(3);
    expect(t.openScanId).toBeNull();
    // Lines still in flight for the aborted scan do not reopen it.
    t.frame(lineF(3));
    expect(of('scan.begin')).toHaveLength(1);
    t.scannerFault('again');
    expect(of('scan.aborted')).toHaveLength(1);
  });

  it('aborts with link-lost when the link drops and reports disconnected, then ok again', () => {
    const { t, of } = setup();
    t.link('up', 'tcp');
    t.frame(begin());
    t.frame(lineF(0));
    t.link('down', 'connection reset');
    expect(of('scan.aborted')[0]).toMatchObject({ reason: 'link-lost' });
    expect(of('device.status').at(-1)).toMatchObject({ state: 'disconnected', detail: 'connection reset' });
    t.link('up', 'tcp again');
    expect(of('device.status').at(-1)).toMatchObject({ state: 'ok' });
    expect(of('device.status').at(-1)!.info).toMatchObject({ scansAborted: 1 });
  });

  it('forgets what the scanner said of itself when the link drops: state, interlocks and radiation become unknown (null)', () => {
    const { t, of } = setup();
    t.link('up', 'serial');
    t.frame({
      type: 'status',
      state: 'ready',
      radiationOn: false,
      interlocksOk: true,
      speedKmh: null,
      seq: 1,
      offset: 0,
      bytes: 20,
    } as never);
    expect(of('device.status').at(-1)!.info).toMatchObject({
      scannerState: 'ready',
      interlocksOk: true,
      radiationOn: false,
    });
    t.link('down', 'serial unplugged');
    expect(of('device.status').at(-1)).toMatchObject({
      state: 'disconnected',
      info: { scannerState: null, interlocksOk: null, radiationOn: null, speedKmh: null },
    });
    t.link('up', 'serial again');
    expect(of('device.status').at(-1)!.info).toMatchObject({ scannerState: null, interlocksOk: null });
  });

  it('aborts with timeout when lines stop for scanTimeoutMs', () => {
    const { t, of } = setup(1000);
    t.frame(begin());
    t.frame(lineF(0));
    vi.advanceTimersByTime(600);
    t.frame(lineF(1));
    vi.advanceTimersByTime(600);
    expect(of('scan.aborted')).toHaveLength(0);
    vi.advanceTimersByTime(500);
    const [a] = of('scan.aborted');
    expect(a.reason).toBe('timeout');
    expect(a.partial!.width).toBe(2);
  });

  it('reports operator aborts, a missing scan-end, and a scan with no lines as aborted', () => {
    const { t, of } = setup();
    t.frame(begin(1, { scanId: 'A' }));
    t.frame(lineF(0, 1));
    t.hostAbortSent('abort: operator pressed stop');
    t.frame(end(1, 1, 'aborted-by-host'));
    t.frame(begin(2, { scanId: 'B' }));
    t.frame(lineF(0, 2));
    t.frame(begin(3, { scanId: 'C' }));
    t.frame(end(3, 0));
    expect(of('scan.aborted').map((a) => [a.meta?.scannerScanId, a.reason])).toEqual([
      ['A', 'operator-abort'],
      ['B', 'link-lost'],
      ['C', 'scanner-fault'],
    ]);
    expect(of('scan.end')).toHaveLength(0);
  });

  it('opens a scan from a line whose scan-begin was lost, but not after its end', () => {
    const { t, of } = setup();
    t.frame(lineF(0, 9));
    t.frame(lineF(1, 9));
    t.frame(end(9, 2));
    t.frame(lineF(2, 9));
    expect(of('scan.begin')[0]).toMatchObject({ channels: C, energies: 2, pixelMm: 5 });
    expect(of('scan.end')[0].image.width).toBe(2);
    expect(t.counters.droppedLines).toBe(1);
  });

  it('reuses its storage across scans of other shapes without leaking old pixels', () => {
    const asm = new LineAssembler({
      batchLines: 4,
      batchMs: 10,
      timeoutMs: 1000,
      maxLines: 1000,
      onBatch: () => {},
      onTimeout: () => {},
    });
    const line = (C: number, planes: number, v: number) =>
      new Uint8Array(Uint16Array.from({ length: C * planes }, (_, i) => v + i).buffer);
    asm.begin({ channels: 6, energies: 2, pixelMm: 5, expectedLines: 10 });
    for (let x = 0; x < 10; x++) asm.addLine(x, 6, 3, line(6, 2, 60_000));
    asm.finish(10);
    asm.begin({ channels: 4, energies: 1, pixelMm: 5, expectedLines: 0 });
    asm.addLine(0, 4, 1, line(4, 1, 100));
    asm.addLine(3, 4, 1, line(4, 1, 400));
    const img = asm.finish(5);
    expect(img.low).toBeUndefined();
    expect([...img.missing!]).toEqual([0, 1, 1, 0, 1]);
    // row 0: 100, interpolated 200 and 300, 400, then the copy of the last line
    expect([...img.high.subarray(0, 5)]).toEqual([100, 200, 300, 400, 400]);
    expect(Math.max(...img.high)).toBeLessThan(1000);
  });

  it('bounds memory: rejects line indexes beyond maxLines', () => {
    const asm = new LineAssembler({
      batchLines: 8,
      batchMs: 10,
      timeoutMs: 1000,
      maxLines: 100,
      onBatch: () => {},
      onTimeout: () => {},
    });
    asm.begin({ channels: 2, energies: 1, pixelMm: 5, expectedLines: 0 });
    expect(asm.addLine(100, 2, 1, new Uint8Array(4))).toBe('out-of-range');
    expect(asm.addLine(99, 2, 1, new Uint8Array(4))).toBe('added');
    expect(asm.addLine(5, 3, 1, new Uint8Array(6))).toBe('shape');
    expect(asm.finish(1_000_000).width).toBe(100);
  });

  it('emits file scans as begin + end with source file', () => {
    const { t, of } = setup();
    const image = { width: 2, height: 1, pixelMm: 5, high: new Uint16Array([1, 2]) };
    const id = t.fileScan(
      {
        scanId: uuidv7(),
        scannerScanId: 'F1',
        startedAt: '2026-01-01T00:00:00.000Z',
        channels: 1,
        energies: 1,
        pixelMm: 5,
      },
      image,
      '2026-01-01T00:00:01.000Z',
    );
    expect(isUuidv7(id)).toBe(true);
    expect(of('scan.begin')[0]).toMatchObject({ scanId: id, scannerScanId: 'F1', source: 'file', laneId: 'lane-1' });
    expect(of('scan.end')[0].image).toBe(image);
  });

  it('a scan-end of outcome 1 (host abort) that this edge never asked for is not reported as an operator abort', () => {
    const { t, of } = setup();
    t.frame(begin(1, { scanId: 'X' }));
    t.frame(lineF(0, 1));
    t.frame(end(1, 1, 'aborted-by-host'));
    expect(of('scan.aborted')).toMatchObject([{ reason: 'scanner-fault' }]);
    expect(of('scan.aborted')[0].detail).toContain('this edge sent none');
  });

  it('a scan-end declaring far more lines than arrived is a counted protocol error: nothing is allocated or filled for it', () => {
    const { t, of } = setup();
    t.frame(begin());
    for (let x = 0; x < 100; x++) t.frame(lineF(x));
    const heap = process.memoryUsage().arrayBuffers;
    t.frame(end(1, 0xffffffff));
    expect(process.memoryUsage().arrayBuffers - heap).toBeLessThan(4 << 20);
    const [scan] = of('scan.end');
    expect(scan.image.width).toBe(100);
    expect(scan.declaredLines).toBe(0xffffffff);
    expect(t.counters.lineCountErrors).toBe(1);
    // A plausible count is still filled in and marked missing.
    t.frame(begin(2));
    for (let x = 0; x < 100; x++) t.frame(lineF(x, 2));
    t.frame(end(2, 120));
    expect(of('scan.end')[1].image.width).toBe(120);
    expect(of('scan.end')[1].declaredLines).toBeUndefined();
    expect(t.counters.lineCountErrors).toBe(1);
  });

  it('refuses a scan-begin whose header is out of the config ranges: reported aborted, never opened, its lines dropped', () => {
    const { t, of } = setup();
    t.link('up', 'tcp');
    t.frame(begin(1, { pixelMm: 5000, scanId: 'UM' } as Partial<FrameBody>));
    for (let x = 0; x < 3; x++) t.frame(lineF(x, 1));
    t.frame(end(1, 3));
    expect(of('scan.begin')).toEqual([]);
    expect(of('scan.end')).toEqual([]);
    const [a] = of('scan.aborted');
    expect(a).toMatchObject({ reason: 'scanner-fault', meta: { scannerScanId: 'UM' } });
    expect(a.detail).toContain('pixel pitch 5000 mm outside 0.5-50 mm');
    expect(t.counters).toMatchObject({ headerErrors: 1, droppedLines: 3 });
    t.frame(begin(2, { lineRateHz: 1e9 } as Partial<FrameBody>));
    expect(of('scan.aborted')[1].detail).toContain('line rate');
    t.frame(begin(3, { expectedLines: 0xffffffff } as Partial<FrameBody>));
    expect(of('scan.aborted')[2].detail).toContain('announced length');
    // 0 means "not given": the config's pitch is used.
    t.frame(begin(4, { pixelMm: 0 } as Partial<FrameBody>));
    expect(of('scan.begin')).toMatchObject([{ pixelMm: 5 }]);
  });
});

describe('a scan sent again (scan-begin flagged resent)', () => {
  it('carries the flag through the frame, and is opened as new when this lane never began it', () => {
    const f = begin(1, { scanId: 'sim-1-4', resent: true } as Partial<FrameBody>);
    expect(f).toMatchObject({ type: 'scanBegin', resent: true });
    expect(begin(1, { scanId: 'sim-1-4' } as Partial<FrameBody>)).not.toHaveProperty('resent');
    const asked: [string, string][] = [];
    const began: unknown[] = [];
    const bus = new EventBus<LaneEvents>(silentLogger());
    bus.on('scan.begin', 'test', (m) => void began.push(m));
    const fresh = new ScannerTranslator({
      laneId: 'lane-1',
      device: 'scanner',
      bus,
      log: silentLogger(),
      defaultPixelMm: 5,
      scanTimeoutMs: 1000,
      begunBefore: (id, at) => {
        asked.push([id, at]);
        return null;
      },
    });
    fresh.frame(f);
    expect(asked).toEqual([['sim-1-4', '2026-01-02T03:04:05.000Z']]);
    expect(began).toMatchObject([{ scannerScanId: 'sim-1-4', resent: true }]);
    expect(fresh.counters).toMatchObject({ resentScans: 1, resentDuplicates: 0 });
    fresh.close('test over');
  });

  it('is not opened again when this lane began it before: its lines and end are dropped, quietly', () => {
    const bus = new EventBus<LaneEvents>(silentLogger());
    const ev: string[] = [];
    for (const name of ['scan.begin', 'scan.end', 'scan.aborted'] as const)
      bus.on(name, 'test', () => void ev.push(name));
    const tr = new ScannerTranslator({
      laneId: 'lane-1',
      device: 'scanner',
      bus,
      log: silentLogger(),
      defaultPixelMm: 5,
      scanTimeoutMs: 1000,
      begunBefore: (id, at) => (id === 'sim-1-4' && at === '2026-01-02T03:04:05.000Z' ? 'edge-scan-1' : null),
    });
    tr.frame(begin(7, { scanId: 'sim-1-4', resent: true } as Partial<FrameBody>));
    tr.frame(lineF(0, 7));
    tr.frame(lineF(1, 7));
    tr.frame(end(7, 2));
    expect(ev).toEqual([]);
    expect(tr.counters).toMatchObject({ resentScans: 1, resentDuplicates: 1, droppedLines: 2 });
    // Not flagged resent, the same scanner id is a new vehicle: never asked, always opened.
    tr.frame(begin(8, { scanId: 'sim-1-4' } as Partial<FrameBody>));
    tr.frame(lineF(0, 8));
    tr.frame(end(8, 1));
    expect(ev).toEqual(['scan.begin', 'scan.end']);
  });
});

describe('low-energy scale of streamed scans', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  // 60 channels x 200 lines of steel-like attenuation 1.2-3.8 whose low/high ratio is `ratio` on every pixel.
  const CH = 60;
  const LINES = 200;
  const att = (x: number, c: number) => 1.2 + (2.6 * ((x * 7 + c * 13) % 97)) / 96;
  const steelLine = (key: number, x: number, ratio: number) =>
    frame({
      type: 'line',
      scanKey: key,
      lineIndex: x,
      channels: CH,
      energyMask: 3,
      high: Uint16Array.from({ length: CH }, (_, c) => Math.round(65535 * Math.exp(-att(x, c)))),
      low: Uint16Array.from({ length: CH }, (_, c) => Math.round(65535 * Math.exp(-att(x, c) * ratio))),
    });

  it("rescales the scans that follow once the scanner's ratio reads outside the band, and says so in its status", () => {
    const { t, of } = setup(1000, { lowEnergyScale: new StreamedLowEnergyScale('auto') });
    t.link('up', 'tcp 127.0.0.1:1');
    const scan = (key: number) => {
      t.frame(begin(key, { channels: CH }));
      for (let x = 0; x < LINES; x++) t.frame(steelLine(key, x, 1.2));
      t.frame(end(key, LINES));
      const e = of('scan.end').at(-1)!;
      return estimateDualEnergyRatio(e.image.high, e.image.low!)!.ratio;
    };
    const status = () => of('device.status');
    for (let k = 1; k < STREAM_MIN_SCANS; k++) expect(scan(k)).toBeCloseTo(1.2, 2);
    expect(status().at(-1)).toMatchObject({ state: 'ok', detail: 'tcp 127.0.0.1:1' });
    const published = status().length;
    // The fifth scan sets the factor; it was itself read as sent. The scanner stays ok: a correction, said in its detail.
    expect(scan(STREAM_MIN_SCANS)).toBeCloseTo(1.2, 2);
    expect(status()).toHaveLength(published + 1);
    expect(status().at(-1)).toMatchObject({ state: 'ok' });
    expect(status().at(-1)!.detail).toMatch(/^tcp 127\.0\.0\.1:1; low-energy attenuation multiplied by 0\.8\d\d /);
    expect(status().at(-1)!.info).toMatchObject({
      lowEnergyRatio: expect.closeTo(1.2, 2),
      lowEnergyScale: expect.closeTo(DUAL_ENERGY_REFERENCE / 1.2, 2),
      lowEnergyScans: STREAM_MIN_SCANS,
    });
    // The next scan's lines and image arrive rescaled to the reference; the high energy is untouched.
    const before = of('scan.lines').length;
    expect(scan(STREAM_MIN_SCANS + 1)).toBeCloseTo(DUAL_ENERGY_REFERENCE, 2);
    const first = of('scan.lines')[before];
    expect(first.high[0]).toBe(Math.round(65535 * Math.exp(-att(0, 0))));
    expect(first.low![0]).toBeGreaterThan(Math.round(65535 * Math.exp(-att(0, 0) * 1.2)));
    // Nothing new to say after that scan: no status is published for it.
    expect(status()).toHaveLength(published + 1);
  });

  it('is not applied to scans that arrive as files (the file drop checks each pair itself)', () => {
    const { t, of } = setup(1000, { lowEnergyScale: new StreamedLowEnergyScale(0.8) });
    const low = Uint16Array.from({ length: 4 }, () => 20_000);
    t.fileScan(
      {
        scanId: uuidv7(),
        scannerScanId: 'F-1',
        startedAt: new Date().toISOString(),
        channels: 2,
        energies: 2,
        pixelMm: 5,
      },
      { width: 2, height: 2, pixelMm: 5, high: Uint16Array.from({ length: 4 }, () => 10_000), low },
      new Date().toISOString(),
    );
    expect(of('scan.end')[0].image.low).toBe(low);
  });
});
