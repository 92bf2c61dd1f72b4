import { describe, expect, it } from 'vitest';
import {
  compareSets,
  EXPORT_VIEWS,
  exportViews,
  firstSeeds,
  LINE_PITCH_VIEWS,
  parseExportVariant,
} from '../../../eval/compare-cli.js';
import { EXPORT_VARIANTS } from '../../../eval/variants.js';
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

  it('fan beam: each set twice, the second projected with a fan beam and the same seeds (the same scenes)', () => {
    const sets = compareSets('fan-beam');
    expect(sets.map((s) => [s.name, s.settings.fanBeam ?? false, s.sameScenes ?? false])).toEqual([
      ['trucks without people', false, false],
      ['trucks without people, fan beam', true, true],
      ['every vehicle without people', false, false],
      ['every vehicle without people, fan beam', true, true],
      ['every vehicle with people', false, false],
      ['every vehicle with people, fan beam', true, true],
    ]);
    expect(firstSeeds(sets, 1_030_000)).toEqual([1_030_000, 1_030_000, 1_031_000, 1_031_000, 1_032_000, 1_032_000]);
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

  it('line pitch: the exports scenes, each read as synthesized and with lines 2x and 0.5x apart, square or named', async () => {
    const sets = compareSets('line-pitch');
    expect(sets.map((s) => [s.settings, s.weight])).toEqual(compareSets('exports').map((s) => [s.settings, s.weight]));
    expect(sets[0]!.views!.map((v) => v.name)).toEqual([
      'as synthesized',
      'lines 2x as far apart, read as square',
      'lines 2x as far apart, line pitch named',
      'lines 0.5x as far apart, read as square',
      'lines 0.5x as far apart, line pitch named',
    ]);
    const scan: ScanImage = { width: 40, height: 8, pixelMm: 5, high: new Uint16Array(320).fill(60000) };
    const read = await Promise.all(LINE_PITCH_VIEWS.map((v) => v.read(scan)));
    expect(read.map((r) => [r.width, r.lineMm])).toEqual([
      [40, undefined],
      [20, undefined],
      [20, 10],
      [80, undefined],
      [80, 2.5],
    ]);
  });

  it('exports: chains given on the command line, each decoded by the estimate, its exact inverse, or both', async () => {
    const v = parseExportVariant('{"scaling":"log","logMax":10,"window":[0.1,0.95],"gamma":1.8,"quality":50}');
    expect(v.name).toBe('export log 10 window 0.1-0.95 gamma 1.8, JPEG 50');
    expect(v.name).toBe(EXPORT_VARIANTS[3]!.name); // named as the card names its chain
    expect([v.chain, v.quality]).toEqual([{ scaling: 'log', logMax: 10, window: [0.1, 0.95], gamma: 1.8 }, 50]);
    expect(parseExportVariant('{"scaling":"linear"}').name).toBe('export linear, PNG');
    expect(parseExportVariant('{"scaling":"linear","invert":true,"gamma":0.7,"quality":80}').name).toBe(
      'export linear inverted gamma 0.7, JPEG 80',
    );
    expect(() => parseExportVariant('{"scaling":"log","logMax":30}')).toThrow(
      '--chain {"scaling":"log","logMax":30}: chain.logMax must be within (0, 20]',
    );
    expect(() => parseExportVariant('{"scaling":"log","qualty":50}')).toThrow('unknown key "qualty" (known: scaling,');
    expect(() => parseExportVariant('{"scaling":"log","quality":101}')).toThrow(
      '--chain {"scaling":"log","quality":101}: quality must be an integer',
    );
    expect(() => parseExportVariant('{}')).toThrow('"scaling" ("linear" or "log") is required');
    expect(() => parseExportVariant('{"scaling":"linear","logMax":10}')).toThrow('"logMax" goes with "scaling":"log"');
    expect(() => parseExportVariant('log 10')).toThrow('--chain: not JSON');
    expect(() => parseExportVariant('[1]')).toThrow('expects a JSON object');

    expect(exportViews([v], 'both').map((w) => w.name)).toEqual([
      'dual energy, 16-bit',
      'high energy only, 16-bit',
      'high energy only, export log 10 window 0.1-0.95 gamma 1.8, JPEG 50, chain estimated',
      'high energy only, export log 10 window 0.1-0.95 gamma 1.8, JPEG 50, chain named',
    ]);
    expect(compareSets('exports', { views: exportViews([v], 'named') })[0]!.views!.map((w) => w.name)).toEqual([
      'dual energy, 16-bit',
      'high energy only, 16-bit',
      'high energy only, export log 10 window 0.1-0.95 gamma 1.8, JPEG 50, chain named',
    ]);
    expect(EXPORT_VIEWS.map((w) => w.name)).toEqual(exportViews(EXPORT_VARIANTS, 'auto').map((w) => w.name));
    // Named and estimated decodings of one export differ where the estimate misses the curve; named is the exact
    // inverse up to quantisation: a log ramp comes back within a few per cent of its attenuation.
    const [width, height] = [64, 32];
    const high = new Uint16Array(width * height).fill(65535);
    for (let y = 8; y < height; y++)
      for (let x = 0; x < width; x++) high[y * width + x] = Math.round(65535 * Math.exp(-0.5 - (4 * x) / width));
    const scan = { width, height, pixelMm: 5, high };
    const log8 = parseExportVariant('{"scaling":"log","logMax":8}');
    const [, , auto, named] = await Promise.all(exportViews([log8], 'both').map((w) => w.read(scan)));
    for (const x of [4, 20, 40, 60]) {
      const i = 20 * width + x;
      const want = 0.5 + (4 * x) / width;
      expect(Math.abs(-Math.log(named!.high[i]! / 65535) - want)).toBeLessThan(0.05 * want + 0.02);
    }
    expect(auto!.high).not.toEqual(named!.high);
  });
});
