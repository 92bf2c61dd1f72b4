import { describe, expect, it } from 'vitest';
import { attenuation, attenuationLut } from '../../../core/scan-picture.js';
import { axisWeights, ModelCanvas, outputCount } from '../../../inference/preprocess.js';

/** The model's log channel value of an (averaged) intensity. */
const logValue = (intensity: number, logScale: number) => attenuation(intensity) * logScale;

const opts = { logScale: 0.25, sizeMultiple: 8, modelMm: 10 };

/** Model value at (row, col) of a canvas column-major store. */
const at = (c: ModelCanvas, plane: Float32Array, r: number, col: number) => plane[col * c.paddedHeight + r];

describe('log transform', () => {
  it('maps open beam to 0 and zero/one to the same maximum, scaled by logScale', () => {
    const lut = attenuationLut(0.25);
    expect(lut.length).toBe(65536);
    expect(lut[65535]).toBe(0);
    expect(lut[0]).toBeCloseTo(Math.log(65535) * 0.25, 5);
    expect(lut[1]).toBe(lut[0]);
    expect(lut[24109]).toBeCloseTo(0.25 * -Math.log(24109 / 65535), 6);
    expect(logValue(24109, 0.25)).toBeCloseTo(lut[24109], 6);
  });
});

describe('area resampling weights', () => {
  it('averages 2x2 blocks from 5 mm to 10 mm and clips the last one', () => {
    const w = axisWeights(5, 5, 10);
    expect(w.count).toBe(3);
    expect([...w.idx]).toEqual([0, 1, 2, 3, 4]);
    expect([...w.w]).toEqual([0.5, 0.5, 0.5, 0.5, 1]);
  });

  it('splits input pixels across outputs for a non-integer ratio (4 mm -> 10 mm)', () => {
    const w = axisWeights(10, 4, 10);
    expect(w.count).toBe(outputCount(10, 4, 10));
    expect(w.count).toBe(4);
    // output 0 covers input [0, 2.5): pixels 0, 1 fully and half of 2
    const o0 = [...w.w.subarray(w.start[0], w.start[1])];
    expect([...w.idx.subarray(w.start[0], w.start[1])]).toEqual([0, 1, 2]);
    expect(o0[0]).toBeCloseTo(0.4);
    expect(o0[2]).toBeCloseTo(0.2);
    for (let j = 0; j < w.count; j++) {
      const s = w.w.subarray(w.start[j], w.start[j + 1]).reduce((a, b) => a + b, 0);
      expect(s).toBeCloseTo(1, 6);
    }
  });
});

describe('ModelCanvas', () => {
  it('averages intensities (not logs) over 2x2 blocks, then takes the log, and pads with open beam', () => {
    // 3 channels x 4 lines at 5 mm -> 2 rows x 2 columns at 10 mm, padded to 8 rows
    const c = new ModelCanvas({ ...opts, channels: 3, inMm: 5, dual: false });
    const lines = new Uint16Array([100, 300, 65535, 500, 700, 65535, 1000, 1000, 1000, 2000, 2000, 2000]);
    c.appendLineMajor(lines, undefined, 4);
    expect(c.compute(false)).toBe(2);
    expect(c.paddedHeight).toBe(8);
    expect(at(c, c.high, 0, 0)).toBeCloseTo(logValue((100 + 300 + 500 + 700) / 4, 0.25), 5);
    expect(at(c, c.high, 1, 0)).toBe(0); // open beam channel 2 of lines 0, 1
    expect(at(c, c.high, 0, 1)).toBeCloseTo(logValue(1500, 0.25), 5);
    expect(at(c, c.high, 5, 1)).toBe(0);
  });

  it('produces a column only when all its lines have arrived, and the last one at the end', () => {
    const c = new ModelCanvas({ ...opts, channels: 2, inMm: 5, dual: false });
    c.appendLineMajor(new Uint16Array([1000, 1000, 3000, 3000, 5000, 5000]), undefined, 3);
    expect(c.compute(false)).toBe(1);
    expect(c.compute(true)).toBe(2);
    expect(at(c, c.high, 0, 1)).toBeCloseTo(logValue(5000, 0.25), 5);
  });

  it('uses the LUT at the model pitch and gives the same columns streamed or from the image', () => {
    const width = 37;
    const ch = 11;
    const img = new Uint16Array(width * ch);
    for (let i = 0; i < img.length; i++) img[i] = (i * 7919) % 65536;
    for (const inMm of [10, 5, 4, 3]) {
      const a = new ModelCanvas({ ...opts, channels: ch, inMm, dual: false });
      a.appendFromImage(img, undefined, width, 0, width);
      a.compute(true);
      const b = new ModelCanvas({ ...opts, channels: ch, inMm, dual: false });
      for (let from = 0; from < width; from += 5) {
        const to = Math.min(width, from + 5);
        const batch = new Uint16Array((to - from) * ch);
        for (let l = from; l < to; l++) for (let r = 0; r < ch; r++) batch[(l - from) * ch + r] = img[r * width + l];
        b.appendLineMajor(batch, undefined, to - from);
        b.compute(false);
      }
      b.compute(true);
      expect(b.columns).toBe(a.columns);
      expect(b.high.subarray(0, b.columns * b.paddedHeight)).toEqual(a.high.subarray(0, a.columns * a.paddedHeight));
    }
    const id = new ModelCanvas({ ...opts, channels: ch, inMm: 10, dual: false });
    id.appendFromImage(img, undefined, width, 0, width);
    id.compute(true);
    expect(at(id, id.high, 3, 5)).toBe(attenuationLut(0.25)[img[3 * width + 5]]);
  });

  it('a long scan streamed in small batches (old raw lines freed on the way) equals the whole image', () => {
    const width = 5003;
    const ch = 6;
    const img = new Uint16Array(width * ch);
    for (let i = 0; i < img.length; i++) img[i] = (i * 2654435761) % 65536;
    // square pixels, and lines at their own pitch (2.5 and 7.37 mm lines, 5 mm channels; 10 mm lines with the
    // channels at the model's pitch: no identity shortcut)
    for (const [inMm, lineMm] of [[5], [4], [10], [5, 2.5], [5, 7.37], [10, 5]]) {
      const pitch = { inMm, ...(lineMm !== undefined ? { lineMm } : {}) };
      const whole = new ModelCanvas({ ...opts, channels: ch, ...pitch, dual: false });
      whole.appendFromImage(img, undefined, width, 0, width);
      whole.compute(true);
      expect(whole.columns).toBe(outputCount(width, lineMm ?? inMm, 10));
      const s = new ModelCanvas({ ...opts, channels: ch, ...pitch, dual: false });
      for (let from = 0; from < width; from += 7) {
        const to = Math.min(width, from + 7);
        const b = new Uint16Array((to - from) * ch);
        for (let l = from; l < to; l++) for (let r = 0; r < ch; r++) b[(l - from) * ch + r] = img[r * width + l];
        s.appendLineMajor(b, undefined, to - from);
        s.compute(false);
      }
      s.compute(true);
      expect(s.columns).toBe(whole.columns);
      expect(s.high.subarray(0, s.columns * s.paddedHeight)).toEqual(
        whole.high.subarray(0, whole.columns * whole.paddedHeight),
      );
    }
  });

  it('block fast path (integer pitch ratio) equals the area average of intensities, partial edges included', () => {
    const ch = 13;
    const width = 17;
    const img = new Uint16Array(width * ch);
    for (let i = 0; i < img.length; i++) img[i] = (i * 40503) % 65536;
    for (const k of [2, 3]) {
      const c = new ModelCanvas({ ...opts, channels: ch, inMm: 10 / k, dual: false });
      c.appendFromImage(img, undefined, width, 0, width);
      c.compute(true);
      const rows = Math.ceil(ch / k);
      const cols = Math.ceil(width / k);
      expect(c.columns).toBe(cols);
      for (let j = 0; j < cols; j++) {
        for (let r = 0; r < rows; r++) {
          let sum = 0;
          let n = 0;
          for (let x = j * k; x < Math.min(width, (j + 1) * k); x++)
            for (let y = r * k; y < Math.min(ch, (r + 1) * k); y++) {
              sum += img[y * width + x];
              n++;
            }
          expect(at(c, c.high, r, j)).toBeCloseTo(logValue(sum / n, 0.25), 5);
        }
      }
    }
  });

  it('does not take the identity shortcut when only the channels are at the model pitch', () => {
    const c = new ModelCanvas({ ...opts, channels: 2, inMm: 10, lineMm: 5, dual: false });
    c.appendLineMajor(new Uint16Array([1000, 5000, 3000, 7000]), undefined, 2);
    expect(c.compute(true)).toBe(1);
    expect(at(c, c.high, 0, 0)).toBeCloseTo(logValue(2000, 0.25), 5);
    expect(at(c, c.high, 1, 0)).toBeCloseTo(logValue(6000, 0.25), 5);
  });

  it('resamples lines at their own pitch (lineMm) and channels at theirs: 10 mm lines and 5 mm channels to 10 mm', () => {
    // 4 channels x 3 lines: channels average in pairs, each line is a model column of its own
    const c = new ModelCanvas({ ...opts, channels: 4, inMm: 5, lineMm: 10, dual: false });
    expect(c.lineMm).toBe(10);
    const lines = new Uint16Array([100, 300, 1000, 3000, 500, 700, 5000, 7000, 2000, 2000, 4000, 4000]);
    c.appendLineMajor(lines, undefined, 3);
    expect(c.compute(false)).toBe(3);
    expect(at(c, c.high, 0, 0)).toBeCloseTo(logValue(200, 0.25), 5);
    expect(at(c, c.high, 1, 0)).toBeCloseTo(logValue(2000, 0.25), 5);
    expect(at(c, c.high, 0, 1)).toBeCloseTo(logValue(600, 0.25), 5);
    expect(at(c, c.high, 1, 2)).toBeCloseTo(logValue(4000, 0.25), 5);
    // lines 2.5 mm apart: four lines per column, streamed or whole alike
    const width = 41;
    const ch = 7;
    const img = new Uint16Array(width * ch);
    for (let i = 0; i < img.length; i++) img[i] = (i * 7919) % 65536;
    const whole = new ModelCanvas({ ...opts, channels: ch, inMm: 5, lineMm: 2.5, dual: false });
    whole.appendFromImage(img, undefined, width, 0, width);
    expect(whole.compute(true)).toBe(Math.ceil(width / 4));
    const s = new ModelCanvas({ ...opts, channels: ch, inMm: 5, lineMm: 2.5, dual: false });
    for (let from = 0; from < width; from += 3) {
      const to = Math.min(width, from + 3);
      const b = new Uint16Array((to - from) * ch);
      for (let l = from; l < to; l++) for (let r = 0; r < ch; r++) b[(l - from) * ch + r] = img[r * width + l];
      s.appendLineMajor(b, undefined, to - from);
      expect(s.compute(false)).toBe(Math.floor(to / 4));
    }
    s.compute(true);
    expect(s.high.subarray(0, s.columns * s.paddedHeight)).toEqual(
      whole.high.subarray(0, whole.columns * whole.paddedHeight),
    );
    // column 1, row 2: lines 4-7, channels 4-5
    let sum = 0;
    for (let x = 4; x < 8; x++) for (let y = 4; y < 6; y++) sum += img[y * width + x];
    expect(at(whole, whole.high, 2, 1)).toBeCloseTo(logValue(sum / 8, 0.25), 5);
  });

  it('builds NCHW tiles in the manifest channel order; without a low plane logLow = logHigh and lowPresent = 0', () => {
    const c = new ModelCanvas({ ...opts, channels: 8, inMm: 10, dual: false });
    const lines = new Uint16Array(8 * 4).map((_, i) => 1000 + i);
    c.appendLineMajor(lines, undefined, 4);
    c.compute(true);
    const t = c.tileInput(['logHigh', 'logLow', 'lowPresent'], 0, 8, 4);
    const plane = 8 * 8;
    expect(t.length).toBe(3 * plane);
    // pixel (row 2, column 3) = line 3, channel 2
    expect(t[2 * 8 + 3]).toBeCloseTo(logValue(1000 + 3 * 8 + 2, 0.25), 5);
    expect(t[plane + 2 * 8 + 3]).toBe(t[2 * 8 + 3]);
    expect(t.subarray(2 * plane).every((v) => v === 0)).toBe(true);
    // columns past the scan are open beam
    expect(t[2 * 8 + 6]).toBe(0);
  });

  it('with a low plane: logLow from it and lowPresent = 1', () => {
    const c = new ModelCanvas({ ...opts, channels: 8, inMm: 10, dual: true });
    c.appendLineMajor(new Uint16Array(16).fill(1000), new Uint16Array(16).fill(500), 2);
    c.compute(true);
    const t = c.tileInput(['logHigh', 'logLow', 'lowPresent'], 0, 8, 2);
    expect(t[64]).toBeCloseTo(logValue(500, 0.25), 5);
    expect(t[128]).toBe(1);
  });
});
