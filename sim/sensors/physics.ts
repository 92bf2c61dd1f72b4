import type { Rng } from '../xray/prng.js';

/**
 * What the CO2 probe and the heartbeat detector see of a vehicle: a well-mixed air volume that
 * people breathe into and that leaks to outdoor air, and a chassis whose vibration carries
 * heartbeats when the engine is off. Pure functions, used by the device simulators and by the
 * evaluation (eval/sensors.ts); every assumption is listed in docs/sensors.md.
 */

/** Outdoor air (ppm), the global background in 2026. */
export const OUTDOOR_CO2_PPM = 420;
/** CO2 a resting adult breathes out: about 0.31 L/min, 0.0185 m3/h. */
export const CO2_PER_PERSON_M3H = 0.0185;

/** The load space the probe samples, by the X-ray synthesizer's vehicle class. */
export interface LoadSpace {
  /** Free air volume (m3). */
  volumeM3: number;
  /** Air changes per hour through seals, vents and curtains. */
  airChangesPerHour: number;
  /** Probe samples the cabin the driver sat in (cars, vans), not a separate load space. */
  sharedWithDriver: boolean;
}

const LOAD_SPACES: Record<string, LoadSpace> = {
  car: { volumeM3: 3, airChangesPerHour: 3, sharedWithDriver: true },
  van: { volumeM3: 9, airChangesPerHour: 2, sharedWithDriver: true },
  'box-truck': { volumeM3: 35, airChangesPerHour: 0.8, sharedWithDriver: false },
  'articulated (container)': { volumeM3: 67, airChangesPerHour: 0.25, sharedWithDriver: false },
  'articulated (curtain-trailer)': { volumeM3: 80, airChangesPerHour: 3, sharedWithDriver: false },
};

export function loadSpaceOf(vehicleClass: string): LoadSpace {
  return (
    LOAD_SPACES[vehicleClass] ??
    (vehicleClass.startsWith('articulated') ? LOAD_SPACES['articulated (container)'] : LOAD_SPACES['box-truck'])
  );
}

/**
 * CO2 rise (ppm) over outdoor air in a well-mixed volume V with air exchange rate λ after people
 * have breathed in it for t hours: G / (λ V) · (1 − e^(−λ t)) · 10^6, G = people · 0.0185 m3/h.
 */
export function co2RisePpm(people: number, space: LoadSpace, hours: number): number {
  if (people <= 0 || hours <= 0) return 0;
  const g = people * CO2_PER_PERSON_M3H;
  const lambda = space.airChangesPerHour;
  return (g / (lambda * space.volumeM3)) * (1 - Math.exp(-lambda * hours)) * 1e6;
}

/** One vehicle as both sensors meet it: drawn once, then read as often as the devices are polled. */
export interface SensedVehicle {
  plate: string;
  vehicleClass: string;
  people: number;
  /** Hours the people have been shut in before the probe is applied. */
  hoursInside: number;
  /** A door was opened before the probe went in (the load space aired). */
  doorOpened: boolean;
  /** The driver left the engine running: the heartbeat detector cannot measure. */
  engineRunning: boolean;
  /** The probe is not plugged in for this vehicle (cable, handheld left in the booth). */
  probeDisconnected: boolean;
  /** Outdoor CO2 at this time and place (traffic, wind): ppm. */
  outdoorPpm: number;
  /** Calibration drift of the probe (ppm, slow). */
  driftPpm: number;
  /** Coupling of the geophone to the chassis and ground noise: 0-1. */
  signalQuality: number;
  /** Cargo damping of the heartbeat signal (dense loads absorb it): 0 none, 1 strong. */
  damping: number;
  /** The detector's noise draw for this vehicle (standard normal). */
  heartbeatNoise: number;
}

export interface VehicleDraw {
  plate: string;
  vehicleClass: string;
  people: number;
  cargoDensity?: string;
}

/** Rates of the disturbances the simulators model (docs/sensors.md lists them). */
export const DISTURBANCES = { doorOpened: 0.1, engineRunning: 0.15, probeDisconnected: 0.05 } as const;

const DAMPING: Record<string, number> = { empty: 0, light: 0.15, medium: 0.4, dense: 0.8 };

/** Draws how a vehicle meets the sensors: time shut in, disturbances, noise. */
export function drawSensedVehicle(
  v: VehicleDraw,
  rng: Rng,
  disturbances: { doorOpened: number; engineRunning: number; probeDisconnected: number } = DISTURBANCES,
): SensedVehicle {
  return {
    plate: v.plate,
    vehicleClass: v.vehicleClass,
    people: v.people,
    // Border crossings after hours on the road: from half an hour to 8 hours shut in.
    hoursInside: v.people > 0 ? rng.range(0.5, 8) : 0,
    doorOpened: rng.chance(disturbances.doorOpened),
    engineRunning: rng.chance(disturbances.engineRunning),
    probeDisconnected: rng.chance(disturbances.probeDisconnected),
    outdoorPpm: OUTDOOR_CO2_PPM + 25 * rng.normal(),
    driftPpm: 30 * rng.normal(),
    signalQuality: rng.range(0.35, 1),
    damping: DAMPING[v.cargoDensity ?? 'light'] ?? 0.15,
    heartbeatNoise: rng.normal(),
  };
}

/**
 * The CO2 the probe reads in the load space (ppm), with per-reading noise from rng; it keeps
 * rising while the vehicle waits at the lane (`waitedHours` after the probe went in).
 */
export function probeCo2Ppm(v: SensedVehicle, rng: Rng, waitedHours = 0): number {
  const space = loadSpaceOf(v.vehicleClass);
  let rise = co2RisePpm(v.people, space, v.hoursInside + waitedHours);
  // Cars and vans: the probe samples the cabin the driver has just left; his breath lingers.
  if (space.sharedWithDriver) rise += 0.35 * co2RisePpm(1, space, 0.5);
  if (v.doorOpened) rise *= 0.2;
  return Math.max(0, v.outdoorPpm + v.driftPpm + rise + 12 * rng.normal());
}

/** Outdoor air as the probe reads it between vehicles. */
export function ambientCo2Ppm(v: Pick<SensedVehicle, 'outdoorPpm' | 'driftPpm'>, rng: Rng): number {
  return Math.max(0, v.outdoorPpm + v.driftPpm + 12 * rng.normal());
}

/**
 * The heartbeat detector's score (0-1) and signal quality for a vehicle with the engine off:
 * logit(score) = base + evidence of people (more for more people, less through dense cargo)
 * + noise that grows as the signal quality falls.
 */
export function heartbeatScore(v: SensedVehicle, rng: Rng): { score: number; signalQuality: number } {
  const people = v.people > 0 ? 3.2 + 0.6 * Math.log(v.people) - 2.2 * v.damping : 0;
  const noiseSd = 0.9 / v.signalQuality;
  const logit = -2.2 + people + noiseSd * (0.85 * v.heartbeatNoise + 0.3 * rng.normal());
  return {
    score: 1 / (1 + Math.exp(-logit)),
    signalQuality: Math.min(1, Math.max(0, v.signalQuality + 0.03 * rng.normal())),
  };
}
