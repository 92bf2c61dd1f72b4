import { describe, expect, it } from 'vitest';
import { fusion as fusionSchema } from '../../../config/schema/sensors.js';
import type { Alert, CompletedScan, Detection, ScanMeta, ScanResult } from '../../../core/domain.js';
import type { Detector } from '../../../core/detector.js';
import { EventBus } from '../../../core/event-bus.js';
import type { LaneEvents } from '../../../core/events.js';
import { silentLogger } from '../../../core/logger.js';
import type { Co2Reading, HeartbeatReading } from '../../../core/senses.js';
import { fuse, gaussianLlr, SenseReadings, type FusionInput } from '../../../pipeline/fusion.js';
import { LanePipeline } from '../../../pipeline/lane-pipeline.js';

const config = fusionSchema.parse({});
const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const co2 = (ppm: number, at = T0, quality: Co2Reading['quality'] = 'ok'): Co2Reading => ({
  sense: 'co2',
  device: 'p1',
  laneId: 'l1',
  at: iso(at),
  ppm,
  temperatureC: 20,
  humidityPct: 50,
  quality,
});
const hb = (score: number, o: Partial<HeartbeatReading> = {}): HeartbeatReading => ({
  sense: 'heartbeat',
  device: 'h1',
  laneId: 'l1',
  at: iso(T0),
  score,
  signalQuality: 0.9,
  engineOff: true,
  quality: 'ok',
  ...o,
});
const input = (o: Partial<FusionInput>): FusionInput => ({
  xray: { verdict: 'clear', score: 0.01 },
  co2: [],
  heartbeat: [],
  configured: { co2: true, heartbeat: true },
  config,
  ...o,
});

describe('fuse', () => {
  it('an X-ray person verdict stands whatever the other senses say, and is marked not supported when they speak against it', () => {
    const d = fuse(
      input({ xray: { verdict: 'person', score: 0.6 }, co2: [co2(430), co2(425), co2(428)], heartbeat: [hb(0.02)] }),
    );
    expect(d.verdict).toBe('person');
    expect(d.xraySupport).toBe('not-supported');
    expect(d.addedAlert).toBe(false);
    expect(d.missing).toEqual([]);
  });

  it('marks an X-ray alert supported when CO2 and heartbeat point to people', () => {
    const d = fuse(
      input({ xray: { verdict: 'person', score: 0.7 }, co2: [co2(2400), co2(2500), co2(2450)], heartbeat: [hb(0.85)] }),
    );
    expect(d.xraySupport).toBe('supported');
    expect(d.senses.find((s) => s.sense === 'co2')).toMatchObject({
      state: 'evidence',
      value: 2030,
      reading: { ppm: 2450 },
    });
  });

  it('adds an alert for a vehicle the X-ray cleared when CO2 and heartbeat together are strong', () => {
    const d = fuse(
      input({ xray: { verdict: 'clear', score: 0.2 }, co2: [co2(3400), co2(3500), co2(3300)], heartbeat: [hb(0.9)] }),
    );
    expect(d.verdict).toBe('person');
    expect(d.addedAlert).toBe(true);
    expect(d.posterior).toBeGreaterThanOrEqual(config.alertPosterior);
  });

  it('missing sensors never lower or block a decision: no readings, no devices, X-ray verdict as it was, the missing senses named', () => {
    for (const configured of [
      { co2: true, heartbeat: true },
      { co2: false, heartbeat: false },
    ]) {
      const clear = fuse(input({ configured }));
      expect(clear).toMatchObject({ verdict: 'clear', addedAlert: false, missing: ['co2', 'heartbeat'] });
      const person = fuse(input({ configured, xray: { verdict: 'person', score: 0.55 } }));
      expect(person).toMatchObject({ verdict: 'person', xraySupport: 'no-evidence', missing: ['co2', 'heartbeat'] });
    }
    expect(fuse(input({ configured: { co2: false, heartbeat: true } })).senses[1].detail).toBe(
      'no CO2 probe on this lane',
    );
    const unavailable = fuse(input({ xray: { verdict: 'unavailable', score: null, unavailableReason: 'no model' } }));
    expect(unavailable).toMatchObject({ verdict: 'unavailable', missing: ['xray', 'co2', 'heartbeat'] });
    expect(unavailable.senses[0].detail).toBe('no X-ray score: no model');
  });

  it('an engine left running, a faulty probe and a poor signal make their readings unusable, said as such', () => {
    const d = fuse(input({ co2: [co2(9000, T0, 'sensor-fault')], heartbeat: [hb(0.99, { engineOff: false })] }));
    expect(d.senses[1]).toMatchObject({ state: 'unusable', detail: 'CO2 probe p1: sensor-fault' });
    expect(d.senses[2]).toMatchObject({
      state: 'unusable',
      detail: 'heartbeat detector h1: engine running: no measurement',
    });
    expect(d.missing).toEqual(['co2', 'heartbeat']);
    expect(d.verdict).toBe('clear');
    const poor = fuse(input({ heartbeat: [hb(0.99, { signalQuality: 0.1 })] }));
    expect(poor.senses[2].detail).toMatch(/signal quality 0\.10 below 0\.2/);
  });

  it('what counts is what a device says now: an earlier good reading does not stand in for a latest unusable one', () => {
    const d = fuse(
      input({
        co2: [co2(3000), co2(3100), co2(3050, T0, 'sensor-fault')],
        heartbeat: [hb(0.95), hb(0.5, { engineOff: false })],
      }),
    );
    expect(d.senses[1].state).toBe('unusable');
    expect(d.senses[2].state).toBe('unusable');
    const ok = fuse(input({ co2: [co2(9000, T0, 'out-of-range'), co2(3000), co2(3100)] }));
    expect(ok.senses[1]).toMatchObject({ state: 'evidence', reading: { ppm: 3050 } });
  });

  it('limits each sense to ±llrLimit', () => {
    expect(gaussianLlr(1e6, config.co2, 6)).toBe(6);
    expect(gaussianLlr(-1e6, { mean0: 0, sd0: 1, mean1: 5, sd1: 1 }, 6)).toBe(-6);
    // With a wider spread for people, the lowest readings count no less than the least likely point.
    expect(gaussianLlr(-1e6, config.heartbeat, 6)).toBeCloseTo(gaussianLlr(-20, config.heartbeat, 6), 9);
  });
});

describe('SenseReadings', () => {
  it('keeps readings by age and count, and gives those of a time window in order', () => {
    const r = new SenseReadings(60_000, 5);
    for (let i = 0; i < 20; i++) r.add(co2(400 + i, T0 + i * 10_000));
    const all = r.between('co2', 0, Number.MAX_SAFE_INTEGER);
    expect(all.map((x) => x.ppm)).toEqual([415, 416, 417, 418, 419]);
    expect(r.between('co2', T0 + 170_000, T0 + 185_000).map((x) => x.ppm)).toEqual([417, 418]);
    expect(r.between('heartbeat', 0, Number.MAX_SAFE_INTEGER)).toEqual([]);
  });
});

describe('LanePipeline with sensors', () => {
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
  function lane(score: number) {
    const bus = new EventBus<LaneEvents>(silentLogger());
    const results: ScanResult[] = [];
    const alerts: Alert[] = [];
    bus.on('scan.decided', 'test', ({ result }) => void results.push(result));
    bus.on('alert.raised', 'test', (a) => void alerts.push(a));
    const pipeline = new LanePipeline({
      siteId: 's1',
      laneId: 'l1',
      bus,
      detector: detector(score),
      thresholds: { alert: 0.5, region: 0.3 },
      log: silentLogger(),
      fusion: { config, configured: { co2: true, heartbeat: true } },
    });
    return { bus, results, alerts, pipeline };
  }
  const scan = (id: string, startMs: number, endMs: number): [ScanMeta, CompletedScan] => {
    const meta: ScanMeta = {
      scanId: id,
      laneId: 'l1',
      startedAt: iso(startMs),
      channels: 2,
      energies: 1,
      pixelMm: 5,
      source: 'stream',
    };
    return [meta, { meta, endedAt: iso(endMs), image: { width: 4, height: 2, pixelMm: 5, high: new Uint16Array(8) } }];
  };
  const settle = () => new Promise((r) => setTimeout(r, 10));

  it("ties readings to the vehicle by time: this vehicle's readings count, the previous vehicle's do not; an added alert names the sensors", async () => {
    const { bus, results, alerts, pipeline } = lane(0.1);
    await pipeline.start();
    const now = Date.now();
    const [m1, c1] = scan('a', now - 60_000, now - 50_000);
    bus.emit('sensor.reading', co2(3600, now - 70_000));
    bus.emit('sensor.reading', hb(0.95, { at: iso(now - 65_000) }));
    bus.emit('scan.begin', m1);
    bus.emit('scan.end', c1);
    await settle();
    expect(results[0].verdict).toBe('clear');
    expect(results[0].fusion).toMatchObject({ verdict: 'person', addedAlert: true, missing: [] });
    expect(alerts.map((a) => a.kind)).toEqual(['person-suspected-by-sensors']);
    expect(alerts[0].message).toMatch(
      /CO2 3600 ppm, \+3180 ppm over outdoor air.*heartbeat score 0\.950.*the X-ray cleared it/,
    );

    // The next vehicle: its probe is not answering. The first vehicle's readings are not used for it.
    const [m2, c2] = scan('b', now - 20_000, now - 10_000);
    bus.emit('scan.begin', m2);
    bus.emit('scan.end', c2);
    await settle();
    expect(results[1].fusion).toMatchObject({ verdict: 'clear', addedAlert: false, missing: ['co2', 'heartbeat'] });
    expect(alerts).toHaveLength(1);
    await pipeline.stop();
  });

  it('an X-ray alert carries whether the sensors support it', async () => {
    const { bus, alerts, pipeline } = lane(0.9);
    await pipeline.start();
    const now = Date.now();
    const [m, c] = scan('c', now - 5000, now - 1000);
    bus.emit('sensor.reading', co2(425, now - 4000));
    bus.emit('sensor.reading', hb(0.03, { at: iso(now - 3000) }));
    bus.emit('scan.begin', m);
    bus.emit('scan.end', c);
    await settle();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'person-suspected', support: 'not-supported' });
    expect(alerts[0].message).toMatch(/CO2 and heartbeat do not support it: search all the same/);
    await pipeline.stop();
  });
});

describe('gaussianLlr', () => {
  it('never falls as the reading rises toward people (monotone despite unequal spreads)', () => {
    for (const m of [config.co2, config.heartbeat, config.xray, { mean0: 0, sd0: 3, mean1: 2, sd1: 1 }]) {
      let prev = -Infinity;
      for (let x = m.mean0 - 20 * m.sd0; x <= m.mean1 + 20 * m.sd1; x += (m.sd0 + m.sd1) / 50) {
        const l = gaussianLlr(x, m, 50);
        expect(l).toBeGreaterThanOrEqual(prev - 1e-9);
        prev = l;
      }
    }
  });
});
