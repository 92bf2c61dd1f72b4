import sharp from 'sharp';
import { fusion as fusionSchema, type FusionConfig } from '../config/schema/sensors.js';
import type { Co2Reading, FusedDecision, HeartbeatReading } from '../core/senses.js';
import { fuse, logit, type Likelihood } from '../pipeline/fusion.js';
import { drawSensedVehicle, heartbeatScore, probeCo2Ppm, type SensedVehicle } from '../sim/sensors/physics.js';
import { Rng } from '../sim/xray/prng.js';

/**
 * Evaluation of the second senses and the fused decision on simulated traffic. The X-ray scores
 * are the shipped model's own scores on the synthesized test scans of its evaluation
 * (models/<model>/eval.json: one real inference per scan); CO2 and heartbeat readings are drawn
 * for the same vehicle (class, cargo, number of people) by the simulators' physics
 * (sim/sensors/physics.ts). Likelihoods are fitted on the scans of even seeds and the figures
 * measured on traffic built from the scans of odd seeds.
 */

/** One scan of the model's evaluation, as eval.json keeps it. */
export interface XrayScan {
  seed: number;
  score: number;
  vehicleClass: string;
  cargoDensity: string;
  /** One entry per person in the scan. */
  hidingPlaces: string[];
}

export interface TrafficVehicle {
  scan: XrayScan;
  people: number;
  sensed: SensedVehicle;
  co2: Co2Reading[];
  heartbeat: HeartbeatReading[];
}

export interface SystemFigures {
  /** Vehicles with people flagged / vehicles with people. */
  recall: number;
  /** Vehicles without people flagged / vehicles without people. */
  falseAlarms: number;
  /** Vehicles on which this system had no usable reading (never flagged by it alone). */
  noReading: number;
  flaggedWithPeople: number;
  flaggedClear: number;
}

export interface SensorEvalReport {
  vehicles: number;
  withPeople: number;
  personShare: number;
  alertThreshold: number;
  fusion: Pick<FusionConfig, 'prior' | 'alertPosterior' | 'supportLlr' | 'llrLimit'>;
  fitted: { xray: Likelihood; co2: Likelihood; heartbeat: Likelihood };
  systems: { xray: SystemFigures; co2: SystemFigures; heartbeat: SystemFigures; fused: SystemFigures };
  /** What the support marks say of the X-ray's alerts. */
  support: { trueAlerts: Record<string, number>; falseAlerts: Record<string, number> };
  /** Vehicles with people the X-ray missed that the fusion flagged, and the added alerts on clear vehicles. */
  added: { caught: number; xrayMissed: number; falseAdded: number };
}

const CO2_POLLS = 3;
const HEARTBEAT_POLLS = 2;

/** Draws one vehicle's readings as the lane would poll them, with the simulators' disturbances. */
export function senseVehicle(scan: XrayScan, rng: Rng, at = Date.parse('2026-01-01T00:00:00Z')): TrafficVehicle {
  const people = scan.hidingPlaces.length;
  const sensed = drawSensedVehicle(
    { plate: `P${scan.seed}`, vehicleClass: scan.vehicleClass, people, cargoDensity: scan.cargoDensity },
    rng,
  );
  const iso = (k: number) => new Date(at + k * 1000).toISOString();
  const co2: Co2Reading[] = sensed.probeDisconnected
    ? []
    : Array.from({ length: CO2_POLLS }, (_, k) => ({
        sense: 'co2' as const,
        device: 'probe',
        laneId: 'eval',
        at: iso(k),
        ppm: Math.round(probeCo2Ppm(sensed, rng)),
        temperatureC: 20,
        humidityPct: 50,
        quality: 'ok' as const,
      }));
  const heartbeat: HeartbeatReading[] = Array.from({ length: HEARTBEAT_POLLS }, (_, k) => {
    const h = heartbeatScore(sensed, rng);
    return {
      sense: 'heartbeat' as const,
      device: 'geophone',
      laneId: 'eval',
      at: iso(k),
      score: Math.round(h.score * 1000) / 1000,
      signalQuality: Math.round(h.signalQuality * 1000) / 1000,
      engineOff: !sensed.engineRunning,
      quality: 'ok' as const,
    };
  });
  return { scan, people, sensed, co2, heartbeat };
}

/** Traffic with people in `personShare` of the vehicles, each drawn from the scans of its kind. */
export function traffic(scans: XrayScan[], count: number, personShare: number, rng: Rng): TrafficVehicle[] {
  const withPeople = scans.filter((s) => s.hidingPlaces.length > 0);
  const clear = scans.filter((s) => s.hidingPlaces.length === 0);
  if (withPeople.length === 0 || clear.length === 0)
    throw new Error('sensor evaluation: the scans need both vehicles with and without people');
  return Array.from({ length: count }, () => senseVehicle(rng.pick(rng.chance(personShare) ? withPeople : clear), rng));
}

function fitGaussian(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, sd: Math.max(sd, 1e-3) };
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** Fits each sense's likelihoods (people / no people) on calibration traffic, as the fusion reads them. */
export function fitLikelihoods(vehicles: TrafficVehicle[], base: FusionConfig): FusionConfig {
  const figures = vehicles.map((v) => ({
    people: v.people > 0,
    d: fuse({
      xray: { verdict: 'clear', score: v.scan.score },
      co2: v.co2,
      heartbeat: v.heartbeat,
      configured: { co2: true, heartbeat: true },
      config: base,
    }),
  }));
  const model = (sense: 'co2' | 'heartbeat' | 'xray', transform: (x: number) => number): Likelihood => {
    const of = (people: boolean) =>
      figures
        .filter((f) => f.people === people)
        .map((f) => f.d.senses.find((s) => s.sense === sense)!)
        .filter((s) => s.state === 'evidence')
        .map((s) => transform(s.value!));
    const h0 = fitGaussian(of(false));
    const h1 = fitGaussian(of(true));
    return { mean0: r3(h0.mean), sd0: r3(h0.sd), mean1: r3(h1.mean), sd1: r3(h1.sd) };
  };
  return { ...base, xray: model('xray', logit), co2: model('co2', (x) => x), heartbeat: model('heartbeat', logit) };
}

function figuresOf(
  vehicles: TrafficVehicle[],
  flagged: (v: TrafficVehicle, i: number) => boolean | null,
): SystemFigures {
  let tp = 0,
    fp = 0,
    pos = 0,
    neg = 0,
    none = 0;
  vehicles.forEach((v, i) => {
    const f = flagged(v, i);
    if (f === null) none++;
    if (v.people > 0) {
      pos++;
      if (f) tp++;
    } else {
      neg++;
      if (f) fp++;
    }
  });
  return {
    recall: tp / Math.max(1, pos),
    falseAlarms: fp / Math.max(1, neg),
    noReading: none,
    flaggedWithPeople: tp,
    flaggedClear: fp,
  };
}

/** Flags from one sense alone: its evidence at the lane's prior reaching the same posterior as the fusion's. */
function aloneFlag(d: FusedDecision, sense: 'co2' | 'heartbeat', config: FusionConfig): boolean | null {
  const s = d.senses.find((x) => x.sense === sense)!;
  if (s.state !== 'evidence') return null;
  const post = 1 / (1 + Math.exp(-(Math.log(config.prior / (1 - config.prior)) + s.llr!)));
  return post >= config.alertPosterior;
}

export interface SensorEvalOptions {
  scans: XrayScan[];
  /** X-ray alert threshold (the lane's: the lane default its model's manifest names). */
  alertThreshold: number;
  vehicles: number;
  personShare: number;
  seed: number;
  config?: FusionConfig;
}

export function evaluateSensors(o: SensorEvalOptions): { report: SensorEvalReport; config: FusionConfig } {
  const base = o.config ?? fusionSchema.parse({});
  const calib = traffic(
    o.scans.filter((s) => s.seed % 2 === 0),
    o.vehicles,
    o.personShare,
    new Rng(o.seed, 1),
  );
  const config = { ...fitLikelihoods(calib, base), prior: o.personShare };
  const test = traffic(
    o.scans.filter((s) => s.seed % 2 === 1),
    o.vehicles,
    o.personShare,
    new Rng(o.seed, 2),
  );
  const decided = test.map((v) => {
    const verdict = v.scan.score >= o.alertThreshold ? ('person' as const) : ('clear' as const);
    return {
      v,
      verdict,
      d: fuse({
        xray: { verdict, score: v.scan.score },
        co2: v.co2,
        heartbeat: v.heartbeat,
        configured: { co2: true, heartbeat: true },
        config,
      }),
    };
  });
  const support = { trueAlerts: {} as Record<string, number>, falseAlerts: {} as Record<string, number> };
  for (const { v, verdict, d } of decided) {
    if (verdict !== 'person') continue;
    const into = v.people > 0 ? support.trueAlerts : support.falseAlerts;
    into[d.xraySupport!] = (into[d.xraySupport!] ?? 0) + 1;
  }
  const added = {
    caught: decided.filter(({ v, verdict, d }) => v.people > 0 && verdict === 'clear' && d.addedAlert).length,
    xrayMissed: decided.filter(({ v, verdict }) => v.people > 0 && verdict === 'clear').length,
    falseAdded: decided.filter(({ v, d }) => v.people === 0 && d.addedAlert).length,
  };
  const report: SensorEvalReport = {
    vehicles: test.length,
    withPeople: test.filter((v) => v.people > 0).length,
    personShare: o.personShare,
    alertThreshold: o.alertThreshold,
    fusion: {
      prior: config.prior,
      alertPosterior: config.alertPosterior,
      supportLlr: config.supportLlr,
      llrLimit: config.llrLimit,
    },
    fitted: { xray: config.xray, co2: config.co2, heartbeat: config.heartbeat },
    systems: {
      xray: figuresOf(test, (_v, i) => decided[i].verdict === 'person'),
      co2: figuresOf(test, (_v, i) => aloneFlag(decided[i].d, 'co2', config)),
      heartbeat: figuresOf(test, (_v, i) => aloneFlag(decided[i].d, 'heartbeat', config)),
      fused: figuresOf(test, (_v, i) => decided[i].d.verdict === 'person'),
    },
    support,
    added,
  };
  return { report, config };
}

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Recall and false alarms of each system as a bar chart (SVG rendered to PNG by sharp). */
export async function sensorFiguresPng(r: SensorEvalReport): Promise<Buffer> {
  const systems: [string, SystemFigures][] = [
    ['X-ray alone', r.systems.xray],
    ['CO2 alone', r.systems.co2],
    ['heartbeat alone', r.systems.heartbeat],
    ['fused', r.systems.fused],
  ];
  const W = 640,
    H = 420,
    L = 60,
    T = 70,
    PW = 540,
    PH = 280;
  const py = (v: number) => T + (1 - v) * PH;
  const grid: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    grid.push(
      `<line x1="${L}" y1="${py(v)}" x2="${L + PW}" y2="${py(v)}" stroke="#ddd"/><text x="${L - 8}" y="${py(v) + 4}" font-size="12" text-anchor="end">${(v * 100).toFixed(0)} %</text>`,
    );
  }
  const slot = PW / systems.length;
  const bars = systems.map(([name, f], i) => {
    const x = L + i * slot + slot * 0.15;
    const w = slot * 0.33;
    const bar = (dx: number, v: number, colour: string) =>
      `<rect x="${(x + dx).toFixed(1)}" y="${py(v).toFixed(1)}" width="${w.toFixed(1)}" height="${(T + PH - py(v)).toFixed(1)}" fill="${colour}"/><text x="${(x + dx + w / 2).toFixed(1)}" y="${(py(v) - 4).toFixed(1)}" font-size="11" text-anchor="middle">${(v * 100).toFixed(1)}</text>`;
    return `${bar(0, f.recall, '#2a7d2a')}${bar(w + 4, f.falseAlarms, '#c0392b')}<text x="${(x + w + 2).toFixed(1)}" y="${T + PH + 18}" font-size="13" text-anchor="middle">${esc(name)}</text>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#fff"/>
${grid.join('')}<rect x="${L}" y="${T}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>
${bars.join('')}
<text x="${W / 2}" y="22" font-size="14" text-anchor="middle" font-weight="bold">${esc(`Simulated traffic: ${r.vehicles} vehicles, people in ${(r.personShare * 100).toFixed(0)} %`)}</text>
<rect x="${L + 10}" y="${T - 36}" width="12" height="12" fill="#2a7d2a"/><text x="${L + 28}" y="${T - 26}" font-size="12">vehicles with people flagged (recall)</text>
<rect x="${L + 270}" y="${T - 36}" width="12" height="12" fill="#c0392b"/><text x="${L + 288}" y="${T - 26}" font-size="12">vehicles without people flagged (false alarms)</text>
<text x="${W / 2}" y="${H - 12}" font-size="12" text-anchor="middle">X-ray at threshold ${r.alertThreshold.toFixed(3)}; sensors alone and fused at posterior ≥ ${r.fusion.alertPosterior}</text>
</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
