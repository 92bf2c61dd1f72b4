import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LaneContext } from '../../../../app/context.js';
import { createSensorServices } from '../../../../app/compose/sensors.js';
import { RuntimeHttpServer } from '../../../../app/http-server.js';
import { RuntimeMetrics } from '../../../../app/runtime-metrics.js';
import { configSchema } from '../../../../config/schema.js';
import type { Detector } from '../../../../core/detector.js';
import type { Alert, CompletedScan, Detection, ScanMeta, ScanResult } from '../../../../core/domain.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { silentLogger } from '../../../../core/logger.js';
import { LaneHealth } from '../../../../pipeline/lane-health.js';
import { LanePipeline } from '../../../../pipeline/lane-pipeline.js';
import { SensorSimulator } from '../../../../sim/sensors/sensor-sim.js';
import { waitFor } from '../../../helpers/lane-context.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const detector = (score: number): Detector => ({
  status: { state: 'ready', model: { name: 't', version: '1' } },
  onStatus: () => () => {},
  begin: () => ({
    pushLines() {},
    cancel() {},
    finish: async (): Promise<Detection> => ({
      score,
      regions: [],
      model: { name: 't', version: '1' },
      msAfterEnd: 1,
      msInference: 1,
    }),
  }),
});

/** A lane with a CO2 probe and a heartbeat detector on simulated Modbus TCP devices, and its pipeline. */
async function laneWithSensors(score: number) {
  const co2 = new SensorSimulator('co2', { seed: 21 });
  const hb = new SensorSimulator('heartbeat', { seed: 22 });
  cleanup.push(
    () => co2.stop(),
    () => hb.stop(),
  );
  const a = await co2.listenTcp(0);
  const b = await hb.listenTcp(0);
  const dataDir = mkdtempSync(join(tmpdir(), 'sens-it-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = configSchema.parse({
    site: { id: 's1' },
    dataDir,
    http: { host: '127.0.0.1', port: 0 },
    lanes: [
      {
        id: 'l1',
        scanner: { transport: { type: 'tcp', host: '127.0.0.1', port: 1 } },
        sensors: [
          {
            kind: 'co2',
            id: 'probe',
            transport: { type: 'tcp', host: a.host, port: a.port },
            pollMs: 100,
            timeoutMs: 1500,
            offlineAfter: 2,
          },
          {
            kind: 'heartbeat',
            id: 'geo',
            transport: { type: 'tcp', host: b.host, port: b.port },
            pollMs: 100,
            timeoutMs: 1500,
            offlineAfter: 2,
          },
        ],
      },
    ],
  });
  const log = silentLogger();
  const bus = new EventBus<LaneEvents>(log);
  const health = new LaneHealth('l1');
  health.attach(bus);
  const ctx: LaneContext = {
    config,
    lane: config.lanes[0],
    bus,
    health,
    log,
    dataDir,
    http: new RuntimeHttpServer({ host: '127.0.0.1', port: 0, log }),
    metrics: new RuntimeMetrics(),
  };
  const sensors = createSensorServices(ctx);
  expect(sensors.services.map((s) => s.name)).toEqual(['sensor:l1:co2.probe', 'sensor:l1:heartbeat.geo']);
  const pipeline = new LanePipeline({
    siteId: 's1',
    laneId: 'l1',
    bus,
    detector: detector(score),
    thresholds: { alert: 0.5, region: 0.3 },
    log,
    fusion: sensors.fusion!,
  });
  const results: ScanResult[] = [];
  const alerts: Alert[] = [];
  bus.on('scan.decided', 'test', ({ result }) => void results.push(result));
  bus.on('alert.raised', 'test', (x) => void alerts.push(x));
  await pipeline.start();
  for (const s of sensors.services) await s.start();
  cleanup.push(async () => {
    for (const s of sensors.services) await s.stop();
    await pipeline.stop();
  });
  let n = 0;
  /** One vehicle through the scanner: begin now, end after `ms`; resolves with the time from end to decision. */
  const scan = async (ms = 300): Promise<{ result: ScanResult; msToDecide: number }> => {
    const id = `scan-${++n}`;
    const meta: ScanMeta = {
      scanId: id,
      laneId: 'l1',
      startedAt: new Date().toISOString(),
      channels: 2,
      energies: 1,
      pixelMm: 5,
      source: 'stream',
    };
    bus.emit('scan.begin', meta);
    await new Promise((r) => setTimeout(r, ms));
    const done: CompletedScan = {
      meta,
      endedAt: new Date().toISOString(),
      image: { width: 4, height: 2, pixelMm: 5, high: new Uint16Array(8) },
    };
    const t0 = performance.now();
    bus.emit('scan.end', done);
    const result = await waitFor(`decision on ${id}`, () => results.find((r) => r.scanId === id));
    return { result, msToDecide: performance.now() - t0 };
  };
  return { co2, hb, health, scan, alerts };
}

describe('a lane with a CO2 probe and a heartbeat detector on Modbus TCP', () => {
  it("shows each vehicle's CO2 and heartbeat in the scan result; a container with people cleared by the X-ray gets an alert from the sensors", async () => {
    const lane = await laneWithSensors(0.05);
    const vehicle = { plate: 'CN4455', vehicleClass: 'articulated (container)', people: 4, cargoDensity: 'empty' };
    const sensed = lane.co2.vehicleArrives(vehicle, {
      hoursInside: 5,
      doorOpened: false,
      probeDisconnected: false,
      engineRunning: false,
      signalQuality: 0.95,
      heartbeatNoise: 1,
    });
    lane.hb.setVehicle(sensed);
    await waitFor(
      'both sensors ok',
      () => lane.health.get('co2.probe')?.state === 'ok' && lane.health.get('heartbeat.geo')?.state === 'ok',
    );
    const { result } = await lane.scan(400);
    const f = result.fusion!;
    expect(result.verdict).toBe('clear');
    expect(f.senses.map((s) => [s.sense, s.state])).toEqual([
      ['xray', 'evidence'],
      ['co2', 'evidence'],
      ['heartbeat', 'evidence'],
    ]);
    expect(f.senses[1].reading!.ppm as number).toBeGreaterThan(2000);
    expect(f.senses[1].device).toBe('probe');
    expect(f).toMatchObject({ verdict: 'person', addedAlert: true, missing: [] });
    expect(lane.alerts.map((a) => a.kind)).toEqual(['person-suspected-by-sensors']);
  });

  it('a slow probe and a detector answering with exceptions never hold a decision up: it comes at once, naming the missing senses, and the devices say why', async () => {
    const lane = await laneWithSensors(0.9);
    lane.hb.setVehicle(
      lane.co2.vehicleArrives(
        { plate: 'V1', vehicleClass: 'van', people: 0 },
        { engineRunning: false, probeDisconnected: false, signalQuality: 0.9 },
      ),
    );
    await waitFor(
      'both sensors ok',
      () => lane.health.get('co2.probe')?.state === 'ok' && lane.health.get('heartbeat.geo')?.state === 'ok',
    );
    // The vehicle before: its readings are not this vehicle's.
    expect((await lane.scan(100)).result.fusion!.missing).toEqual([]);
    lane.co2.slave.faults.delayMs = 5000;
    lane.hb.slave.faults.exception = 4;
    await waitFor('probe offline', () => lane.health.get('co2.probe')?.state === 'offline', 10_000);
    await waitFor('detector degraded', () => lane.health.get('heartbeat.geo')?.state === 'degraded');
    expect(lane.health.get('heartbeat.geo')!.detail).toMatch(/Modbus exception 4 \(server device failure\)/);
    expect(lane.health.get('co2.probe')!.detail).toMatch(/no answer within 1500 ms/);
    const { result, msToDecide } = await lane.scan(100);
    // A decision that waited on the sensors would take at least one request timeout (1.5 s).
    expect(msToDecide).toBeLessThan(1000);
    expect(result.verdict).toBe('person');
    expect(result.fusion).toMatchObject({
      verdict: 'person',
      xraySupport: 'no-evidence',
      missing: ['co2', 'heartbeat'],
    });
    expect(lane.alerts.map((a) => [a.kind, a.support]).at(-1)).toEqual(['person-suspected', 'no-evidence']);
  });

  it('a probe switched off and a detector reading out of range: the decision comes at once, CO2 missing, heartbeat unusable, each device says why', async () => {
    const lane = await laneWithSensors(0.2);
    lane.hb.setVehicle(
      lane.co2.vehicleArrives(
        { plate: 'V2', vehicleClass: 'box-truck', people: 0 },
        { engineRunning: false, probeDisconnected: false, signalQuality: 0.9 },
      ),
    );
    await waitFor(
      'both sensors ok',
      () => lane.health.get('co2.probe')?.state === 'ok' && lane.health.get('heartbeat.geo')?.state === 'ok',
    );
    expect((await lane.scan(100)).result.fusion!.missing).toEqual([]);
    await lane.co2.stop();
    lane.hb.device.sensing.outOfRange = true;
    await waitFor(
      'probe down',
      () => ['disconnected', 'offline'].includes(lane.health.get('co2.probe')?.state ?? ''),
      5000,
    );
    await waitFor('detector degraded', () => lane.health.get('heartbeat.geo')?.state === 'degraded');
    expect(lane.health.get('heartbeat.geo')!.detail).toMatch(
      /out-of-range: score 65\.535 \(register 0, raw 65535\) outside 0-1/,
    );
    const { result, msToDecide } = await lane.scan(100);
    // A decision that waited on the sensors would take at least one request timeout (1.5 s).
    expect(msToDecide).toBeLessThan(1000);
    expect(result.verdict).toBe('clear');
    expect(result.fusion).toMatchObject({ verdict: 'clear', missing: ['co2', 'heartbeat'] });
    expect(result.fusion!.senses.map((x) => x.state)).toEqual(['evidence', 'missing', 'unusable']);
    expect(result.fusion!.senses[2].detail).toMatch(/heartbeat detector geo: out-of-range/);
  });
});
