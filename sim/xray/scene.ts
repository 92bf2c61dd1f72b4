import {
  type AgeGroup,
  type BodySpec,
  type Facing,
  type Pose,
  POSES,
  bodySize,
  drawBelongings,
  drawBody,
  samplePose,
  sampleStature,
} from './body.js';
import {
  type CargoDensity,
  type CargoKind,
  type KeepOut,
  CARGO_DENSITIES,
  CARGO_KINDS,
  KINDS_BY_DENSITY,
  cargoExtent,
  cargoSupport,
  cargoTop,
  drawCargo,
  planCargo,
} from './cargo.js';
import { type ClutterBounds, type ClutterKind, CLUTTER_KINDS, drawClutter } from './clutter.js';
import { type DecoyKind, DECOY_HALF_LENGTH, DECOY_KINDS, drawDecoy } from './decoys.js';
import type { Projection } from './projection.js';
import type { Rng } from './prng.js';
import {
  type Space,
  type TrailerKind,
  type VehicleClass,
  type VehicleLayout,
  CAR_LIKE,
  TRAILER_KINDS,
  VEHICLE_CLASSES,
  drawVehicle,
} from './vehicles.js';

/** Where a person is hidden. */
export type HidingPlace =
  | 'among-cargo'
  | 'cavity-in-load'
  | 'cab-sleeper'
  | 'cab-roof'
  | 'false-floor'
  | 'false-wall'
  | 'empty-load'
  | 'under-trailer'
  | 'car-boot'
  | 'behind-seats';
export const HIDING_PLACES: readonly HidingPlace[] = [
  'among-cargo',
  'cavity-in-load',
  'cab-sleeper',
  'cab-roof',
  'false-floor',
  'false-wall',
  'empty-load',
  'under-trailer',
  'car-boot',
  'behind-seats',
];

/** How far either side of the vehicle's centre line a person may lie (mm): a body about 0.5 m deep in a 2.3 m wide load space or cabin. */
const PERSON_ACROSS_MM = 600;

/** What the scene generator may be told; anything left out is drawn at random from the seed. */
export interface SceneOptions {
  vehicleClass?: VehicleClass;
  trailer?: TrailerKind;
  /** Exact number of people; otherwise 0 with probability 1 - personShare, else 1 to 5. */
  peopleCount?: number;
  /** Probability that a scan holds people when peopleCount is not given. Default 0.5. */
  personShare?: number;
  cargoDensity?: CargoDensity;
  cargoKind?: CargoKind;
  /** Hiding place for every person (must suit the vehicle); otherwise drawn per person. */
  hidingPlace?: HidingPlace;
  /** Number of decoys (fewer when the load has no room clear of people); otherwise 0 to 3. */
  decoys?: number;
  /** Every decoy of this kind; otherwise drawn per decoy. */
  decoyKind?: DecoyKind;
  /**
   * Domain randomisation for training data: up to this many objects of random shape, size and
   * material (sim/xray/clutter.ts) over the vehicle, clear of the people, drawn from a random stream
   * of their own, so a scene with 0 (the default) is the same scan bit for bit.
   */
  clutter?: number;
  /** Only these clutter kinds (default: all of CLUTTER_KINDS), for tests of kinds never trained on. */
  clutterKinds?: readonly ClutterKind[];
  /** Force the people to be adults or children. */
  age?: AgeGroup;
  /** Force a pose for every person. */
  pose?: Pose;
  /**
   * Leave the people out of the image but keep everything else, truth included (same scene, same
   * random draws). For tests that compare a scan with and without its people.
   */
  omitPeople?: boolean;
}

export interface SceneDescription {
  vehicleClass: VehicleClass;
  trailer?: TrailerKind;
  cargo: CargoKind;
  /** Measured: mean areal density of the cargo over the load space, categorised. */
  cargoDensity: CargoDensity;
  /** Mean areal density of the cargo over the load space in g/cm^2. */
  cargoArealDensity: number;
  hidingPlaces: HidingPlace[];
  decoys: { kind: DecoyKind; x0Mm: number; x1Mm: number; z0Mm: number; z1Mm: number }[];
  /** Clutter objects drawn (scenes with `clutter` only). */
  clutter?: { kind: ClutterKind; x0Mm: number; x1Mm: number; z0Mm: number; z1Mm: number }[];
  /** Where the vehicle is along the scan, in mm from the start of line 0. */
  vehicleMm: { x0: number; x1: number };
  /** Rear end of the driver's cab (mm from the start of line 0), for vehicles with one. */
  cabRearMm?: number;
}

export interface BuiltScene {
  description: SceneDescription;
  people: {
    spec: BodySpec;
    hidingPlace: HidingPlace;
    capture: ReturnType<Projection['endCapture']>;
    /** Where across the lane the person lies (mm from its centre line; 0 with a parallel beam). */
    acrossMm: number;
  }[];
  /** End of the vehicle in mm. */
  vehicleEndMm: number;
}

const VEHICLE_WEIGHTS: Record<VehicleClass, number> = {
  car: 0.15,
  pickup: 0.08,
  van: 0.15,
  'box-truck': 0.22,
  articulated: 0.32,
  bus: 0.08,
};
const DENSITY_WEIGHTS: Record<CargoDensity, number> = { empty: 0.12, light: 0.3, medium: 0.33, dense: 0.25 };

/** Vehicle classes that offer a hiding place. */
export const VEHICLES_BY_HIDING_PLACE: Readonly<Record<HidingPlace, readonly VehicleClass[]>> = {
  'among-cargo': ['van', 'box-truck', 'articulated', 'bus'],
  'cavity-in-load': ['van', 'box-truck', 'articulated', 'bus'],
  'cab-sleeper': ['box-truck', 'articulated'],
  'cab-roof': ['box-truck', 'articulated'],
  'false-floor': ['box-truck', 'articulated'],
  'false-wall': ['van', 'box-truck', 'articulated'],
  'empty-load': ['van', 'box-truck', 'articulated', 'bus'],
  'under-trailer': ['box-truck', 'articulated'],
  'car-boot': ['car', 'pickup'],
  'behind-seats': ['car', 'pickup', 'van', 'bus'],
};

export function pickVehicle(opts: SceneOptions, rng: Rng): VehicleClass {
  if (opts.hidingPlace !== undefined && !HIDING_PLACES.includes(opts.hidingPlace)) {
    throw new RangeError(`scene: unknown hidingPlace "${opts.hidingPlace}" (one of ${HIDING_PLACES.join(', ')})`);
  }
  if (opts.cargoKind !== undefined && !CARGO_KINDS.includes(opts.cargoKind)) {
    throw new RangeError(`scene: unknown cargoKind "${opts.cargoKind}" (one of ${CARGO_KINDS.join(', ')})`);
  }
  if (opts.decoyKind !== undefined && !DECOY_KINDS.includes(opts.decoyKind))
    throw new RangeError(`scene: unknown decoyKind "${opts.decoyKind}" (one of ${DECOY_KINDS.join(', ')})`);
  if (opts.clutter !== undefined && !(Number.isInteger(opts.clutter) && opts.clutter >= 0 && opts.clutter <= 50))
    throw new RangeError(`scene: clutter must be an integer 0..50, got ${opts.clutter}`);
  if (opts.clutterKinds !== undefined) {
    const unknown = opts.clutterKinds.filter((k) => !CLUTTER_KINDS.includes(k));
    if (unknown.length > 0 || opts.clutterKinds.length === 0)
      throw new RangeError(
        `scene: clutterKinds must name one or more of ${CLUTTER_KINDS.join(', ')}${unknown.length ? `, got "${unknown.join('", "')}"` : ''}`,
      );
  }
  if (opts.pose !== undefined && !POSES.includes(opts.pose))
    throw new RangeError(`scene: unknown pose "${opts.pose}" (one of ${POSES.join(', ')})`);
  if (opts.trailer !== undefined && !TRAILER_KINDS.includes(opts.trailer)) {
    throw new RangeError(`scene: unknown trailer "${opts.trailer}" (one of ${TRAILER_KINDS.join(', ')})`);
  }
  const suitable = opts.hidingPlace ? VEHICLES_BY_HIDING_PLACE[opts.hidingPlace] : VEHICLE_CLASSES;
  if (opts.vehicleClass) {
    if (!VEHICLE_CLASSES.includes(opts.vehicleClass))
      throw new RangeError(`scene: unknown vehicleClass "${opts.vehicleClass}" (one of ${VEHICLE_CLASSES.join(', ')})`);
    if (!suitable.includes(opts.vehicleClass)) {
      throw new RangeError(
        `scene: a ${opts.vehicleClass} has no hiding place "${opts.hidingPlace}" (vehicles that do: ${suitable.join(', ')})`,
      );
    }
    return opts.vehicleClass;
  }
  const weights = Object.fromEntries(suitable.map((c) => [c, VEHICLE_WEIGHTS[c]])) as Record<VehicleClass, number>;
  return rng.weighted(weights);
}

/** Hiding places that a vehicle (and its load) offers. */
function hidingPlacesFor(layout: VehicleLayout, cargo: CargoKind): HidingPlace[] {
  if (CAR_LIKE.includes(layout.vehicleClass)) return ['car-boot', 'behind-seats'];
  const inLoad: HidingPlace[] = cargo === 'empty' ? ['empty-load'] : ['among-cargo', 'cavity-in-load'];
  if (layout.vehicleClass === 'bus') return [...inLoad, 'behind-seats'];
  if (layout.fixedLoad) {
    // A tank: a person fits in an empty one only; no false floor or wall.
    const out: HidingPlace[] = layout.fixedLoad === 'empty' ? ['empty-load'] : [];
    if (layout.behindSeats) out.push('cab-sleeper');
    if (layout.cabRoof) out.push('cab-roof');
    if (layout.underFloor) out.push('under-trailer');
    return out;
  }
  const out: HidingPlace[] = [...inLoad, 'false-wall'];
  if (layout.behindSeats) out.push(layout.vehicleClass === 'van' ? 'behind-seats' : 'cab-sleeper');
  if (layout.vehicleClass !== 'van') out.push('false-floor');
  if (layout.cabRoof) out.push('cab-roof');
  if (layout.underFloor) out.push('under-trailer');
  return out;
}

/**
 * Builds a whole scene into the projection: vehicle, hiding-place structures, cargo with cavities,
 * decoys, and people (each captured for its truth mask). `frontMm` is where the vehicle front is.
 */
export function buildScene(
  proj: Projection,
  opts: SceneOptions,
  vehicleClass: VehicleClass,
  frontMm: number,
  rng: Rng,
  clutterRng?: Rng,
): BuiltScene {
  // A tanker offers no place in a load or behind a false wall, and its tank may be full.
  const tankOk =
    opts.hidingPlace === undefined || ['cab-sleeper', 'cab-roof', 'under-trailer'].includes(opts.hidingPlace);
  const layout = drawVehicle(proj, vehicleClass, frontMm, rng, {
    trailer: opts.trailer,
    roofFairing: opts.hidingPlace === 'cab-roof' ? true : undefined,
    excludeTanker: !tankOk,
  });
  const carLike = CAR_LIKE.includes(vehicleClass);

  // Cargo kind and target density.
  let target: CargoDensity = opts.cargoDensity ?? rng.weighted(DENSITY_WEIGHTS);
  if (!CARGO_DENSITIES.includes(target))
    throw new RangeError(`scene: unknown cargoDensity "${target}" (one of ${CARGO_DENSITIES.join(', ')})`);
  if (opts.hidingPlace === 'empty-load' || layout.fixedLoad) target = 'empty';
  const kinds = carLike
    ? KINDS_BY_DENSITY[target].filter((k) => ['empty', 'boxes', 'textiles', 'produce', 'sacks'].includes(k))
    : KINDS_BY_DENSITY[target];
  let kind: CargoKind = opts.cargoKind ?? rng.pick(kinds.length > 0 ? kinds : ['boxes']);
  if (opts.hidingPlace === 'empty-load' || layout.fixedLoad) kind = 'empty';
  if ((opts.hidingPlace === 'among-cargo' || opts.hidingPlace === 'cavity-in-load') && kind === 'empty') {
    if (opts.cargoKind === 'empty')
      throw new RangeError(`scene: hiding place "${opts.hidingPlace}" needs cargo, but cargoKind is "empty"`);
    kind = rng.pick(KINDS_BY_DENSITY.medium);
    if (target === 'empty') target = 'medium';
  }
  const [fillLo, fillHi, hLo, hHi] = {
    empty: [0, 0, 0, 0],
    light: [0.35, 0.8, 0.35, 0.7],
    medium: [0.55, 1, 0.5, 0.9],
    dense: [0.5, 1, 0.5, 1],
  }[target];
  const fill = carLike ? rng.range(0.3, 0.9) : rng.range(fillLo, fillHi);
  const heightShare = rng.range(hLo, hHi);

  // People: how many, and where each hides.
  let count: number;
  if (opts.peopleCount !== undefined) {
    if (!(Number.isInteger(opts.peopleCount) && opts.peopleCount >= 0 && opts.peopleCount <= 12)) {
      throw new RangeError(`scene: peopleCount must be an integer 0..12, got ${opts.peopleCount}`);
    }
    count = opts.peopleCount;
  } else {
    const share = opts.personShare ?? 0.5;
    if (!(share >= 0 && share <= 1)) throw new RangeError(`scene: personShare must be within 0..1, got ${share}`);
    count = rng.chance(share) ? Number(rng.weighted({ '1': 0.55, '2': 0.22, '3': 0.12, '4': 0.07, '5': 0.04 })) : 0;
  }
  if (carLike) count = Math.min(count, opts.peopleCount ?? 2);
  const places = hidingPlacesFor(layout, kind);
  if (opts.hidingPlace && !places.includes(opts.hidingPlace)) {
    throw new RangeError(
      `scene: hiding place "${opts.hidingPlace}" is not available in a ${vehicleClass} with ${kind} cargo (available: ${places.join(', ')})`,
    );
  }

  // Structures for false floors and walls change the load space the cargo fills.
  const load: Space = { ...layout.load };
  const chosen: HidingPlace[] = [];
  // Small places hold few people; a place chosen by the caller takes everyone regardless.
  const capacity: Partial<Record<HidingPlace, number>> = {
    'cab-sleeper': 2,
    'cab-roof': 2,
    'car-boot': 2,
    'behind-seats': 2,
    'under-trailer': 2,
  };
  for (let k = 0; k < count; k++) {
    const prev = chosen[k - 1];
    const room = (p: HidingPlace) => chosen.filter((c) => c === p).length < (capacity[p] ?? 6);
    const open = places.filter(room);
    if (!opts.hidingPlace && open.length === 0) break;
    chosen.push(opts.hidingPlace ?? (prev && room(prev) && rng.chance(0.55) ? prev : rng.pick(open)));
  }
  const Wd = layout.widthMm;
  let falseFloor: Space | undefined;
  let falseWall: Space | undefined;
  if (chosen.includes('false-floor')) {
    const hc = rng.range(330, 420);
    falseFloor = {
      x0: load.x0 + rng.range(0, 400),
      x1: load.x1 - rng.range(0, 400),
      z0: load.z0,
      z1: load.z0 + hc,
      depth: load.depth,
    };
    proj.box(falseFloor.x0, falseFloor.x1, falseFloor.z1, falseFloor.z1 + 18, Wd * 0.95, {
      material: 'wood',
      density: 0.7,
    });
    proj.box(falseFloor.x0, falseFloor.x1, falseFloor.z1 - 3, falseFloor.z1, Wd * 0.95, { material: 'steel' });
    for (const x of [falseFloor.x0, falseFloor.x1 - 4])
      proj.box(x, x + 4, falseFloor.z0, falseFloor.z1, Wd * 0.95, { material: 'steel' });
    load.z0 = falseFloor.z1 + 18;
  }
  if (chosen.includes('false-wall')) {
    const dw = rng.range(550, 800);
    falseWall = { x0: load.x0, x1: load.x0 + dw, z0: load.z0, z1: load.z1, depth: load.depth };
    const wx = load.x0 + dw;
    const mat = rng.chance(0.5) ? ({ material: 'steel' } as const) : ({ material: 'wood', density: 0.6 } as const);
    const t = mat.material === 'steel' ? 3 : 18;
    proj.box(wx, wx + t, load.z0, load.z1, Wd * 0.95, mat);
    load.x0 = wx + t + 20;
  }
  const plan = planCargo(load, kind, fill, heightShare, target, rng);

  // Place people.
  const keepOut: KeepOut[] = [];
  const people: { spec: BodySpec; hidingPlace: HidingPlace }[] = [];
  const cursor = new Map<HidingPlace, number>();
  for (const place of chosen) {
    const spec = placePerson(place, layout, load, plan, falseFloor, falseWall, opts, cursor, rng);
    if (!spec) continue;
    people.push({ spec, hidingPlace: place });
    if (place === 'among-cargo' || place === 'cavity-in-load' || place === 'empty-load') {
      const size = bodySize(spec);
      const depth = spec.facing === 'side' ? 650 : spec.facing === 'end-on' ? 1500 : 450;
      const z1 = place === 'among-cargo' ? load.z1 : spec.floorZ + size.height + 80;
      keepOut.push({
        x0: spec.x - size.length / 2 - 60,
        x1: spec.x + size.length / 2 + 60,
        z0: spec.floorZ + 5,
        z1,
        depth,
      }); // above what they rest on
      // Sitting on the cargo: reserve what carries them (depth 0 takes nothing away) so that no
      // decoy opens a gap underneath.
      if (spec.floorZ > load.z0 + 1)
        keepOut.push({
          x0: spec.x - size.length / 2 - 700,
          x1: spec.x + size.length / 2 + 700,
          z0: load.z0,
          z1: spec.floorZ,
          depth: 0,
        });
    }
  }

  // Decoys, resting on the load floor in a gap they make in the cargo, or on top of it.
  const decoyCount =
    layout.fixedLoad === 'full' ? 0 : (opts.decoys ?? (rng.chance(0.5) ? 0 : rng.int(1, carLike ? 1 : 3)));
  const decoys: SceneDescription['decoys'] = [];
  const decoySpots: { kind: DecoyKind; x: number; z: number; half: number }[] = [];
  const taken: { x0: number; x1: number }[] = people.map((p) => {
    const size = bodySize(p.spec);
    return { x0: p.spec.x - size.length / 2, x1: p.spec.x + size.length / 2 };
  });
  for (let k = 0; k < decoyCount; k++) {
    const dk = opts.decoyKind ?? rng.pick(DECOY_KINDS);
    const span = load.x1 - load.x0;
    if (span < 800) break;
    const half = DECOY_HALF_LENGTH[dk];
    // A few tries for a spot clear of people and other decoys; none left: the decoy is left out.
    let x = NaN;
    for (let attempt = 0; attempt < 6 && Number.isNaN(x); attempt++) {
      const c = load.x0 + 500 + rng.next() * (span - 1000);
      if (!taken.some((t) => t.x1 > c - half && t.x0 < c + half)) x = c;
    }
    if (Number.isNaN(x)) continue;
    taken.push({ x0: x - half, x1: x + half });
    const free = !keepOut.some((z) => z.x1 > x - half && z.x0 < x + half);
    if ((rng.chance(0.5) && free) || carLike) {
      // On the floor, in a gap it makes in the cargo (never through another gap or a person).
      keepOut.push({ x0: x - half, x1: x + half, z0: load.z0, z1: load.z0 + 1200, depth: 1000 });
      decoySpots.push({ kind: dk, x, z: load.z0, half });
    } else {
      decoySpots.push({ kind: dk, x, z: NaN, half });
    }
  }
  // Decoys on top of the cargo rest on what is left of it once every gap has been made.
  for (const d of decoySpots)
    if (Number.isNaN(d.z)) d.z = cargoTop(plan, d.x - d.half * 0.6, d.x + d.half * 0.6, load.z0, keepOut);
  for (let k = decoySpots.length - 1; k >= 0; k--) if (decoySpots[k].z + 600 > load.z1) decoySpots.splice(k, 1);

  const cargo = drawCargo(proj, plan, load, keepOut);
  const mm = (v: number) => Math.round(v * 10) / 10;
  for (const d of decoySpots) {
    const b = drawDecoy(proj, d.kind, d.x, d.z, rng);
    decoys.push({ kind: d.kind, x0Mm: mm(b.x0), x1Mm: mm(b.x1), z0Mm: mm(b.z0), z1Mm: mm(b.z1) });
  }
  const clutter = opts.clutter
    ? scatterClutter(proj, layout, people, opts.clutter, opts.clutterKinds ?? CLUTTER_KINDS, clutterRng ?? rng)
    : undefined;

  // Windows around each person, and what lies there before any person is drawn (their background).
  const windows = people.map((p) => {
    const size = bodySize(p.spec);
    return proj.window(
      p.spec.x - size.length / 2 - 100,
      p.spec.x + size.length / 2 + 100,
      p.spec.floorZ - 100,
      p.spec.floorZ + size.height + 100,
    );
  });
  const backgrounds = windows.map((w) => proj.copyHigh(w));
  const captured: BuiltScene['people'] = [];
  for (const [k, p] of people.entries()) {
    proj.beginCapture(windows[k], backgrounds[k]);
    proj.captureOnly = opts.omitPeople === true;
    // Anywhere across the load space (a fan beam draws them taller near the source, shorter away from it).
    const acrossMm = proj.somewhereAcross(PERSON_ACROSS_MM, () => {
      const placed = drawBody(proj, p.spec);
      drawBelongings(proj, placed, rng); // part of the person, mask included
    });
    const capture = proj.endCapture();
    proj.captureOnly = false;
    captured.push({ ...p, capture, acrossMm });
  }

  return {
    description: {
      vehicleClass,
      ...(layout.trailer ? { trailer: layout.trailer } : {}),
      cargo: cargo.kind,
      cargoDensity: cargo.density,
      cargoArealDensity: Math.round(cargo.arealDensity * 100) / 100,
      hidingPlaces: [...new Set(people.map((p) => p.hidingPlace))],
      decoys,
      ...(clutter
        ? {
            clutter: clutter.map((c) => ({
              kind: c.kind,
              x0Mm: mm(c.x0),
              x1Mm: mm(c.x1),
              z0Mm: mm(c.z0),
              z1Mm: mm(c.z1),
            })),
          }
        : {}),
      vehicleMm: { x0: Math.round(layout.x0), x1: Math.round(layout.x1) },
      ...(layout.cabRearMm !== undefined ? { cabRearMm: Math.round(layout.cabRearMm) } : {}),
    },
    people: captured,
    vehicleEndMm: layout.x1,
  };
}

/**
 * Up to `most` clutter objects (0..most drawn per scene) anywhere over the vehicle, resting from the
 * ground to 1 m under its roof (so that they stand out of it by 0.5 m at most), each clear of every person's window by 250 mm (a few tries for a spot, else left out).
 */
function scatterClutter(
  proj: Projection,
  layout: VehicleLayout,
  people: readonly { spec: BodySpec }[],
  most: number,
  kinds: readonly ClutterKind[],
  rng: Rng,
): ({ kind: ClutterKind } & ClutterBounds)[] {
  const keepOut = clutterKeepOut(people.map((p) => p.spec));
  const out: ({ kind: ClutterKind } & ClutterBounds)[] = [];
  const n = rng.int(0, most);
  for (let k = 0; k < n; k++) {
    const kind = rng.pick(kinds);
    // The object's extent is known once drawn, so a spot is tried against a generous guess (1.5 m).
    for (let attempt = 0; attempt < 6; attempt++) {
      const x = rng.range(layout.x0, layout.x1);
      const z = rng.range(0, Math.max(0, layout.heightMm - 1000));
      if (!clutterSpotClear(keepOut, x, z)) continue;
      out.push({ kind, ...drawClutter(proj, kind, x, z, layout.widthMm, rng) });
      break;
    }
  }
  return out;
}

/** Clearance (mm) between a clutter object and a person's body. */
export const CLUTTER_CLEARANCE_MM = 250;

/** Where no clutter may reach: each body's extent widened by CLUTTER_CLEARANCE_MM (computed once per scene). */
export function clutterKeepOut(people: readonly BodySpec[]): { x0: number; x1: number; z0: number; z1: number }[] {
  const m = CLUTTER_CLEARANCE_MM;
  return people.map((spec) => {
    const size = bodySize(spec);
    return {
      x0: spec.x - size.length / 2 - m,
      x1: spec.x + size.length / 2 + m,
      z0: spec.floorZ - m,
      z1: spec.floorZ + size.height + m,
    };
  });
}

/**
 * Whether a clutter object resting at (x, z) stays out of `keepOut` (clutterKeepOut): its extent is not known
 * before it is drawn, so the box it may take (1.5 m either side of x, 1.5 m above z: sim/xray/clutter.ts) must.
 */
export function clutterSpotClear(
  keepOut: readonly { x0: number; x1: number; z0: number; z1: number }[],
  x: number,
  z: number,
): boolean {
  return keepOut.every((k) => !(k.x1 > x - 1500 && k.x0 < x + 1500 && k.z1 > z && k.z0 < z + 1500));
}

function placePerson(
  place: HidingPlace,
  layout: VehicleLayout,
  load: Space,
  plan: ReturnType<typeof planCargo>,
  falseFloor: Space | undefined,
  falseWall: Space | undefined,
  opts: SceneOptions,
  cursor: Map<HidingPlace, number>,
  rng: Rng,
): BodySpec | null {
  let space: Space | undefined = {
    'among-cargo': load,
    'cavity-in-load': load,
    'empty-load': load,
    'cab-sleeper': layout.behindSeats,
    'behind-seats': layout.behindSeats,
    'cab-roof': layout.cabRoof,
    'false-floor': falseFloor,
    'false-wall': falseWall,
    'under-trailer': layout.underFloor,
    'car-boot': layout.load,
  }[place];
  if (!space) return null;
  const poses: Pose[] = {
    'among-cargo': ['sitting', 'crouching', 'standing', 'curled'],
    'cavity-in-load': ['sitting', 'crouching', 'curled', 'lying'],
    'empty-load': ['sitting', 'lying', 'crouching', 'standing', 'curled'],
    'cab-sleeper': ['lying', 'curled'],
    'behind-seats': ['curled', 'lying'],
    'cab-roof': ['lying', 'curled'],
    'false-floor': ['lying'],
    'false-wall': ['standing', 'crouching', 'sitting'],
    'under-trailer': ['lying'],
    'car-boot': ['curled', 'lying'],
  }[place] as Pose[];
  const age: AgeGroup = opts.age ?? (rng.chance(0.2) ? 'child' : 'adult');
  const statureMm = sampleStature(age, rng);
  const heading: 1 | -1 = rng.chance(0.5) ? 1 : -1;
  const build = rng.range(0.85, age === 'adult' ? 1.25 : 1.1);
  // In or among the cargo: where the cargo is, not in the empty part of the load space.
  const extent = place === 'among-cargo' || place === 'cavity-in-load' ? cargoExtent(plan) : null;
  if (extent && extent.x1 - extent.x0 > 1200)
    space = { ...space, x0: Math.max(space.x0, extent.x0 + 200), x1: Math.min(space.x1, extent.x1 - 100) };
  const roomH = space.z1 - space.z0;
  const roomL = space.x1 - space.x0;
  // Try poses until one fits the space (or keep the smallest).
  let best: BodySpec | null = null;
  let bestScore = Infinity;
  for (let attempt = 0; attempt < 6; attempt++) {
    const pose = opts.pose ?? rng.pick(poses);
    const facings: Facing[] =
      pose === 'lying' || pose === 'curled'
        ? place === 'cab-sleeper'
          ? ['end-on', 'end-on', 'side', 'beam']
          : place === 'false-floor' || place === 'under-trailer'
            ? ['side']
            : ['side', 'beam', 'end-on']
        : ['beam', 'side'];
    const facing = rng.pick(facings);
    const spec: BodySpec = {
      pose,
      facing,
      age,
      statureMm,
      x: 0,
      y: rng.range(-300, 300),
      floorZ: space.z0,
      heading,
      joints: samplePose(pose, rng),
      build,
    };
    const size = bodySize(spec);
    const over = Math.max(0, size.height - roomH) + Math.max(0, size.length - roomL);
    if (over < bestScore) {
      bestScore = over;
      best = spec;
    }
    if (over === 0) break;
  }
  if (!best) return null;
  const size = bodySize(best);
  // People sharing a place sit side by side along the vehicle.
  const start = cursor.get(place) ?? space.x0 + rng.range(0, Math.max(0, roomL - size.length));
  let x = start + size.length / 2;
  if (x + size.length / 2 > space.x1) x = space.x0 + size.length / 2 + rng.range(0, Math.max(0, roomL - size.length));
  cursor.set(place, x + size.length / 2 + rng.range(50, 300));
  best.x = x;
  if (place === 'among-cargo' && rng.chance(0.3)) {
    // On top of the lower layer of a stack, centred on the item that carries them.
    const support = cargoSupport(plan, x - 80, x + 80);
    if (
      support &&
      support.x1 - support.x0 > size.length * 0.5 &&
      support.z1 + size.height < space.z1 &&
      support.z1 - space.z0 < 1200
    ) {
      best.floorZ = support.z1;
      best.x = (support.x0 + support.x1) / 2;
    }
  }
  return best;
}
