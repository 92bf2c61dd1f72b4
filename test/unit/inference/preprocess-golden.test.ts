import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelCanvas, roundUp } from '../../../inference/preprocess.js';
import { FIXTURES } from '../../helpers/inference.js';

/**
 * The TypeScript preprocessing against golden tensors computed by the training side's
 * training/preprocess.py (test/fixtures/inference/make_preprocess_golden.py): both must match.
 */
const DIR = join(FIXTURES, 'preprocess-golden');
const golden = JSON.parse(readFileSync(join(DIR, 'golden.json'), 'utf8')) as {
  height: number;
  width: number;
  modelMm: number;
  logScale: number;
  sizeMultiple: number;
  cases: { pitchMm: number; dual: boolean; file: string; shape: [number, number, number]; valid: [number, number] }[];
};
const u16 = (f: string) => {
  const b = readFileSync(join(DIR, f));
  return new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const f32 = (f: string) => {
  const b = readFileSync(join(DIR, f));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

describe('preprocessing matches training/preprocess.py', () => {
  const high = u16('input-high.u16');
  const low = u16('input-low.u16');
  for (const c of golden.cases) {
    it(`${c.pitchMm.toFixed(2)} mm scan, ${c.dual ? 'dual energy' : 'high energy only'}`, () => {
      const canvas = new ModelCanvas({
        channels: golden.height,
        inMm: c.pitchMm,
        modelMm: golden.modelMm,
        logScale: golden.logScale,
        sizeMultiple: golden.sizeMultiple,
        dual: c.dual,
      });
      canvas.appendFromImage(high, c.dual ? low : undefined, golden.width, 0, golden.width);
      const cols = canvas.compute(true);
      expect([canvas.modelHeight, cols]).toEqual(c.valid);
      expect(canvas.paddedHeight).toBe(c.shape[1]);
      const wp = roundUp(cols, golden.sizeMultiple);
      expect(wp).toBe(c.shape[2]);
      const got = canvas.tileInput(['logHigh', 'logLow', 'lowPresent'], 0, wp, cols);
      const want = f32(c.file);
      expect(got.length).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst).toBeLessThan(2e-6);
    });
  }
});
