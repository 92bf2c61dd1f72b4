import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ExportChain,
  AUTO_MAX_ATTENUATION,
  autoLut,
  chainLut,
  checkExportChain,
  decodeExport,
  encodeExport,
  looksInverted,
} from '../../../core/export-chain.js';

const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../fixtures/export-chain/auto-decode.json'), 'utf8'),
) as {
  cases: { name: string; width: number; height: number; grey: number[]; lut: number[] }[];
};

/** A small scan: open beam on top and at both ends, a vehicle with cargo and a dense block. */
function scan(): { intensity: Uint16Array; width: number; height: number; att: Float64Array } {
  const width = 90,
    height = 50;
  const att = new Float64Array(width * height);
  for (let r = 12; r < height; r++)
    for (let i = 8; i < 82; i++)
      att[r * width + i] =
        0.4 + (r > 20 && i > 20 && i < 70 ? 0.05 * (i - 20) : 0) + (r > 30 && i > 40 && i < 48 ? 5 : 0);
  const intensity = new Uint16Array(width * height);
  for (let k = 0; k < att.length; k++) intensity[k] = Math.round(65535 * Math.exp(-att[k]));
  return { intensity, width, height, att };
}

describe('export chains', () => {
  it('decodes a named chain back to the intensity it encoded, within 8-bit quantisation', () => {
    const { intensity, width, height, att } = scan();
    const chains: ExportChain[] = [
      { scaling: 'linear' },
      { scaling: 'log', logMax: 8 },
      { scaling: 'log', logMax: 10, gamma: 0.5, window: [0.1, 0.9] },
      { scaling: 'linear', gamma: 2, invert: true },
    ];
    for (const c of chains) {
      const back = decodeExport(encodeExport(intensity, c), width, height, c);
      let worst = 0,
        at = -1;
      // Compare in attenuation where the chain keeps detail (log: everywhere up to logMax; linear: T > 0.05).
      for (let k = 0; k < att.length; k++) {
        const a = att[k];
        if (c.scaling === 'linear' && a > 3) continue;
        const v = 1 - a / (c.logMax ?? 8);
        if (c.window && (v < c.window[0] + 0.02 || v > c.window[1] - 0.02)) continue; // clipped by the window
        const err = Math.abs(-Math.log(Math.max(back[k], 1) / 65535) - a);
        if (err > worst) {
          worst = err;
          at = k;
        }
      }
      expect(worst, `${JSON.stringify(c)}: worst at pixel ${at} (attenuation ${att[at]})`).toBeLessThan(0.12);
    }
  });

  it('decodes an unknown chain automatically: open beam to 65535, monotone in attenuation, polarity found', () => {
    const { intensity, width, height, att } = scan();
    for (const c of [
      { scaling: 'linear' },
      { scaling: 'log', logMax: 9, gamma: 1.8 },
      { scaling: 'linear', gamma: 0.6, invert: true },
    ] as ExportChain[]) {
      const grey = encodeExport(intensity, c);
      expect(looksInverted(grey, width, height)).toBe(c.invert === true);
      const out = decodeExport(grey, width, height, 'auto');
      expect(out[0]).toBe(65535); // open beam, top-left
      // Denser never decodes brighter.
      const order = [...att.keys()].sort((a, b) => att[a] - att[b]);
      const inversions = order.filter((p, k) => k > 0 && out[p] > out[order[k - 1]]);
      expect(inversions, JSON.stringify(c)).toEqual([]);
      // The densest block decodes near the automatic maximum attenuation.
      const dense = 35 * width + 44;
      expect(-Math.log(out[dense] / 65535)).toBeGreaterThan(AUTO_MAX_ATTENUATION * 0.9);
    }
  });

  it('gives the same automatic tables as training/export_chain.py (fixture written by it)', () => {
    expect(fixture.cases.length).toBe(4);
    for (const c of fixture.cases) {
      const lut = autoLut(Uint8Array.from(c.grey), c.width, c.height);
      expect([...lut], c.name).toEqual(c.lut);
    }
  });

  it('rejects impossible chains naming the field', () => {
    expect(() => checkExportChain({ scaling: 'log', logMax: 0 })).toThrow(
      /export\.logMax must be within \(0, 20\], got 0/,
    );
    expect(() => checkExportChain({ scaling: 'linear', window: [0.8, 0.2] })).toThrow(
      /export\.window must be \[lo, hi\]/,
    );
    expect(() => checkExportChain({ scaling: 'cubic' as 'log' })).toThrow(/export\.scaling must be 'linear' or 'log'/);
    expect(() => chainLut({ scaling: 'linear', gamma: -1 })).toThrow(/export\.gamma/);
    expect(() => decodeExport(new Uint8Array(5), 2, 2)).toThrow(/5 samples for a 2 x 2 image/);
  });
});
