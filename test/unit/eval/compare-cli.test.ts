import { describe, expect, it } from 'vitest';
import { compareSets, firstSeeds } from '../../../eval/compare-cli.js';

describe('eval/compare-cli: the sets models are read side by side on', () => {
  it('families: the family sets and the trucks without people of npm run eval, each with seeds of its own', () => {
    const sets = compareSets('families');
    expect(sets.map((s) => s.name)).toEqual([
      'vehicle: bus',
      'trailer: tanker',
      'cargo: furniture',
      'hiding place: cab-roof',
      'decoy: produce-bin',
      'trucks without people',
    ]);
    expect(firstSeeds(sets, 1_060_000)).toEqual([1_060_000, 1_061_000, 1_062_000, 1_063_000, 1_064_000, 1_065_000]);
  });

  it('random objects: each set twice, the second with objects and the same seeds (the same scenes)', () => {
    const sets = compareSets('random-objects');
    expect(sets.map((s) => [s.name, s.settings.clutter ?? 0])).toEqual([
      ['trucks without people', 0],
      ['trucks without people, random objects', 6],
      ['every vehicle without people', 0],
      ['every vehicle without people, random objects', 6],
      ['every vehicle with people', 0],
      ['every vehicle with people, random objects', 6],
    ]);
    expect(firstSeeds(sets, 1_070_000)).toEqual([1_070_000, 1_070_000, 1_071_000, 1_071_000, 1_072_000, 1_072_000]);
  });
});
