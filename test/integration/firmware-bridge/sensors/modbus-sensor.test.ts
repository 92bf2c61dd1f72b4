import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sensor as sensorSchema, type SensorConfig } from '../../../../config/schema/sensors.js';
import { Backoff } from '../../../../core/backoff.js';
import type { DeviceStatus } from '../../../../core/domain.js';
import { silentLogger } from '../../../../core/logger.js';
import type { Co2Reading, HeartbeatReading, SensorReading } from '../../../../core/senses.js';
import { ModbusSensorService } from '../../../../firmware-bridge/sensors/modbus-sensor.js';
import { SensorSimulator } from '../../../../sim/sensors/sensor-sim.js';
import { waitFor } from '../../../helpers/lane-context.js';
import { freePort } from '../../../helpers/net.js';
import { ptyPair } from '../../../helpers/pty.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function poller(cfg: Record<string, unknown>) {
  const sensor: SensorConfig = sensorSchema.parse(cfg);
  const statuses: DeviceStatus[] = [];
  const readings: SensorReading[] = [];
  const svc = new ModbusSensorService({
    laneId: 'l1',
    sensor,
    publishStatus: (s) => void statuses.push(s),
    publishReading: (r) => void readings.push(r),
    log: silentLogger(),
    backoff: new Backoff(50, 200),
  });
  cleanup.push(() => svc.stop());
  const last = () => statuses.at(-1);
  return { svc, statuses, readings, last, states: () => statuses.map((s) => s.state) };
}

const CONTAINER_3 = { plate: 'AB123CD', vehicleClass: 'articulated (container)', people: 3 };

describe('CO2 probe and heartbeat detector on Modbus TCP', () => {
  it('polls the probe: readings with ppm, temperature and humidity, device ok', async () => {
    const sim = new SensorSimulator('co2', { seed: 1 });
    cleanup.push(() => sim.stop());
    const { port } = await sim.listenTcp(0);
    sim.vehicleArrives(CONTAINER_3, { hoursInside: 3, doorOpened: false, probeDisconnected: false });
    const p = poller({
      kind: 'co2',
      id: 'probe1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      pollMs: 100,
      timeoutMs: 300,
    });
    await p.svc.start();
    await waitFor('3 readings', () => p.readings.length >= 3);
    const r = p.readings.at(-1) as Co2Reading;
    expect(r).toMatchObject({ sense: 'co2', device: 'probe1', laneId: 'l1', quality: 'ok' });
    expect(r.ppm).toBeGreaterThan(1000);
    expect(r.temperatureC).toBeGreaterThan(10);
    expect(r.humidityPct).toBeGreaterThan(40);
    expect(p.last()).toMatchObject({ device: 'co2.probe1', state: 'ok' });
    expect(p.states()[0]).toBe('starting');
  });

  it('a device answering with Modbus exceptions is degraded and says which exception, then ok again', async () => {
    const sim = new SensorSimulator('heartbeat', { seed: 2 });
    cleanup.push(() => sim.stop());
    const { port } = await sim.listenTcp(0);
    sim.slave.faults.exception = 6;
    const p = poller({
      kind: 'heartbeat',
      id: 'hb1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      pollMs: 100,
      timeoutMs: 300,
    });
    await p.svc.start();
    const bad = await waitFor('degraded', () => p.statuses.find((s) => s.state === 'degraded'));
    expect(bad.detail).toMatch(
      /input registers 0-3 of unit 1 on TCP 127\.0\.0\.1:\d+: Modbus exception 6 \(server device busy\)/,
    );
    expect(p.readings).toHaveLength(0);
    sim.slave.faults.exception = null;
    await waitFor('ok after the exceptions stop', () => p.last()?.state === 'ok');
    expect((p.readings.at(-1) as HeartbeatReading).sense).toBe('heartbeat');
    expect(p.svc.counters.exceptions).toBeGreaterThan(0);
  });

  it('registers out of range: the reading is marked out-of-range naming the register, the device degraded', async () => {
    const sim = new SensorSimulator('co2', { seed: 3 });
    cleanup.push(() => sim.stop());
    const { port } = await sim.listenTcp(0);
    sim.device.sensing.outOfRange = true;
    const p = poller({
      kind: 'co2',
      id: 'probe1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      pollMs: 100,
      timeoutMs: 300,
    });
    await p.svc.start();
    await waitFor('a reading', () => p.readings.length >= 1);
    expect(p.readings[0]).toMatchObject({ quality: 'out-of-range' });
    expect(p.readings[0].detail).toBe('ppm 65535 (register 0, raw 65535) outside 0-10000');
    expect(p.last()).toMatchObject({ state: 'degraded' });
    expect(p.last()!.detail).toMatch(/out-of-range: ppm 65535/);
  });

  it('a register map pointing outside the device: exception 2 (illegal data address) names the registers', async () => {
    const sim = new SensorSimulator('co2', { seed: 3 });
    cleanup.push(() => sim.stop());
    const { port } = await sim.listenTcp(0);
    const fields = {
      ppm: { address: 40 },
      temperatureC: { address: 41, type: 's16', scale: 0.1 },
      humidityPct: { address: 42, scale: 0.1 },
      status: { address: 43 },
    };
    const p = poller({
      kind: 'co2',
      id: 'probe1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      pollMs: 100,
      timeoutMs: 300,
      registers: { table: 'holding', fields },
    });
    await p.svc.start();
    const s = await waitFor('degraded', () => p.statuses.find((x) => x.state === 'degraded'));
    expect(s.detail).toMatch(/holding registers 40-43 .*Modbus exception 2 \(illegal data address\)/);
  });

  it('a slow device: late answers count as timeouts, degraded then offline after offlineAfter polls, ok once it is fast again', async () => {
    const sim = new SensorSimulator('co2', { seed: 4 });
    cleanup.push(() => sim.stop());
    const { port } = await sim.listenTcp(0);
    sim.slave.faults.delayMs = 400;
    const p = poller({
      kind: 'co2',
      id: 'probe1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      pollMs: 100,
      timeoutMs: 150,
      offlineAfter: 2,
    });
    await p.svc.start();
    const off = await waitFor('offline', () => p.statuses.find((s) => s.state === 'offline'));
    expect(off.detail).toMatch(/no answer within 150 ms \(2 polls in a row\)/);
    expect(p.statuses.find((s) => s.state === 'degraded')?.detail).toMatch(/no answer within 150 ms/);
    sim.slave.faults.delayMs = 0;
    await waitFor('ok again', () => p.last()?.state === 'ok', 5000);
    expect(p.readings.length).toBeGreaterThan(0);
  });

  it('stops at once with a request in flight to a slow device, and says nothing after', async () => {
    const sim = new SensorSimulator('co2', { seed: 7 });
    cleanup.push(() => sim.stop());
    const { port } = await sim.listenTcp(0);
    sim.slave.faults.delayMs = 5000;
    const p = poller({
      kind: 'co2',
      id: 'probe1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      pollMs: 100,
      timeoutMs: 4000,
    });
    await p.svc.start();
    await waitFor('a request in flight', () => sim.slave.counters.requests >= 1);
    const t0 = performance.now();
    await p.svc.stop();
    expect(performance.now() - t0).toBeLessThan(1000);
    const said = p.statuses.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(p.statuses).toHaveLength(said);
    expect(p.readings).toHaveLength(0);
  });

  it('a device switched off and on again: disconnected with the address, then ok with readings', async () => {
    const port = await freePort();
    let sim = new SensorSimulator('co2', { seed: 5 });
    await sim.listenTcp(port);
    const p = poller({
      kind: 'co2',
      id: 'probe1',
      transport: { type: 'tcp', host: '127.0.0.1', port },
      pollMs: 100,
      timeoutMs: 200,
      offlineAfter: 2,
    });
    await p.svc.start();
    await waitFor('ok', () => p.last()?.state === 'ok');
    await sim.stop();
    const down = await waitFor('down', () =>
      p.statuses.find((s) => s.state === 'disconnected' || s.state === 'offline'),
    );
    expect(down.detail).toContain(`127.0.0.1:${port}`);
    const before = p.readings.length;
    sim = new SensorSimulator('co2', { seed: 5 });
    cleanup.push(() => sim.stop());
    await sim.listenTcp(port);
    await waitFor('ok again', () => p.last()?.state === 'ok', 6000);
    await waitFor('new readings', () => p.readings.length > before);
  });
});

describe('CO2 probe on Modbus RTU over a socat pty pair', () => {
  it('reads over RTU; the probe unplugged (socat killed) is disconnected, plugged back it reads again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ce-rtu-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    let pty = await ptyPair(dir);
    cleanup.push(() => pty.kill());
    const sim = new SensorSimulator('co2', { seed: 6, unitId: 3 });
    cleanup.push(() => sim.stop());
    await sim.openSerial(pty.b, 19200);
    sim.vehicleArrives(CONTAINER_3, { hoursInside: 2, doorOpened: false, probeDisconnected: false });
    const p = poller({
      kind: 'co2',
      id: 'probe1',
      unitId: 3,
      transport: { type: 'rtu', path: pty.a, baudRate: 19200 },
      pollMs: 100,
      timeoutMs: 300,
      offlineAfter: 2,
    });
    await p.svc.start();
    await waitFor('2 readings over RTU', () => p.readings.length >= 2);
    expect(p.last()).toMatchObject({ state: 'ok' });
    expect(p.last()!.detail).toContain(`RTU ${pty.a} @ 19200 baud none unit 3`);
    expect((p.readings.at(-1) as Co2Reading).ppm).toBeGreaterThan(800);
    expect(sim.slave.counters.badCrc).toBe(0);

    // Unplugged: the pty pair disappears.
    await sim.closeSerial();
    await pty.kill();
    const down = await waitFor('down', () =>
      p.statuses.slice(2).find((s) => s.state === 'disconnected' || s.state === 'offline'),
    );
    expect(down.detail).toContain(pty.a);
    await waitFor('disconnected', () => p.last()?.state === 'disconnected', 5000);
    expect(p.last()!.detail).toMatch(/cannot open RTU .* (ENOENT|No such file|Error)/);

    // Plugged back: the same paths again.
    pty = await ptyPair(dir);
    await sim.openSerial(pty.b, 19200);
    const n = p.readings.length;
    await waitFor('ok again', () => p.last()?.state === 'ok', 8000);
    await waitFor('readings again', () => p.readings.length > n);
  });
});
