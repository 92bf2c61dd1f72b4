import type { EvalSettings } from './test-set.js';

/**
 * Test sets beyond the main one, for an honest look at generalisation: families that can be held out of
 * training (a vehicle type, a trailer, a cargo family, a hiding place, a decoy kind: training/train.sh
 * HOLD_OUT; the model's manifest names those it never saw), scanner pitches other than the training and test pitches, a truck-heavy set without
 * people (false alarms on the structures a fielded lane sees most), and scans with random objects over the
 * vehicle (sim/xray/clutter.ts; a model trained without them has never seen anything like them), and scans projected with a fan beam
 * from a source beside the lane, as fielded scanners see vehicles (docs/xray-synthesizer.md, "Fan-beam geometry"). Each set has its own
 * seeds in the synthesizer's test range, after the main test set's, or the scenes of another set (sameScenesAs).
 */
export interface GeneralisationSet {
  name: string;
  kind: 'family' | 'pitch' | 'no-person trucks' | 'random objects' | 'fan beam';
  description: string;
  /** For a family set: its name in training/train.sh HOLD_OUT (axis=value), which the manifest's training.heldOut lists when the model never saw it. */
  family?: string;
  settings: EvalSettings;
  /** The first of its seeds; none for a set of the main test's scenes (sameScenesAs 'main'): the main test's first. */
  firstSeed?: number;
  /** Scans in this set relative to the per-set count (the truck sets are larger). */
  weight: number;
  /**
   * Random-object and fan-beam sets: the set whose seeds and settings this one shares, objects or fan beam aside
   * ('main': the first scans of the main test set), so the two are the same scenes with and without them (objects and
   * fan-beam geometry have random streams of their own) and are read side by side. Its firstSeed is that set's (none
   * for 'main').
   */
  sameScenesAs?: string;
}

const FIRST = 2_050_000;

export const GENERALISATION_SETS: readonly GeneralisationSet[] = [
  {
    name: 'vehicle: bus',
    kind: 'family',
    family: 'vehicle=bus',
    description: 'buses (luggage hold, seat rows)',
    settings: { vehicleClass: 'bus' },
    weight: 1,
  },
  {
    name: 'trailer: tanker',
    kind: 'family',
    family: 'trailer=tanker',
    description: 'tractors with tanker trailers (full or empty tanks)',
    settings: { vehicleClass: 'articulated', trailer: 'tanker' },
    weight: 1,
  },
  {
    name: 'cargo: furniture',
    kind: 'family',
    family: 'cargo=furniture',
    description: 'furniture loads (sofas, mattresses, flat-packs, tables, chairs)',
    settings: { cargoKind: 'furniture', vehicleClass: 'box-truck' },
    weight: 1,
  },
  {
    name: 'hiding place: cab-roof',
    kind: 'family',
    family: 'place=cab-roof',
    description: 'people in the roof fairing above the cab',
    settings: { hidingPlace: 'cab-roof', vehicleClass: 'articulated' },
    weight: 1,
  },
  {
    name: 'decoy: produce-bin',
    kind: 'family',
    family: 'decoy=produce-bin',
    description: 'bins of potatoes, melons, cabbages as decoys',
    settings: { decoyKind: 'produce-bin', decoys: 2 },
    weight: 1,
  },
  {
    name: 'pitch 4 mm',
    kind: 'pitch',
    description: 'every vehicle family at 4 mm pixels (training 10 mm, validation and main test 5 mm)',
    settings: { pixelMm: 4 },
    weight: 1,
  },
  {
    name: 'pitch 8 mm',
    kind: 'pitch',
    description: 'every vehicle family at 8 mm pixels',
    settings: { pixelMm: 8 },
    weight: 1,
  },
  {
    name: 'trucks without people',
    kind: 'no-person trucks',
    description:
      'tractors with trailers of every kind (container, curtain-sider, tanker, flatbed), no people: false alarms on vehicle anatomy',
    settings: { personShare: 0, vehicleClass: 'articulated' },
    weight: 2,
  },
  {
    name: 'trucks without people, random objects',
    kind: 'random objects',
    description:
      'the scans of the set above with up to 6 objects of random shape and material over the vehicle (sim xray --clutter 6): false alarms on structures of no family the synthesizer draws',
    settings: { personShare: 0, vehicleClass: 'articulated', clutter: 6 },
    weight: 2,
    sameScenesAs: 'trucks without people',
  },
  {
    name: 'test scans with random objects',
    kind: 'random objects',
    description:
      'the first scans of the main test set with up to 6 random objects over the vehicle, clear of the people (sim xray --clutter 6)',
    settings: { clutter: 6 },
    weight: 2,
    sameScenesAs: 'main',
  },
  {
    name: 'trucks without people, fan beam',
    kind: 'fan beam',
    description:
      'the scans of the truck set above projected with a fan beam from a source beside the lane, geometry drawn per scan (sim xray --fan-beam 1)',
    settings: { personShare: 0, vehicleClass: 'articulated', fanBeam: true },
    weight: 2,
    sameScenesAs: 'trucks without people',
  },
  {
    name: 'test scans with a fan beam',
    kind: 'fan beam',
    description: 'the first scans of the main test set projected with a fan beam (sim xray --fan-beam 1)',
    settings: { fanBeam: true },
    weight: 2,
    sameScenesAs: 'main',
  },
].reduce<GeneralisationSet[]>((sets, s) => {
  // A set of its own scenes takes the next 1,000 seeds; a set of the same scenes as another takes that one's.
  const own = sets.filter((x) => x.sameScenesAs === undefined).length;
  const firstSeed =
    s.sameScenesAs === undefined
      ? FIRST + own * 1000
      : s.sameScenesAs === 'main'
        ? undefined
        : sets.find((x) => x.name === s.sameScenesAs)!.firstSeed;
  sets.push({ ...s, settings: { dual: true, ...s.settings }, firstSeed } as GeneralisationSet);
  return sets;
}, []);

/** Whether a model's training data had random objects drawn in (its manifest's training.dataset names --clutter). */
export function trainedOnClutter(training: Record<string, unknown> | undefined): boolean {
  return typeof training?.dataset === 'string' && /--clutter\b/.test(training.dataset);
}

/** Whether a model's training data had fan-beam scans (its manifest's training.dataset names --fan-beam). */
export function trainedOnFanBeam(training: Record<string, unknown> | undefined): boolean {
  return typeof training?.dataset === 'string' && /--fan-beam\b/.test(training.dataset);
}

/** The families a model was trained without, from its manifest's training.heldOut ('axis=value,...'). */
export function heldOutFamilies(training: Record<string, unknown> | undefined): Set<string> {
  const text = training?.heldOut;
  return new Set(
    typeof text === 'string'
      ? text
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : [],
  );
}
