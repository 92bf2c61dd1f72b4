/**
 * Second senses of a lane: CO2 probes and heartbeat (vibration) detectors, read over Modbus by
 * firmware-bridge/sensors/, and the lane decision fused from them and the X-ray verdict
 * (pipeline/fusion.ts). Shared by the bridge, the pipeline and the outputs.
 */

/** The senses a lane decision can draw on. */
export type Sense = 'xray' | 'co2' | 'heartbeat';
export const SENSES: readonly Sense[] = ['xray', 'co2', 'heartbeat'];

/** What a device says of its own reading (from its status register). */
export type ReadingQuality = 'ok' | 'warming-up' | 'sensor-fault' | 'out-of-range';

/** One poll of a CO2 probe (NDIR transmitter). */
export interface Co2Reading {
  sense: 'co2';
  /** Device id from the config (`lanes[].sensors[].id`). */
  device: string;
  laneId: string;
  at: string;
  ppm: number;
  temperatureC: number;
  humidityPct: number;
  quality: ReadingQuality;
  /** Why quality is not ok, in words (which register, which value). */
  detail?: string;
}

/** One poll of a fixed heartbeat (geophone) detector. */
export interface HeartbeatReading {
  sense: 'heartbeat';
  device: string;
  laneId: string;
  at: string;
  /** The detector's own detection score, 0-1. */
  score: number;
  /** Signal quality, 0-1 (coupling to the chassis, wind, ground vibration). */
  signalQuality: number;
  /** The engine-off condition holds: without it the reading says nothing about people. */
  engineOff: boolean;
  quality: ReadingQuality;
  detail?: string;
}

export type SensorReading = Co2Reading | HeartbeatReading;

/** What one sense contributed to a scan's decision. */
export interface SenseEvidence {
  sense: Sense;
  /**
   * evidence: it gave a usable reading; missing: no reading of this vehicle (no device, device
   * down, no poll in the scan's time window); unusable: readings came but say nothing (engine
   * running, sensor fault, poor signal, value out of range).
   */
  state: 'evidence' | 'missing' | 'unusable';
  /** Log-likelihood ratio person : no person from this sense's calibrated model (state evidence). */
  llr?: number;
  /** The figure the model read: X-ray score, CO2 rise over outdoor air (ppm), heartbeat score. */
  value?: number;
  /** Device that gave it, and when its reading used was taken. */
  device?: string;
  at?: string;
  /** The raw reading, for the console and central command (CO2 ppm, temperature; heartbeat quality). */
  reading?: Record<string, number | boolean | string>;
  /** Why missing or unusable, or what the value means. */
  detail: string;
}

/**
 * The lane's fused decision on a scan. The X-ray verdict stands: fusion adds an alert when the
 * other senses point to people the X-ray did not flag, and says whether they support an X-ray
 * alert; a missing sense never holds a decision up.
 */
export interface FusedDecision {
  /** person: the X-ray said person, or the fused evidence reaches the fusion threshold. */
  verdict: 'person' | 'clear' | 'unavailable';
  /** Posterior probability of people from every sense with evidence, at the lane's prior. */
  posterior: number;
  threshold: number;
  /** For an X-ray person verdict: do CO2 and heartbeat back it? */
  xraySupport?: 'supported' | 'not-supported' | 'no-evidence';
  /** The fused decision raised a person alert the X-ray alone did not. */
  addedAlert: boolean;
  senses: SenseEvidence[];
  /** Senses without usable evidence for this vehicle. */
  missing: Sense[];
}
