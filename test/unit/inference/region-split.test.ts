import { describe, expect, it } from 'vitest';
import { Grid } from '../../../inference/region-split.js';

// A 1-row strip: two plateaus of 4 cells (0.9 and 0.8) joined by 3 cells of 0.5.
const strip = Float32Array.from([0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.8, 0.8, 0.8, 0.8]);
const all = () => [...strip.keys()];

describe('Grid.split', () => {
  it('gives every cell of the component to one peak: the parts cover it without overlap', () => {
    const parts = new Grid(strip, strip.length, 1)
      .split(all(), 0.3, 0, 0.1, 4)
      .map((p) => [...p].sort((a, b) => a - b));
    expect(parts).toHaveLength(2);
    expect([...parts[0], ...parts[1]].sort((a, b) => a - b)).toEqual(all());
    // Flooded from the highest cell down, a cell going to the peak whose flood reaches it first: cell 6 is reached
    // from the 0.8 plateau before any 0.5 cell is taken; among the 0.5 cells the lower index goes first (4, then 5).
    expect(parts.find((p) => p.includes(0))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('keeps the component whole when the peaks are too small or do not rise far enough above their join', () => {
    expect(new Grid(strip, strip.length, 1).split(all(), 0.3, 0, 0.1, 5)).toEqual([all()]);
    expect(new Grid(strip, strip.length, 1).split(all(), 0.3, 0, 0.35, 4)).toEqual([all()]);
  });
});
