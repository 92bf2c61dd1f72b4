import { describe, expect, it } from 'vitest';
import {
  DUAL_ENERGY_REFERENCE,
  estimateDualEnergyRatio,
  normaliseLowEnergy,
  STREAM_MAX_VISITS,
  STREAM_MIN_SCANS,
  STREAM_WINDOW_SCANS,
  StreamedLowEnergyScale,
  type StreamedLowEnergyMemory,
  scaleAttenuation,
} from '../../../core/dual-energy-scale.js';

/** A 300 x 100 pair: attenuation 0.5-4.5 across the lines (steel-like, low/high ratio `ratio` with a little spread). */
function pair(ratio: number): { high: Uint16Array; low: Uint16Array } {
  const w = 300;
  const h = 100;
  const high = new Uint16Array(w * h);
  const low = new Uint16Array(w * h);
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++) {
      const a = 0.5 + (4 * c) / w;
      const k = ratio * (1 + 0.03 * Math.sin(r * 0.7 + c * 0.3));
      high[r * w + c] = Math.round(65535 * Math.exp(-a));
      low[r * w + c] = Math.round(65535 * Math.exp(-a * k));
    }
  return { high, low };
}

describe('dual-energy ratio of a scan pair', () => {
  it("reads the 5th percentile of the ratio where the high energy's attenuation lies between 1 and 4", () => {
    const { high, low } = pair(1.05);
    const est = estimateDualEnergyRatio(high, low)!;
    expect(est.ratio).toBeGreaterThan(1.05 * 0.97 - 0.005);
    expect(est.ratio).toBeLessThan(1.05 * 0.975 + 0.005);
    expect(est.pixels).toBeGreaterThan(5_000); // every third pixel of those in range
  });

  it("leaves a pair inside the training scanner's range as it is, without a note", () => {
    const { high, low } = pair(1.05);
    const r = normaliseLowEnergy(high, low);
    expect(r.low).toBe(low);
    expect(r.scale).toBe(1);
    expect(r.note).toBeUndefined();
  });

  it('brings a pair whose ratio reads below the range up to the reference', () => {
    const { high, low } = pair(0.9);
    const r = normaliseLowEnergy(high, low);
    expect(r.scale).toBeGreaterThan(1.1);
    expect(estimateDualEnergyRatio(high, r.low)!.ratio).toBeCloseTo(DUAL_ENERGY_REFERENCE, 2);
  });

  it('brings a pair of another energy pair (ratio 15 % higher) back to the reference, with a note', () => {
    const { high, low } = pair(1.05 * 1.15);
    const r = normaliseLowEnergy(high, low);
    expect(r.scale).toBeLessThan(0.9);
    expect(r.note).toMatch(/reads 1\.1\d\d, outside the training scanner's 0\.97-1\.13 .* multiplied by 0\.8\d\d/);
    expect(estimateDualEnergyRatio(high, r.low)!.ratio).toBeCloseTo(DUAL_ENERGY_REFERENCE, 2);
  });

  it('reads a pair as it is when the ratio is too far off to be an energy pair, or when there is too little to read', () => {
    const { high } = pair(1.05);
    const odd = scaleAttenuation(high, 0.4);
    const far = normaliseLowEnergy(high, odd);
    expect(far.low === odd).toBe(true);
    expect(far.note).toMatch(/reads 0\.4\d\d .* too far to be another energy pair/);
    const empty = new Uint16Array(1000).fill(65535);
    expect(normaliseLowEnergy(empty, empty).note).toBeUndefined();
    // 5,999 pixels in range: 2,000 read (every third) is the least that gives an estimate
    const few = (n: number) => {
      const hi = new Uint16Array(n).fill(Math.round(65535 * Math.exp(-2)));
      return estimateDualEnergyRatio(hi, scaleAttenuation(hi, 1.3));
    };
    expect(few(5999)).toBeDefined();
    expect(few(5990)).toBeUndefined();
    expect(() => estimateDualEnergyRatio(new Uint16Array(10), new Uint16Array(9))).toThrow(/must match/);
  });

  it("'none' reads the pair as it is; a named factor scales the low energy's attenuation; one out of range is refused", () => {
    const { high, low } = pair(1.2);
    expect(normaliseLowEnergy(high, low, 'none').low).toBe(low);
    // a pair decoded from 8-bit files: 'auto' leaves it to its export decoding, a named factor applies
    expect(normaliseLowEnergy(high, low, 'auto', true).low).toBe(low);
    expect(normaliseLowEnergy(high, low, 0.85, true).scale).toBe(0.85);
    const named = normaliseLowEnergy(high, low, 0.85);
    expect(named.low).toEqual(scaleAttenuation(low, 0.85));
    expect(named.note).toMatch(/multiplied by 0\.85 \(named\)/);
    expect(() => normaliseLowEnergy(high, low, 3)).toThrow(/0\.5\.\.2/);
    // scaleAttenuation: open beam stays open beam, a dead pixel stays 0, the log attenuation scales
    const s = scaleAttenuation(new Uint16Array([65535, 0, 24109]), 2);
    expect(s[0]).toBe(65535);
    expect(s[1]).toBe(0);
    expect(s[2]).toBe(Math.round(65535 * (24109 / 65535) ** 2));
  });
});

/** The lines of a streamed scan as the lane stores them: the low plane through the scale's table, if any. */
function received(s: StreamedLowEnergyScale, p: { high: Uint16Array; low: Uint16Array }) {
  const lut = s.lut;
  return { high: p.high, low: lut ? p.low.map((v) => lut[v]) : p.low };
}
/** A pair whose statistic reads about `stat` (pair()'s spread puts the 5th percentile at 0.9725 of its ratio). */
const reading = (stat: number) => pair(stat / 0.9725);

describe('low-energy scale of a streamed lane', () => {
  it(`visits at most ${STREAM_MAX_VISITS.toLocaleString('en')} pixels of a scan of any size, and reads the same statistic`, () => {
    const { high, low } = pair(1.05);
    const big = (p: Uint16Array) => {
      const out = new Uint16Array(p.length * 40);
      for (let k = 0; k < 40; k++) out.set(p, k * p.length);
      return out;
    };
    const [h, l] = [big(high), big(low)];
    const all = estimateDualEnergyRatio(h, l)!;
    const bounded = estimateDualEnergyRatio(h, l, STREAM_MAX_VISITS)!;
    expect(all.pixels).toBeGreaterThan(STREAM_MAX_VISITS);
    expect(bounded.pixels).toBeLessThanOrEqual(STREAM_MAX_VISITS);
    expect(bounded.ratio).toBeCloseTo(all.ratio, 2);
  });

  it(`'auto' corrects nothing before ${STREAM_MIN_SCANS} scans, then rescales the scans that follow to the reference`, () => {
    const s = new StreamedLowEnergyScale('auto');
    const scan = reading(1.2);
    for (let i = 0; i < STREAM_MIN_SCANS - 1; i++) expect(s.observe(scan.high, scan.low)).toBe(false);
    expect(s.lut).toBeNull();
    expect(s.state).toMatchObject({ scale: 1, scans: STREAM_MIN_SCANS - 1, degraded: false });
    expect(s.observe(scan.high, scan.low)).toBe(true);
    const st = s.state;
    expect(st.scale).toBeCloseTo(DUAL_ENERGY_REFERENCE / 1.2, 2);
    // A correction, not a degradation: the scanner still delivers what the model reads.
    expect(st.degraded).toBe(false);
    expect(st.note).toMatch(
      /^low-energy attenuation multiplied by 0\.8\d\d \(scanner\.lowEnergyScale 'auto': .*edge of the training scanner's 0\.97-1\.13\); name the factor/,
    );
    // The next scan arrives through the table: it reads like the training scanner's.
    const next = received(s, scan);
    expect(estimateDualEnergyRatio(next.high, next.low)!.ratio).toBeCloseTo(DUAL_ENERGY_REFERENCE, 2);
    // ...and is read back as the scanner sent it: the factor and the note hold, scan after scan.
    for (let i = 0; i < 10; i++) {
      const r = received(s, scan);
      expect(s.observe(r.high, r.low)).toBe(false);
    }
    expect(s.state.ratio).toBeCloseTo(1.2, 2);
    expect(s.state.note).toBe(st.note);
  });

  it('keeps what it read and decided across a restart: the factor applies from the first scan, hysteresis included', () => {
    const kept: StreamedLowEnergyMemory[] = [];
    const s = new StreamedLowEnergyScale('auto', { onRead: (m) => void kept.push(m) });
    const scan = reading(1.2);
    for (let i = 0; i < STREAM_WINDOW_SCANS + 3; i++) s.observe(received(s, scan).high, received(s, scan).low);
    expect(kept).toHaveLength(STREAM_WINDOW_SCANS + 3);
    expect(kept.at(-1)!.ratios).toHaveLength(STREAM_WINDOW_SCANS);
    expect(kept.at(-1)!.scale).toBe(s.state.scale);
    const again = new StreamedLowEnergyScale('auto', {
      restore: { ...kept.at(-1)!, ratios: [Number.NaN, -1, 9, ...kept.at(-1)!.ratios] },
    });
    expect(again.state.scans).toBe(STREAM_WINDOW_SCANS);
    expect(again.state.scale).toBe(s.state.scale);
    expect(again.lut).not.toBeNull();
    // A lane correcting while its median sits just inside the band's edge keeps the factor across a restart.
    const edge = Array.from({ length: 10 }, () => 1.125);
    expect(new StreamedLowEnergyScale('auto', { restore: { ratios: edge, scale: 0.9 } }).state.scale).toBe(0.9);
    expect(new StreamedLowEnergyScale('auto', { restore: { ratios: edge } }).state.scale).toBe(1);
    // 'none' keeps saying a median just inside the edge, as before the restart.
    expect(new StreamedLowEnergyScale('none', { restore: { ratios: edge, outside: true } }).state.degraded).toBe(true);
    expect(new StreamedLowEnergyScale('none', { restore: { ratios: edge } }).state.degraded).toBe(false);
  });

  it('keeps a lane inside the band as it is, and drops a factor only once the median is well back inside', () => {
    const inside = new StreamedLowEnergyScale('auto');
    for (let i = 0; i < 30; i++) inside.observe(reading(1.05).high, reading(1.05).low);
    expect(inside.state).toMatchObject({ scale: 1, scans: STREAM_WINDOW_SCANS, degraded: false });
    expect(inside.state.note).toBeUndefined();

    const s = new StreamedLowEnergyScale('auto');
    const out = reading(1.16);
    for (let i = 0; i < STREAM_MIN_SCANS; i++) s.observe(received(s, out).high, received(s, out).low);
    const k = s.state.scale;
    expect(k).toBeLessThan(0.9);
    // The scanner moves to just inside the band's edge (1.125): the factor stays (hysteresis)...
    const edge = reading(1.125);
    for (let i = 0; i < STREAM_WINDOW_SCANS; i++) s.observe(received(s, edge).high, received(s, edge).low);
    expect(s.state.scale).not.toBe(1);
    // ...and goes once the median is well inside.
    const back = reading(1.05);
    let dropped = false;
    for (let i = 0; i < STREAM_WINDOW_SCANS; i++)
      dropped = s.observe(received(s, back).high, received(s, back).low) || dropped;
    expect(dropped).toBe(true);
    expect(s.lut).toBeNull();
    expect(s.state).toMatchObject({ scale: 1, degraded: false });
  });

  it("'none' never rescales but says a median outside the band, without flapping at its edge", () => {
    const none = new StreamedLowEnergyScale('none');
    const scan = reading(1.2);
    for (let i = 0; i < STREAM_MIN_SCANS - 1; i++) expect(none.observe(scan.high, scan.low)).toBe(false);
    expect(none.state.degraded).toBe(false);
    expect(none.observe(scan.high, scan.low)).toBe(true);
    expect(none.lut).toBeNull();
    expect(none.state.degraded).toBe(true);
    const said = none.state.note;
    expect(said).toMatch(/'none': scans are read as they are .*name the factor 1\.019 \/ lowEnergyRatio$/);
    // Just inside the edge: still said, in the same words (the median moved); well inside: no longer.
    for (let i = 0; i < STREAM_WINDOW_SCANS; i++) none.observe(reading(1.125).high, reading(1.125).low);
    expect(none.state.degraded).toBe(true);
    expect(none.state.ratio).toBeLessThan(1.13);
    expect(none.state.note).toBe(said);
    for (let i = 0; i < STREAM_WINDOW_SCANS; i++) none.observe(reading(1.05).high, reading(1.05).low);
    expect(none.state).toMatchObject({ degraded: false });
    expect(none.state.note).toBeUndefined();
  });

  it('applies a named factor from the first line, and says so when the scans it corrects still read outside the band', () => {
    const scan = reading(1.2);
    const named = new StreamedLowEnergyScale(0.85);
    expect(named.lut).not.toBeNull();
    expect(named.state).toMatchObject({ scale: 0.85, degraded: false });
    for (let i = 0; i < STREAM_MIN_SCANS; i++) named.observe(received(named, scan).high, received(named, scan).low);
    expect(named.state.ratio).toBeCloseTo(1.2, 2); // as the scanner sends it
    expect(named.state).toMatchObject({ scale: 0.85, degraded: false });
    expect(named.state.note).toBe('low-energy attenuation multiplied by 0.85 (scanner.lowEnergyScale)');
    // The same factor on a scanner that needs none: corrected, it reads 0.89, below the band.
    const wrong = new StreamedLowEnergyScale(0.85);
    const fine = reading(1.05);
    for (let i = 0; i < STREAM_MIN_SCANS; i++) wrong.observe(received(wrong, fine).high, received(wrong, fine).low);
    expect(wrong.state.degraded).toBe(true);
    expect(wrong.state.note).toMatch(
      /still read a low\/high ratio outside the training scanner's 0\.97-1\.13 .*check the factor/,
    );
    expect(() => new StreamedLowEnergyScale(3)).toThrow(/0\.5\.\.2, got 3/);
  });

  it('reads a ratio too far off to be an energy pair as it is, and says so', () => {
    const s = new StreamedLowEnergyScale('auto');
    const scan = reading(0.4);
    for (let i = 0; i < STREAM_MIN_SCANS; i++) s.observe(scan.high, scan.low);
    expect(s.lut).toBeNull();
    expect(s.state.degraded).toBe(true);
    expect(s.state.note).toMatch(/too far .* read as they are/);
  });
});
