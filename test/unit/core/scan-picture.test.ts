import { describe, expect, it } from 'vitest';
import {
  attenuation,
  attenuationLut,
  greyLut,
  OPEN_BEAM,
  percentileWindow,
  windowFraction,
} from '../../../core/scan-picture.js';

describe('attenuation', () => {
  it('is 0 for the open beam, -ln(I/I0) below it, and the same for 0 and 1', () => {
    expect(attenuation(OPEN_BEAM)).toBe(0);
    expect(attenuation(24109)).toBeCloseTo(-Math.log(24109 / 65535), 12);
    expect(attenuation(0)).toBe(attenuation(1));
    expect(attenuation(0.5)).toBe(attenuation(1));
    expect(attenuation(1.5)).toBeCloseTo(Math.log(65535 / 1.5), 12);
  });

  it('is tabulated for every uint16 intensity, times a scale (the model input is attenuation x logScale)', () => {
    const lut = attenuationLut(0.25);
    expect(lut).toHaveLength(65536);
    expect(lut[65535]).toBe(0);
    expect(lut[1]).toBe(lut[0]);
    expect(lut[24109]).toBe(Math.fround(attenuation(24109) * 0.25));
  });
});

describe('display windows', () => {
  it('maps the window to white..black, clamped outside it', () => {
    const win = { low: 1, high: 3 };
    expect(windowFraction(0.5, win)).toBe(0);
    expect(windowFraction(2, win)).toBe(0.5);
    expect(windowFraction(9, win)).toBe(1);
  });

  it('makes a grey table: open beam white, the window top and denser black, gamma below 1 lightening the thin end', () => {
    const linear = greyLut({ low: 0, high: 8 });
    const lifted = greyLut({ low: 0, high: 8 }, 0.6);
    expect(linear[65535]).toBe(255);
    expect(linear[0]).toBe(0);
    const thin = Math.round(65535 * Math.exp(-1)); // attenuation 1: thin sheet metal
    expect(linear[thin]).toBe(255 - Math.round((1 / 8) * 255));
    expect(lifted[thin]).toBe(255 - Math.round((1 / 8) ** 0.6 * 255));
    expect(lifted[thin]).toBeLessThan(linear[thin]!);
  });

  it('takes a scan window from robust percentiles, at least minSpan wide', () => {
    const samples = new Uint16Array(1000).fill(65535);
    samples.fill(2000, 0, 500);
    samples[0] = 0; // a dead pixel does not stretch the window
    const w = percentileWindow(samples);
    expect(w.low).toBe(0);
    expect(w.high).toBeCloseTo(-Math.log(2000 / 65535), 12);
    const flat = percentileWindow(new Uint16Array(100).fill(30000), 0.5);
    expect(flat.high - flat.low).toBeCloseTo(0.5, 12);
  });
});
