import { describe, expect, it } from 'vitest';
import { GENERALISATION_SETS, heldOutFamilies, trainedOnClutter } from '../../../eval/generalisation.js';

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

  it('draws random objects only in its random-object sets, clear scans and scans with people', () => {
    const sets = GENERALISATION_SETS.filter((s) => s.settings.clutter !== undefined);
    expect(sets.map((s) => [s.kind, s.settings.personShare])).toEqual([
      ['random objects', 0],
      ['random objects', 1],
    ]);
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
    // Seeds of the sets never overlap.
    const firsts = GENERALISATION_SETS.map((s) => s.firstSeed);
    expect(new Set(firsts).size).toBe(firsts.length);
  });
});
