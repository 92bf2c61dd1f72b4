import type { FusionConfig } from '../config/schema/sensors.js';
import type { ScanResult } from '../core/domain.js';
import type {
  FusedDecision,
  HeartbeatReading,
  Co2Reading,
  Sense,
  SenseEvidence,
  SensorReading,
} from '../core/senses.js';

/** Gaussian likelihoods of the figure a sense reads, without (0) and with (1) people. */
export interface Likelihood {
  mean0: number;
  sd0: number;
  mean1: number;
  sd1: number;
}

/**
 * log N(x; mean1, sd1) − log N(x; mean0, sd0), made monotone in x (with unequal spreads the raw
 * ratio turns back up in the far tail on the no-people side: a very low reading would count as
 * evidence of people) and limited to ±limit so no single sense decides alone.
 */
export function gaussianLlr(x: number, m: Likelihood, limit: number): number {
  const a = 1 / (2 * m.sd0 * m.sd0) - 1 / (2 * m.sd1 * m.sd1);
  if (Math.abs(a) > 1e-12) {
    const vertex = -(m.mean1 / (m.sd1 * m.sd1) - m.mean0 / (m.sd0 * m.sd0)) / (2 * a);
    const up = m.mean1 >= m.mean0;
    // Convex (sd1 > sd0): the minimum lies on the no-people side; concave: the maximum on the people side.
    if (a > 0) x = up ? Math.max(x, vertex) : Math.min(x, vertex);
    else x = up ? Math.min(x, vertex) : Math.max(x, vertex);
  }
  const z1 = (x - m.mean1) / m.sd1;
  const z0 = (x - m.mean0) / m.sd0;
  const llr = Math.log(m.sd0 / m.sd1) - 0.5 * z1 * z1 + 0.5 * z0 * z0;
  return Math.max(-limit, Math.min(limit, llr));
}

export function logit(p: number): number {
  const q = Math.min(1 - 1e-4, Math.max(1e-4, p));
  return Math.log(q / (1 - q));
}

/**
 * The sensor readings of a lane, kept for the time window a scan's vehicle can be read in:
 * bounded by age and by count per device, so a fast-polling device cannot grow it.
 */
export class SenseReadings {
  readonly #byDevice = new Map<string, SensorReading[]>();

  constructor(
    readonly maxAgeMs: number,
    readonly maxPerDevice = 1000,
  ) {}

  add(r: SensorReading): void {
    const key = `${r.sense}.${r.device}`;
    let list = this.#byDevice.get(key);
    if (!list) {
      list = [];
      this.#byDevice.set(key, list);
    }
    list.push(r);
    const oldest = Date.parse(r.at) - this.maxAgeMs;
    let drop = 0;
    while (drop < list.length && Date.parse(list[drop].at) < oldest) drop++;
    if (list.length - drop > this.maxPerDevice) drop = list.length - this.maxPerDevice;
    if (drop > 0) list.splice(0, drop);
  }

  /** Readings of one sense taken in [fromMs, toMs], oldest first, with their devices. */
  between<S extends SensorReading['sense']>(
    sense: S,
    fromMs: number,
    toMs: number,
  ): Extract<SensorReading, { sense: S }>[] {
    const out: SensorReading[] = [];
    for (const list of this.#byDevice.values()) {
      for (const r of list) {
        if (r.sense !== sense) continue;
        const t = Date.parse(r.at);
        if (t >= fromMs && t <= toMs) out.push(r);
      }
    }
    return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at)) as Extract<SensorReading, { sense: S }>[];
  }
}

export interface FusionInput {
  /** The X-ray's own verdict and score: they stand as they are. */
  xray: Pick<ScanResult, 'verdict' | 'score' | 'unavailableReason'>;
  /** Readings of this vehicle: taken in the scan's time window. */
  co2: Co2Reading[];
  heartbeat: HeartbeatReading[];
  /** Senses with a device on this lane (a sense without one is missing, said as such). */
  configured: { co2: boolean; heartbeat: boolean };
  config: FusionConfig;
}

/** Evidence of the X-ray: the logit of its score under the calibrated model. */
function xrayEvidence(i: FusionInput): SenseEvidence {
  const { verdict, score, unavailableReason } = i.xray;
  if (verdict === 'unavailable' || score === null)
    return {
      sense: 'xray',
      state: 'missing',
      detail: `no X-ray score: ${unavailableReason ?? 'detection unavailable'}`,
    };
  const llr = gaussianLlr(logit(score), i.config.xray, i.config.llrLimit);
  return {
    sense: 'xray',
    state: 'evidence',
    value: score,
    llr,
    detail: `X-ray score ${score.toFixed(3)}, verdict ${verdict}`,
  };
}

/**
 * Evidence of the CO2 probe: the median of its last (up to three) readings, as a rise over
 * outdoor air. What counts is what the probe says now of the vehicle in front of it: when its
 * latest reading is not good, the sense is unusable, whatever it read before.
 */
function co2Evidence(i: FusionInput): SenseEvidence {
  if (!i.configured.co2) return { sense: 'co2', state: 'missing', detail: 'no CO2 probe on this lane' };
  if (i.co2.length === 0)
    return {
      sense: 'co2',
      state: 'missing',
      detail: "no CO2 reading of this vehicle (probe not answering or not polled in the scan's time window)",
    };
  const good: Co2Reading[] = [];
  for (let k = i.co2.length - 1; k >= 0 && good.length < 3 && i.co2[k].quality === 'ok'; k--) good.unshift(i.co2[k]);
  if (good.length === 0) {
    const last = i.co2.at(-1)!;
    return {
      sense: 'co2',
      state: 'unusable',
      device: last.device,
      at: last.at,
      reading: { ppm: last.ppm, quality: last.quality },
      detail: `CO2 probe ${last.device}: ${last.quality}${last.detail ? ` (${last.detail})` : ''}`,
    };
  }
  const recent = good.slice(-3);
  const ppm = median(recent.map((r) => r.ppm));
  const last = recent.at(-1)!;
  const rise = ppm - i.config.outdoorCo2Ppm;
  return {
    sense: 'co2',
    state: 'evidence',
    value: Math.round(rise),
    llr: gaussianLlr(rise, i.config.co2, i.config.llrLimit),
    device: last.device,
    at: last.at,
    reading: { ppm: Math.round(ppm), temperatureC: last.temperatureC, humidityPct: last.humidityPct },
    detail: `CO2 ${Math.round(ppm)} ppm, ${rise >= 0 ? '+' : ''}${Math.round(rise)} ppm over outdoor air (${i.config.outdoorCo2Ppm} ppm)`,
  };
}

/**
 * Evidence of the heartbeat detector: its latest reading, when taken with the engine off and a
 * usable signal (the detector holds its measurement of the vehicle in front of it).
 */
function heartbeatEvidence(i: FusionInput): SenseEvidence {
  if (!i.configured.heartbeat)
    return { sense: 'heartbeat', state: 'missing', detail: 'no heartbeat detector on this lane' };
  if (i.heartbeat.length === 0)
    return {
      sense: 'heartbeat',
      state: 'missing',
      detail: "no heartbeat reading of this vehicle (detector not answering or not polled in the scan's time window)",
    };
  const last = i.heartbeat.at(-1)!;
  if (!(last.quality === 'ok' && last.engineOff && last.signalQuality >= i.config.minSignalQuality)) {
    const why =
      last.quality !== 'ok'
        ? `${last.quality}${last.detail ? ` (${last.detail})` : ''}`
        : !last.engineOff
          ? 'engine running: no measurement'
          : `signal quality ${last.signalQuality.toFixed(2)} below ${i.config.minSignalQuality}`;
    return {
      sense: 'heartbeat',
      state: 'unusable',
      device: last.device,
      at: last.at,
      reading: { score: last.score, signalQuality: last.signalQuality, engineOff: last.engineOff },
      detail: `heartbeat detector ${last.device}: ${why}`,
    };
  }
  return {
    sense: 'heartbeat',
    state: 'evidence',
    value: last.score,
    llr: gaussianLlr(logit(last.score), i.config.heartbeat, i.config.llrLimit),
    device: last.device,
    at: last.at,
    reading: { score: last.score, signalQuality: last.signalQuality, engineOff: true },
    detail: `heartbeat score ${last.score.toFixed(3)} at signal quality ${last.signalQuality.toFixed(2)}, engine off`,
  };
}

/**
 * The fused lane decision. Every sense with evidence adds its log-likelihood ratio to the prior
 * odds; a sense without evidence adds nothing, so a missing sensor never blocks or lowers a
 * decision. An X-ray person verdict stands; a vehicle the X-ray cleared (or could not screen)
 * becomes a person decision, with an added alert, when the fused posterior reaches
 * `alertPosterior`. For an X-ray person verdict, CO2 and heartbeat together support it at
 * LLR ≥ supportLlr, do not support it at ≤ −supportLlr, and otherwise give no evidence either way.
 */
export function fuse(i: FusionInput): FusedDecision {
  const senses = [xrayEvidence(i), co2Evidence(i), heartbeatEvidence(i)];
  const { config } = i;
  const priorLogOdds = Math.log(config.prior / (1 - config.prior));
  const total = senses.reduce((a, s) => a + (s.llr ?? 0), priorLogOdds);
  const posterior = 1 / (1 + Math.exp(-total));
  const missing: Sense[] = senses.filter((s) => s.state !== 'evidence').map((s) => s.sense);
  const others = senses.filter((s) => s.sense !== 'xray' && s.state === 'evidence');
  const xrayPerson = i.xray.verdict === 'person';
  const reaches = posterior >= config.alertPosterior && others.length > 0;
  const verdict: FusedDecision['verdict'] =
    xrayPerson || reaches ? 'person' : i.xray.verdict === 'unavailable' ? 'unavailable' : 'clear';
  const decision: FusedDecision = {
    verdict,
    posterior,
    threshold: config.alertPosterior,
    addedAlert: !xrayPerson && reaches,
    senses,
    missing,
  };
  if (xrayPerson) {
    const otherLlr = others.reduce((a, s) => a + (s.llr ?? 0), 0);
    decision.xraySupport =
      others.length === 0
        ? 'no-evidence'
        : otherLlr >= config.supportLlr
          ? 'supported'
          : otherLlr <= -config.supportLlr
            ? 'not-supported'
            : 'no-evidence';
  }
  return decision;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
