/**
 * From detector samples to what a picture or the model shows. Samples are transmitted intensity,
 * 65535 = open beam (nothing between source and detector). Everything downstream works in
 * attenuation a = -ln(I / I0): the model's input, the console's views, the evidence JPEG and the
 * evaluation's pictures. A display window maps an attenuation range to white..black.
 */

/** The intensity of the open beam, I0. */
export const OPEN_BEAM = 65535;
const LN_OPEN = Math.log(OPEN_BEAM);

/** Attenuation -ln(I / I0) of an intensity (averaged intensities may be fractional); below 1 counts as 1. */
export function attenuation(intensity: number): number {
  return LN_OPEN - Math.log(intensity < 1 ? 1 : intensity);
}

/** attenuation(I) * scale for every uint16 intensity. */
export function attenuationLut(scale = 1): Float32Array {
  const lut = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) lut[i] = attenuation(i) * scale;
  return lut;
}

/** A display window: attenuation `low` is shown white, `high` and above black. */
export interface AttenuationWindow {
  low: number;
  high: number;
}

/** Where an attenuation falls in a window: 0 at `low` (white), 1 at `high` and above (black). */
export function windowFraction(a: number, win: AttenuationWindow): number {
  return Math.min(1, Math.max(0, (a - win.low) / (win.high - win.low)));
}

/**
 * The window of one scan: from the 0.5th to the 99.5th percentile of its attenuation, so that
 * open beam is white, the densest cargo black, and a few dead or saturated pixels do not flatten
 * the contrast; at least `minSpan` wide. Taken from a histogram of the raw values (the log is
 * monotonic).
 */
export function percentileWindow(samples: Uint16Array, minSpan = 0.5): AttenuationWindow {
  const hist = new Uint32Array(65536);
  for (let i = 0; i < samples.length; i++) hist[samples[i]!]!++;
  const n = samples.length;
  const at = (q: number): number => {
    const target = q * n;
    let acc = 0;
    for (let v = 0; v < 65536; v++) {
      acc += hist[v]!;
      if (acc >= target) return v;
    }
    return 65535;
  };
  const dark = Math.max(1, at(0.005));
  const bright = Math.max(1, at(0.995));
  const low = Math.max(0, -Math.log(bright / OPEN_BEAM));
  let high = -Math.log(dark / OPEN_BEAM);
  if (high - low < minSpan) high = low + minSpan;
  return { low, high };
}

/**
 * uint16 intensity -> grey byte (255 white = `low` and thinner, 0 black = `high` and denser):
 * the window fraction raised to `gamma`. Below 1, gamma spreads the thin parts of a vehicle
 * (sheet metal, cargo, people behind a wall) over more grey levels than the dense ones.
 */
export function greyLut(win: AttenuationWindow, gamma = 1): Uint8Array {
  const lut = new Uint8Array(65536);
  for (let v = 0; v < 65536; v++) {
    const t = windowFraction(attenuation(v), win);
    // Math.sqrt gives the same values as ** 0.5 in half the time; the table is made per evidence picture.
    lut[v] = 255 - Math.round((gamma === 1 ? t : gamma === 0.5 ? Math.sqrt(t) : t ** gamma) * 255);
  }
  return lut;
}
