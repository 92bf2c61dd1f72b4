import { describe, expect, it } from 'vitest';
import {
  GENERALISATION_SETS,
  heldOutFamilies,
  trainedOnClutter,
  trainedOnFanBeam,
} from '../../../eval/generalisation.js';

describe('generalisation sets', () => {
  it("reads the families a model never saw from its manifest's training.heldOut", () => {
    expect([...heldOutFamilies({ heldOut: 'vehicle=bus, decoy=produce-bin,' })]).toEqual([
      'vehicle=bus',
      'decoy=produce-bin',
    ]);
    expect(heldOutFamilies({}).size).toBe(0);
    expect(heldOutFamilies(undefined).size).toBe(0);
    expect(heldOutFamilies({ heldOut: 42 }).size).toBe(0);
  });

  it("tells from the manifest's training data whether random objects were drawn in", () => {
    expect(
      trainedOnClutter({
        dataset: 'checkpoint-edge sim xray --dual (training 10 mm, training scans with --clutter 6)',
      }),
    ).toBe(true);
    expect(trainedOnClutter({ dataset: 'checkpoint-edge sim xray --dual --format raw --randomize-scanner' })).toBe(
      false,
    );
    expect(trainedOnClutter(undefined)).toBe(false);
  });

  it('draws random objects only in its random-object sets, each the same scenes as a set without them', () => {
    const sets = GENERALISATION_SETS.filter((s) => s.settings.clutter !== undefined);
    expect(sets.map((s) => [s.kind, s.sameScenesAs])).toEqual([
      ['random objects', 'trucks without people'],
      ['random objects', 'main'],
    ]);
    for (const s of sets) {
      const { clutter: _, ...rest } = s.settings;
      if (s.sameScenesAs === 'main') {
        expect(rest).toEqual({ dual: true });
        expect(s.firstSeed).toBeUndefined();
        continue;
      }
      const other = GENERALISATION_SETS.find((x) => x.name === s.sameScenesAs)!;
      expect(rest).toEqual(other.settings);
      expect([s.firstSeed, s.weight]).toEqual([other.firstSeed, other.weight]);
    }
  });

  it('projects with a fan beam only in its fan-beam sets, each the same scenes as a set without it', () => {
    const sets = GENERALISATION_SETS.filter((s) => s.settings.fanBeam !== undefined);
    expect(sets.map((s) => [s.kind, s.sameScenesAs])).toEqual([
      ['fan beam', 'trucks without people'],
      ['fan beam', 'main'],
    ]);
    for (const s of sets) {
      const { fanBeam, ...rest } = s.settings;
      expect(fanBeam).toBe(true);
      if (s.sameScenesAs === 'main') {
        expect(rest).toEqual({ dual: true });
        continue;
      }
      const other = GENERALISATION_SETS.find((x) => x.name === s.sameScenesAs)!;
      expect(rest).toEqual(other.settings);
      expect([s.firstSeed, s.weight]).toEqual([other.firstSeed, other.weight]);
    }
    expect(trainedOnFanBeam({ dataset: 'sim xray --dual (training 10 mm, training scans with --fan-beam 0.5)' })).toBe(
      true,
    );
    expect(trainedOnFanBeam({ dataset: 'sim xray --dual --format raw --randomize-scanner' })).toBe(false);
    expect(trainedOnFanBeam(undefined)).toBe(false);
  });

  it('gives every set of its own scenes seeds no other set reaches, at the most scans eval reads per set (1,000)', () => {
    const own = GENERALISATION_SETS.filter((s) => s.sameScenesAs === undefined);
    const ranges = own.map((s) => [s.firstSeed!, s.firstSeed! + 1000 * s.weight] as const).sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < ranges.length; k++) expect(ranges[k]![0]).toBeGreaterThanOrEqual(ranges[k - 1]![1]);
    // They stay in the synthesizer's test range.
    expect(ranges.at(-1)![1] - 1).toBeLessThanOrEqual(2_099_999);
  });

  it('names every family set as training/train.sh HOLD_OUT does (axis=value)', () => {
    const families = GENERALISATION_SETS.filter((s) => s.kind === 'family').map((s) => s.family);
    expect(families).toEqual([
      'vehicle=bus',
      'trailer=tanker',
      'cargo=furniture',
      'place=cab-roof',
      'decoy=produce-bin',
    ]);
  });
});
