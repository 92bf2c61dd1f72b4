import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateSensors, senseVehicle, type XrayScan } from '../../../eval/sensors.js';
import { Rng } from '../../../sim/xray/prng.js';

const ev = JSON.parse(readFileSync(join(import.meta.dirname, '../../../models/person-fcn/eval.json'), 'utf8')) as {
  scans: XrayScan[];
  thresholds: { laneDefault: { alert: number } };
};

describe('sensor evaluation on simulated traffic', () => {
  it('the fused decision keeps every X-ray alert, adds alerts, and keeps its figures consistent', () => {
    const { report } = evaluateSensors({
      scans: ev.scans,
      alertThreshold: ev.thresholds.laneDefault.alert,
      vehicles: 800,
      personShare: 0.25,
      seed: 3,
    });
    const { xray, fused, co2, heartbeat } = report.systems;
    expect(report.withPeople / report.vehicles).toBeGreaterThan(0.2);
    expect(report.withPeople / report.vehicles).toBeLessThan(0.3);
    expect(fused.flaggedWithPeople).toBe(xray.flaggedWithPeople + report.added.caught);
    expect(fused.flaggedClear).toBe(xray.flaggedClear + report.added.falseAdded);
    // Engines left running (15 %) and probes not plugged in (5 %) leave those senses without a reading.
    expect(heartbeat.noReading / report.vehicles).toBeGreaterThan(0.1);
    expect(co2.noReading / report.vehicles).toBeGreaterThan(0.02);
    const supportCount =
      Object.values(report.support.trueAlerts).reduce((a, b) => a + b, 0) +
      Object.values(report.support.falseAlerts).reduce((a, b) => a + b, 0);
    expect(supportCount).toBe(xray.flaggedWithPeople + xray.flaggedClear);
    // The fitted models put people above no people for every sense.
    for (const m of Object.values(report.fitted)) expect(m.mean1).toBeGreaterThan(m.mean0);
  });

  it('a vehicle with people in a closed container raises CO2 far above one without', () => {
    const scan = (people: number): XrayScan => ({
      seed: 1,
      score: 0.5,
      vehicleClass: 'articulated (container)',
      cargoDensity: 'light',
      hidingPlaces: Array(people).fill('among-cargo'),
    });
    const ppm = (people: number) => {
      const rng = new Rng(9);
      const all: number[] = [];
      for (let i = 0; i < 200; i++) all.push(...senseVehicle(scan(people), rng).co2.map((r) => r.ppm));
      return all.reduce((a, b) => a + b, 0) / all.length;
    };
    expect(ppm(0)).toBeLessThan(500);
    expect(ppm(3)).toBeGreaterThan(ppm(1) + 300);
  });
});
