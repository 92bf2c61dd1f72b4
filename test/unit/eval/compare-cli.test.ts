import { describe, expect, it } from 'vitest';
import { compareSets, EXPORT_VIEWS, firstSeeds } from '../../../eval/compare-cli.js';
import type { ScanImage } from '../../../core/domain.js';

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

  it('exports: three sets of their own scenes, each read as synthesized, high energy alone and through each chain', async () => {
    const sets = compareSets('exports');
    expect(sets.map((s) => [s.name, s.settings.clutter ?? 0, s.views?.length])).toEqual([
      ['trucks without people', 0, 7],
      ['every vehicle without people', 0, 7],
      ['every vehicle with people', 0, 7],
    ]);
    expect(firstSeeds(sets, 1_090_000)).toEqual([1_090_000, 1_091_000, 1_092_000]);
    // The scenes of the random-object kind's sets without objects.
    expect(sets.map((s) => [s.settings, s.weight])).toEqual(
      compareSets('random-objects')
        .filter((s) => !s.settings.clutter)
        .map((s) => [s.settings, s.weight]),
    );
    expect(sets.map((s) => s.settings.personShare)).toEqual([0, 0, 1]);
    // A small scan: air above a ramp of attenuation in both energies.
    const [width, height] = [48, 32];
    const high = new Uint16Array(width * height);
    const low = new Uint16Array(width * height);
    for (let i = 0; i < high.length; i++) {
      const mu = ((i % width) / width) * 4 * (Math.floor(i / width) >= 8 ? 1 : 0);
      high[i] = Math.round(65535 * Math.exp(-mu));
      low[i] = Math.round(65535 * Math.exp(-1.2 * mu));
    }
    const scan: ScanImage = { width, height, pixelMm: 5, high, low };
    const read = await Promise.all(EXPORT_VIEWS.map((v) => v.read(scan)));
    expect(read[0]).toBe(scan);
    expect(EXPORT_VIEWS[0]!.name).toBe('dual energy, 16-bit');
    for (const [j, image] of read.slice(1).entries()) {
      expect(EXPORT_VIEWS[j + 1]!.name.startsWith('high energy only')).toBe(true);
      expect(image.low).toBeUndefined();
      expect([image.width, image.height, image.pixelMm]).toEqual([width, height, 5]);
    }
    expect(read[1]!.high).toBe(high);
    // Through an 8-bit chain the image is another one, decoded back to intensity: air stays the brightest, the
    // ramp's dense end the darkest.
    for (const image of read.slice(2)) {
      expect(image.high).not.toEqual(high);
      const row = 20 * width;
      expect(image.high[0]!).toBeGreaterThan(image.high[row + width - 1]!);
      expect(image.high[row + 2]!).toBeGreaterThan(image.high[row + width - 2]!);
    }
  });
});
