import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../../../config/load.js';
import { createScannerServices, LOW_ENERGY_RATIOS_FILE } from '../../../../app/compose/scanner.js';
import type { LaneContext } from '../../../../app/context.js';
import { RuntimeMetrics } from '../../../../app/runtime-metrics.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { UnavailableDetector } from '../../../../core/detector.js';
import { LaneHealth } from '../../../../pipeline/lane-health.js';
import { LanePipeline } from '../../../../pipeline/lane-pipeline.js';
import { createLogger, silentLogger } from '../../../../core/logger.js';
import type { Service } from '../../../../core/service.js';
import { ScannerStreamSim } from '../../../../sim/scanner/line-stream-sim.js';
import { ScannerOpcuaServer } from '../../../../sim/scanner/opcua-server.js';
import { arraySource, type SimScan, withLinePitch } from '../../../../sim/scanner/scan-source.js';
import {
  DUAL_ENERGY_REFERENCE,
  STREAM_MIN_SCANS,
  estimateDualEnergyRatio,
} from '../../../../core/dual-energy-scale.js';
import { writeFileDropScan } from '../../../../sim/scanner/file-drop-writer.js';
import { patternScan } from '../../../helpers/line-stream.js';

const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Starts services in order; they are stopped in reverse order after the test. */
async function startAll(services: Service[]): Promise<void> {
  for (const s of services) await s.start();
  stops.push(async () => {
    for (const s of [...services].reverse()) await s.stop();
  });
}

/** The lane's decision loop (no model: every scan 'unavailable'), stopped after the test. */
async function startDecisions(ctx: LaneContext): Promise<void> {
  const pipeline = new LanePipeline({
    siteId: 's1',
    laneId: 'lane-c',
    bus: ctx.bus,
    detector: new UnavailableDetector('no model in this test'),
    thresholds: { region: 0.3 },
    log: silentLogger(),
  });
  await pipeline.start();
  stops.push(() => pipeline.stop());
}

function laneContext(scanner: Record<string, unknown>): LaneContext {
  const dataDir = mkdtempSync(join(tmpdir(), 'ce-compose-'));
  dirs.push(dataDir);
  const config = validateConfig({ site: { id: 's1' }, dataDir, lanes: [{ id: 'lane-c', scanner }] }, 'test.yaml', {});
  const bus = new EventBus<LaneEvents>(silentLogger());
  return {
    config,
    lane: config.lanes[0],
    bus,
    health: new LaneHealth('lane-c'),
    log: silentLogger(),
    dataDir,
    http: undefined as never,
    metrics: new RuntimeMetrics(),
  };
}

describe('createScannerServices', () => {
  it('builds the line stream and the file drop from the lane config; both feed scans to the lane bus', async () => {
    const sim = new ScannerStreamSim({
      source: arraySource([patternScan(1, 40, 8)]),
      scans: 1,
      lineRateHz: 5000,
      gapMs: 0,
    });
    const { port } = await sim.listenTcp(0);
    stops.push(() => sim.stop());
    const drop = mkdtempSync(join(tmpdir(), 'ce-compose-drop-'));
    dirs.push(drop);
    const ctx = laneContext({
      id: 'xr1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      fileDrop: { dir: drop, stableMs: 100, xmlFields: { plate: 'A/B' } },
      reconnect: { initialMs: 20, maxMs: 100 },
    });
    const ended: LaneEvents['scan.end'][] = [];
    const status = new Map<string, string>();
    ctx.bus.on('scan.end', 't', (s) => void ended.push(s));
    ctx.bus.on('device.status', 't', (s) => void status.set(s.device, s.state));
    const services: Service[] = createScannerServices(ctx);
    expect(services.map((s) => s.name)).toEqual(['scanner-line-stream:lane-c', 'scanner-file-drop:lane-c']);
    // The lane's decision loop: the file drop moves a scan's files once it is decided.
    await startDecisions(ctx);
    await startAll(services);
    await writeFileDropScan(drop, patternScan(2, 30, 8), { scanId: 'F-1', format: 'png16' });
    await expect.poll(() => ended.map((e) => e.meta.source).sort(), { timeout: 5000 }).toEqual(['file', 'stream']);
    expect(status.get('xr1')).toBe('ok');
    expect(status.get('xr1.filedrop')).toBe('ok');
  });

  it("reads a fixed-line-rate scanner's lines at the pitch its speed and line rate make (scanner.lineMm speed)", async () => {
    // 5 mm scans sent with their lines 10 mm apart: 72 km/h at 2,000 lines/s
    const sim = new ScannerStreamSim({
      source: withLinePitch(arraySource([patternScan(3, 200, 8)]), 10),
      scans: 1,
      lineRateHz: 2000,
      gapMs: 0,
    });
    const { port } = await sim.listenTcp(0);
    stops.push(() => sim.stop());
    const ctx = laneContext({ id: 'xr1', transport: { type: 'tcp', host: '127.0.0.1', port }, lineMm: 'speed' });
    const begun: LaneEvents['scan.begin'][] = [];
    const ended: LaneEvents['scan.end'][] = [];
    ctx.bus.on('scan.begin', 't', (m) => void begun.push(m));
    ctx.bus.on('scan.end', 't', (s) => void ended.push(s));
    await startAll(createScannerServices(ctx));
    await expect.poll(() => ended.length, { timeout: 10_000 }).toBe(1);
    expect(begun[0]).toMatchObject({ pixelMm: 5, lineMm: 10, lineRateHz: 2000, vehicle: { speedKmh: 72 } });
    expect(ended[0].image).toMatchObject({ width: 100, height: 8, pixelMm: 5, lineMm: 10 });
  });

  it("counts on /metrics the scans scanner.lineMm 'speed' could not be applied to (here a dropped file's)", async () => {
    const drop = mkdtempSync(join(tmpdir(), 'ce-compose-drop-'));
    dirs.push(drop);
    const ctx = laneContext({ id: 'xr1', fileDrop: { dir: drop, stableMs: 100 }, lineMm: 'speed' });
    const ended: LaneEvents['scan.end'][] = [];
    ctx.bus.on('scan.end', 't', (s) => void ended.push(s));
    const fallbacks = async () =>
      Number(
        /^checkpoint_edge_scanner_line_pitch_fallbacks_total\{lane="lane-c",device="xr1"\} (\S+)$/m.exec(
          await ctx.metrics.registry.metrics(),
        )?.[1],
      );
    const services = createScannerServices(ctx);
    expect(await fallbacks()).toBe(0);
    // A vendor XML map that gives no speed and line rate is pointed out when the lane starts.
    const xml = laneContext({ id: 'xr1', fileDrop: { dir: drop, xmlFields: { plate: 'A/B' } }, lineMm: 'speed' });
    const warn = vi.spyOn(xml.log, 'warn');
    createScannerServices(xml);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(
      /^lane lane-c: scanner.lineMm is speed, but scanner.fileDrop.xmlFields maps neither lineMm nor both speedKmh and lineRateHz/,
    );
    const mapped = laneContext({
      id: 'xr1',
      fileDrop: { dir: drop, xmlFields: { speedKmh: 'A/S', lineRateHz: 'A/@r' } },
      lineMm: 'speed',
    });
    const quiet = vi.spyOn(mapped.log, 'warn');
    createScannerServices(mapped);
    expect(quiet).not.toHaveBeenCalled();
    // The lane's decision loop: the file drop waits for a scan's decision before it takes the next.
    await startDecisions(ctx);
    await startAll(services);
    // a square scan's sidecar says no speed or line rate
    await writeFileDropScan(drop, patternScan(2, 30, 8), { scanId: 'F-1', format: 'png16' });
    await expect.poll(() => ended.length, { timeout: 5000 }).toBe(1);
    expect(await fallbacks()).toBe(1);
  });

  it("rescales streamed scans of a scanner whose dual-energy ratio is not the training scanner's (scanner.lowEnergyScale auto)", async () => {
    // Steel-like scans (attenuation 1.2-3.8) from a scanner whose low energy reads 1.2 x the high's.
    const steel = (k: number): SimScan => {
      const w = 200;
      const h = 60;
      const high = new Uint16Array(w * h);
      const low = new Uint16Array(w * h);
      for (let r = 0; r < h; r++)
        for (let x = 0; x < w; x++) {
          const a = 1.2 + (2.6 * ((x * 7 + r * 13 + k) % 97)) / 96;
          high[r * w + x] = Math.round(65535 * Math.exp(-a));
          low[r * w + x] = Math.round(65535 * Math.exp(-a * 1.2));
        }
      return { width: w, height: h, pixelMm: 5, high, low, origin: `steel ${k}` };
    };
    const n = STREAM_MIN_SCANS + 1;
    const sim = new ScannerStreamSim({
      source: arraySource(Array.from({ length: n }, (_, k) => steel(k))),
      scans: n,
      lineRateHz: 20_000,
      gapMs: 0,
    });
    const { port } = await sim.listenTcp(0);
    stops.push(() => sim.stop());
    const ctx = laneContext({
      id: 'xr1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      reconnect: { initialMs: 20, maxMs: 100 },
    });
    const ratios: number[] = [];
    const status: LaneEvents['device.status'][] = [];
    ctx.bus.on('scan.end', 't', (s) => void ratios.push(estimateDualEnergyRatio(s.image.high, s.image.low!)!.ratio));
    ctx.bus.on('device.status', 't', (s) => void (s.device === 'xr1' && status.push(s)));
    const services = createScannerServices(ctx);
    await startAll(services);
    await expect.poll(() => ratios.length, { timeout: 10_000 }).toBe(n);
    // The first scans arrive as sent; the one after the fifth arrives rescaled to the training scanner's ratio.
    for (const r of ratios.slice(0, STREAM_MIN_SCANS)) expect(r).toBeCloseTo(1.2, 2);
    expect(ratios[STREAM_MIN_SCANS]).toBeCloseTo(DUAL_ENERGY_REFERENCE, 2);
    const last = status.at(-1)!;
    expect(last.state).toBe('ok');
    expect(last.detail).toMatch(/; low-energy attenuation multiplied by 0\.8\d\d \(scanner\.lowEnergyScale 'auto'/);
    expect(last.info).toMatchObject({ lowEnergyScale: expect.closeTo(DUAL_ENERGY_REFERENCE / 1.2, 2) });
    expect(last.info!.lowEnergyScans).toBeGreaterThanOrEqual(STREAM_MIN_SCANS);
    // ...and on /metrics, for central monitoring.
    const text = await ctx.metrics.registry.metrics();
    const gauge = (name: string) =>
      Number(new RegExp(`^${name}\\{lane="lane-c",device="xr1"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(gauge('checkpoint_edge_scanner_low_energy_scale')).toBeCloseTo(DUAL_ENERGY_REFERENCE / 1.2, 2);
    expect(gauge('checkpoint_edge_scanner_low_energy_ratio')).toBeCloseTo(1.2, 2);

    // After a restart the lane corrects from the first scan: what it read is kept in its data dir.
    for (const s of [...services].reverse()) await s.stop();
    const kept = JSON.parse(readFileSync(join(ctx.dataDir, LOW_ENERGY_RATIOS_FILE), 'utf8')) as { ratios: number[] };
    expect(kept.ratios).toHaveLength(n);
    for (const r of kept.ratios) expect(r).toBeCloseTo(1.2, 2);
    const sim2 = new ScannerStreamSim({ source: arraySource([steel(99)]), scans: 1, lineRateHz: 20_000, gapMs: 0 });
    const again = await sim2.listenTcp(0);
    stops.push(() => sim2.stop());
    const ctx2 = {
      ...ctx,
      lane: {
        ...ctx.lane,
        scanner: { ...ctx.lane.scanner, transport: { type: 'tcp' as const, host: '127.0.0.1', port: again.port } },
      },
    };
    const restarted = createScannerServices(ctx2);
    await startAll(restarted);
    await expect.poll(() => ratios.length, { timeout: 10_000 }).toBe(n + 1);
    expect(ratios[n]).toBeCloseTo(DUAL_ENERGY_REFERENCE, 2);
  });

  it('starts a lane whose kept dual-energy statistics are unreadable, without them', async () => {
    const ctx = laneContext({ id: 'xr1', transport: { type: 'tcp', host: '127.0.0.1', port: 1 } });
    writeFileSync(join(ctx.dataDir, LOW_ENERGY_RATIOS_FILE), '{"ratios": [1.2, 1.2,');
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const services = createScannerServices({ ...ctx, log: createLogger({ level: 'warn', destination }) });
    expect(services.map((s) => s.name)).toEqual(['scanner-line-stream:lane-c']);
    await expect.poll(() => lines.length).toBe(1);
    const warned = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(warned).toEqual([
      expect.stringMatching(
        /scanner-low-energy\.json: the dual-energy statistics of earlier scans cannot be read \(.*\); starting without them$/,
      ),
    ]);
  });

  it('aborts the open streamed scan when the OPC UA status enters fault (the bus wiring), once per fault', async () => {
    // A slow scan: 2,000 lines at 200 lines/s stays open for the whole test.
    const sim = new ScannerStreamSim({
      source: arraySource([patternScan(1, 2000, 8)]),
      scans: 1,
      lineRateHz: 200,
      gapMs: 0,
    });
    const { port } = await sim.listenTcp(0);
    stops.push(() => sim.stop());
    const ctx = laneContext({
      id: 'xr1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      opcua: { endpoint: 'opc.tcp://127.0.0.1:1/unused' },
      reconnect: { initialMs: 20, maxMs: 100 },
    });
    const begun: string[] = [];
    const aborted: LaneEvents['scan.aborted'][] = [];
    ctx.bus.on('scan.begin', 't', (m) => void begun.push(m.scanId));
    ctx.bus.on('scan.aborted', 't', (a) => void aborted.push(a));
    const services = createScannerServices(ctx);
    expect(services.map((s) => s.name)).toEqual([
      'scanner-line-stream:lane-c',
      'scanner-opcua-fault-abort:lane-c',
      'xr1.opcua:lane-c',
    ]);
    // The OPC UA client itself is not started here: its statuses are published by hand.
    const started = services.filter((s) => s.name !== 'xr1.opcua:lane-c');
    await startAll(started);
    await expect.poll(() => begun.length, { timeout: 5000 }).toBe(1);
    const status = (state: 'ok' | 'fault', detail: string, device = 'xr1.opcua') =>
      ctx.bus.emit('device.status', { device, state, detail, since: new Date().toISOString() });
    status('fault', 'a fault of another device', 'xr1.filedrop');
    status('ok', 'scanner Scanning');
    expect(aborted).toEqual([]);
    status('fault', 'interlock opened: doors');
    status('fault', 'interlock opened: doors');
    expect(aborted.map((a) => [a.meta?.scannerScanId, a.reason, a.detail])).toEqual([
      ['sim-1-1', 'scanner-fault', 'interlock opened: doors'],
    ]);
    expect(aborted[0].partial?.width).toBeGreaterThan(0);
  });

  it('against the OPC UA simulator: a fault injected during a streamed scan aborts it with scanner-fault and the fault text', async () => {
    const opcuaSim = new ScannerOpcuaServer({ port: 0 });
    const endpoint = await opcuaSim.start();
    stops.push(() => opcuaSim.stop());
    const sim = new ScannerStreamSim({
      source: arraySource([patternScan(1, 4000, 8)]),
      scans: 1,
      lineRateHz: 200,
      gapMs: 0,
    });
    const { port } = await sim.listenTcp(0);
    stops.push(() => sim.stop());
    const ctx = laneContext({
      id: 'xr1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      opcua: { endpoint },
      reconnect: { initialMs: 20, maxMs: 100 },
    });
    const begun: string[] = [];
    const aborted: LaneEvents['scan.aborted'][] = [];
    const opcuaStates: string[] = [];
    ctx.bus.on('scan.begin', 't', (m) => void begun.push(m.scanId));
    ctx.bus.on('scan.aborted', 't', (a) => void aborted.push(a));
    ctx.bus.on(
      'device.status',
      't',
      (st) => void (st.device === 'xr1.opcua' && opcuaStates.push(`${st.state} ${st.info?.scannerState ?? ''}`)),
    );
    const services = createScannerServices(ctx);
    await startAll(services);
    opcuaSim.arm();
    opcuaSim.beginScan(4);
    await expect.poll(() => begun.length, { timeout: 5000 }).toBe(1);
    await expect.poll(() => opcuaStates.at(-1), { timeout: 10_000 }).toBe('ok Scanning');
    expect(aborted).toEqual([]);
    opcuaSim.injectFault('simulated: collimator interlock opened');
    await expect
      .poll(() => aborted.map((a) => [a.meta?.scannerScanId, a.reason, a.detail]), { timeout: 5000 })
      .toEqual([['sim-1-1', 'scanner-fault', 'simulated: collimator interlock opened']]);
  }, 20_000);
});
