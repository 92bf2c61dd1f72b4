import { type Projection, type Stuff, v3, X, Z } from './projection.js';
import type { Rng } from './prng.js';
import {
  STEEL,
  axle,
  chassisKit,
  containerDoors,
  corrugation,
  disk,
  landingGear,
  ring,
  spareWheel,
  steel,
  tank,
} from './parts.js';

/**
 * Vehicle structures: body shells, chassis rails and cross members, axles and wheels, engine,
 * fuel tank, cab with seats, load space walls, floor and roof. The vehicle drives through front
 * first, so its front is at the low-x end (the first lines of the scan).
 */

export type VehicleClass = 'car' | 'pickup' | 'van' | 'box-truck' | 'articulated' | 'bus';
export const VEHICLE_CLASSES: readonly VehicleClass[] = ['car', 'pickup', 'van', 'box-truck', 'articulated', 'bus'];
/** Load body of an articulated truck. */
export type TrailerKind = 'container' | 'curtain-trailer' | 'tanker' | 'flatbed';
export const TRAILER_KINDS: readonly TrailerKind[] = ['container', 'curtain-trailer', 'tanker', 'flatbed'];
/** Vehicle classes whose load space is a small boot or bed (car-like hiding places and cargo). */
export const CAR_LIKE: readonly VehicleClass[] = ['car', 'pickup'];

/** An axis-aligned region of the vehicle (mm): x along, z height; depth is the usable width across the lane. */
export interface Space {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
  depth: number;
}

export interface VehicleLayout {
  vehicleClass: VehicleClass;
  trailer?: TrailerKind;
  x0: number;
  x1: number;
  widthMm: number;
  heightMm: number;
  /** The load space (cargo area); for cars the boot. */
  load: Space;
  /** Cab interior behind the seats (sleeper bunk for trucks, rear footwell/bench area for cars and vans). */
  behindSeats?: Space;
  /** Above the cab roof inside the roof fairing (trucks with one). */
  cabRoof?: Space;
  /** Between the chassis rails under the load floor, clear of the axles (trucks). */
  underFloor?: Space;
  /** Rear end (mm) of the driver's cab for vehicles whose cab a scanner can scan at reduced dose. */
  cabRearMm?: number;
  /** The load space holds no cargo of its own (a tank): 'empty' when a person could hide in it, 'full' when not. */
  fixedLoad?: 'empty' | 'full';
}

/** Builds the vehicle into the projection, starting at x = frontX, and returns its layout. */
export interface VehicleChoices {
  trailer?: TrailerKind;
  /** Trucks: whether the cab has a roof fairing (random if not given). */
  roofFairing?: boolean;
  /** Never draw a tanker trailer at random (the scene needs a load space or false wall). */
  excludeTanker?: boolean;
}

export function drawVehicle(
  proj: Projection,
  cls: VehicleClass,
  frontX: number,
  rng: Rng,
  choices: VehicleChoices = {},
): VehicleLayout {
  switch (cls) {
    case 'car':
      return drawCar(proj, frontX, rng);
    case 'pickup':
      return drawPickup(proj, frontX, rng);
    case 'bus':
      return drawBus(proj, frontX, rng);
    case 'van':
      return drawVan(proj, frontX, rng);
    case 'box-truck':
      return drawBoxTruck(proj, frontX, rng, choices);
    case 'articulated':
      return drawArticulated(proj, frontX, rng, choices);
  }
}

/** Approximate overall length (mm) of a vehicle class, for sizing the scan. */
export function nominalLengthMm(cls: VehicleClass): number {
  return { car: 4700, pickup: 5600, van: 5900, 'box-truck': 9000, articulated: 16800, bus: 13200 }[cls];
}

/** Two chassis rails (C-channel) running along the vehicle with cross members. */
function chassis(
  proj: Projection,
  x0: number,
  x1: number,
  zTop: number,
  railH: number,
  spacing: number,
  crossEvery: number,
): void {
  const web = 8,
    flange = 80,
    t = 8;
  proj.box(x0, x1, zTop - railH, zTop, 2 * web, STEEL);
  proj.box(x0, x1, zTop - t, zTop, 2 * flange, STEEL);
  proj.box(x0, x1, zTop - railH, zTop - railH + t, 2 * flange, STEEL);
  for (let x = x0 + 300; x < x1 - 100; x += crossEvery)
    proj.box(x, x + 7, zTop - railH + 20, zTop - 20, spacing, STEEL);
}

function engine(proj: Projection, x0: number, z0: number, len: number, h: number, depth: number, rng: Rng): void {
  // Cast-iron block: walls around the cylinder bores, which show as lighter columns; crankshaft
  // and sump below, cylinder head and manifolds above, gearbox behind, radiator in front.
  const iron = steel(rng.range(1.3, 1.8));
  proj.box(x0, x0 + len, z0 + h * 0.25, z0 + h * 0.8, depth, iron);
  const bores = len > 700 ? 6 : 4;
  const pitch = (len * 0.9) / bores;
  for (let k = 0; k < bores; k++) {
    const cx = x0 + len * 0.05 + pitch * (k + 0.5);
    proj.box(cx - pitch * 0.38, cx + pitch * 0.38, z0 + h * 0.42, z0 + h * 0.8, depth * 0.55, {
      material: 'steel',
      density: 1.3,
      sign: -1,
    });
    proj.box(cx - pitch * 0.3, cx + pitch * 0.3, z0 + h * 0.5, z0 + h * 0.62, depth * 0.5, steel(1.4)); // pistons
  }
  proj.cylinder(
    v3(x0 + 30, -depth / 2, z0 + h * 0.3),
    v3(x0 + len - 30, -depth / 2, z0 + h * 0.3),
    Z,
    45,
    { x: 0, y: 1, z: 0 },
    45,
    steel(7.87),
  );
  proj.box(x0 + 20, x0 + len - 20, z0, z0 + h * 0.25, depth * 0.8, steel(0.25)); // sump
  proj.box(x0 + 10, x0 + len - 10, z0 + h * 0.8, z0 + h, depth * 0.9, { material: 'aluminium', density: 1.1 }); // head
  proj.rod(v3(x0 + 40, 0, z0 + h * 0.92), v3(x0 + len - 40, 0, z0 + h * 0.92), 40, steel(3)); // camshaft
  proj.box(x0 + len, x0 + len * 1.45, z0 + h * 0.15, z0 + h * 0.65, depth * 0.45, {
    material: 'aluminium',
    density: 1.6,
  }); // gearbox
  proj.rod(v3(x0 + len * 1.45, 0, z0 + h * 0.35), v3(x0 + len * 2.2, 0, z0 + h * 0.3), 40, steel(2)); // propshaft
  proj.box(x0 - 90, x0 - 40, z0 + h * 0.1, z0 + h * 1.05, depth * 1.3, { material: 'aluminium', density: 0.5 }); // radiator
  proj.ellipsoid(v3(x0 + len * 0.3, 0, z0 + h * 1.05), [X, { x: 0, y: 1, z: 0 }, Z], [120, 100, 90], steel(2)); // turbo / air box
}

function seat(proj: Projection, x: number, floorZ: number, facingFront: boolean, depth: number): void {
  const dir = facingFront ? 1 : -1;
  // Cushion and backrest of foam over a steel frame.
  proj.box(x - 250, x + 250, floorZ + 300, floorZ + 430, depth, { material: 'plastic', density: 0.07 });
  const bx = x + dir * 230;
  proj.plate(bx, floorZ + 420, bx + dir * 120, floorZ + 1050, 110, depth, { material: 'plastic', density: 0.07 });
  proj.box(x - 220, x + 220, floorZ + 40, floorZ + 300, 24, steel(2));
  proj.plate(bx, floorZ + 420, bx + dir * 110, floorZ + 1000, 20, 24, STEEL);
}

/** A shell seen side-on: side panels over the silhouette, and the outline as edge-on sheets. */
function shell(
  proj: Projection,
  outline: [number, number][],
  depth: number,
  sideMm: number,
  edgeMm: number,
  stuff: Stuff = STEEL,
): void {
  proj.bothSides(depth / 2, () => proj.polygon(outline, 2 * sideMm, stuff));
  for (let k = 0; k < outline.length; k++) {
    const [xa, za] = outline[k];
    const [xb, zb] = outline[(k + 1) % outline.length];
    proj.plate(xa, za, xb, zb, edgeMm, depth, stuff);
  }
}

function drawCar(proj: Projection, fx: number, rng: Rng): VehicleLayout {
  const L = rng.range(4100, 4700),
    H = rng.range(1420, 1530),
    Wd = 1800;
  const floor = 220,
    r = rng.range(300, 330);
  const xA = fx + 850,
    xB = fx + L - 900;
  const hoodZ = H * 0.68,
    beltZ = H * 0.66;
  const outline: [number, number][] = [
    [fx, floor + 100],
    [fx + 30, hoodZ - 120],
    [fx + 900, hoodZ],
    [fx + 1550, H - 20],
    [fx + L * 0.72, H],
    [fx + L - 420, beltZ + 80],
    [fx + L - 40, beltZ],
    [fx + L, floor + 120],
    [fx + L - 60, floor],
    [fx + 80, floor],
  ];
  shell(proj, outline, Wd * 0.92, 1.6, 1.2);
  // Door structure and side impact beams below the belt line, glass above it.
  proj.box(fx + 1500, fx + L - 900, floor + 150, beltZ, 2 * 3, steel(4));
  proj.plate(fx + 1550, beltZ + 30, fx + L * 0.72, beltZ + 30, 20, 2 * 5, { material: 'silica', density: 2.5 });
  proj.plate(fx + 900, hoodZ, fx + 1550, H - 20, 6, Wd * 0.85, { material: 'silica', density: 2.5 }); // windscreen
  proj.box(fx + 100, fx + L - 100, floor - 2, floor + 1, Wd * 0.9, STEEL); // floor pan
  chassis(proj, fx + 150, fx + L - 150, floor + 40, 80, 1200, 900);
  engine(proj, fx + 180, floor + 40, 550, 520, 600, rng);
  proj.box(fx + 850, fx + 1000, floor + 350, hoodZ, Wd * 0.8, { material: 'plastic', density: 0.25 }); // dashboard
  proj.box(fx + 850, fx + 900, floor + 500, floor + 560, Wd * 0.9, STEEL); // cross-car beam
  seat(proj, fx + 1750, floor, true, 2 * 520);
  proj.box(fx + L - 1750, fx + L - 1200, floor + 280, floor + 420, Wd * 0.8, { material: 'plastic', density: 0.08 }); // rear bench
  proj.plate(fx + L - 1150, floor + 420, fx + L - 1050, floor + 950, 110, Wd * 0.8, {
    material: 'plastic',
    density: 0.08,
  });
  // Fuel tank under the rear bench, exhaust along the floor, spare wheel in the boot well.
  proj.box(fx + L - 1700, fx + L - 1150, floor - 200, floor - 10, 700, { material: 'plastic', density: 0.84 * 0.7 });
  proj.rod(v3(fx + 400, 900, floor - 60), v3(fx + L - 80, 900, floor - 60), 28, steel(1.2));
  if (rng.chance(0.7)) {
    ring(proj, fx + L - 600, floor + 130, r - rng.range(10, 40), r * 0.58, rng.range(150, 210), { material: 'rubber' });
    disk(proj, fx + L - 600, floor + 130, r * 0.58, rng.range(6, 14), STEEL);
  }
  axle(proj, xA, r, 1500, { twin: false, heavy: false, driven: rng.chance(0.6) }, rng);
  axle(proj, xB, r, 1500, { twin: false, heavy: false, driven: rng.chance(0.3) }, rng);
  return {
    vehicleClass: 'car',
    x0: fx,
    x1: fx + L,
    widthMm: Wd,
    heightMm: H,
    load: { x0: fx + L - 1050, x1: fx + L - 120, z0: floor + 10, z1: beltZ + 40, depth: 1300 },
    behindSeats: { x0: fx + 2050, x1: fx + L - 1750, z0: floor + 10, z1: floor + 450, depth: 1300 },
  };
}

function drawVan(proj: Projection, fx: number, rng: Rng): VehicleLayout {
  const L = rng.range(5000, 5900),
    H = rng.range(2300, 2600),
    Wd = 2000;
  const floor = 480,
    r = rng.range(330, 360);
  const outline: [number, number][] = [
    [fx, floor - 50],
    [fx + 20, 1050],
    [fx + 700, 1250],
    [fx + 1300, H - 60],
    [fx + 1500, H],
    [fx + L - 30, H],
    [fx + L, H - 60],
    [fx + L, floor - 80],
    [fx + 60, floor - 120],
  ];
  shell(proj, outline, Wd * 0.95, 1.8, 1.5);
  // Roof ribs and side pillars of the load box.
  for (let x = fx + 2000; x < fx + L - 300; x += 700) {
    proj.box(x, x + 60, floor + 100, H - 40, 2 * 8, STEEL);
    proj.box(x, x + 50, H - 70, H - 40, Wd * 0.9, steel(1.5));
  }
  proj.plate(fx + 700, 1250, fx + 1300, H - 60, 6, Wd * 0.85, { material: 'silica', density: 2.5 });
  proj.box(fx + 80, fx + L - 40, floor - 3, floor, Wd * 0.95, STEEL);
  chassis(proj, fx + 200, fx + L - 200, floor - 20, 140, 1100, 800);
  engine(proj, fx + 150, floor - 150, 600, 600, 650, rng);
  proj.box(fx + 700, fx + 900, floor + 300, 1250, Wd * 0.8, { material: 'plastic', density: 0.25 });
  seat(proj, fx + 1400, floor, true, 3 * 480);
  // Bulkhead between cab and load area.
  const bulk = fx + 1900;
  proj.box(bulk, bulk + 2, floor, H - 40, Wd * 0.9, STEEL);
  proj.box(bulk - 20, bulk + 20, floor, H - 40, 2 * 20, STEEL);
  proj.box(fx + L - 60, fx + L - 20, floor, H - 60, Wd * 0.8, steel(0.6)); // rear doors seen edge-on
  proj.box(fx + 2300, fx + 3100, floor - 300, floor - 60, 700, { material: 'plastic', density: 0.6 }); // fuel tank
  axle(proj, fx + 900, r, 1700, { twin: false, heavy: false }, rng);
  axle(proj, fx + L - 1100, r, 1700, { twin: rng.chance(0.3), heavy: true, driven: true, spring: 'leaf' }, rng);
  if (rng.chance(0.4)) spareWheel(proj, fx + L - 500, floor - 40, r, rng, false);
  return {
    vehicleClass: 'van',
    cabRearMm: bulk + 20,
    x0: fx,
    x1: fx + L,
    widthMm: Wd,
    heightMm: H,
    load: { x0: bulk + 40, x1: fx + L - 80, z0: floor + 5, z1: H - 80, depth: 1700 },
    behindSeats: { x0: fx + 1650, x1: bulk - 20, z0: floor + 5, z1: floor + 1200, depth: 1700 },
  };
}

/** Truck cab with engine under it; returns the cab's rear x and spaces for hiding places. */
function truckCab(
  proj: Projection,
  fx: number,
  rng: Rng,
  chassisTop: number,
  fairing: boolean | undefined,
): { rear: number; sleeper: Space; roof?: Space; height: number } {
  const len = rng.range(2000, 2400),
    floor = chassisTop + 250,
    roofZ = rng.range(3000, 3300),
    Wd = 2450;
  const outline: [number, number][] = [
    [fx, 600],
    [fx + 30, 1800],
    [fx + 150, roofZ - 150],
    [fx + 350, roofZ],
    [fx + len, roofZ],
    [fx + len, floor - 100],
    [fx + len - 500, 600],
  ];
  shell(proj, outline, Wd * 0.95, 2, 1.8);
  proj.box(fx + 60, fx + len - 40, floor - 3, floor, Wd * 0.9, STEEL);
  proj.plate(fx + 60, 1850, fx + 170, roofZ - 200, 8, Wd * 0.85, { material: 'silica', density: 2.5 });
  // Door frame, pillars and inner panels of the doors.
  proj.box(fx + 600, fx + 1500, 700, floor + 700, 2 * 4, steel(3));
  for (const px of [fx + 560, fx + 1500]) proj.box(px, px + 70, 650, roofZ - 40, 2 * 12, STEEL);
  proj.box(fx + 360, fx + len - 40, roofZ - 60, roofZ - 10, 2 * 10, STEEL);
  // Bumper, grille, steps, mirrors.
  proj.box(fx - 30, fx + 90, 420, 760, Wd * 0.9, steel(0.5));
  proj.box(fx + 10, fx + 60, 800, 1700, Wd * 0.7, { material: 'plastic', density: 0.35 });
  for (const sz of [450, 750]) proj.box(fx + 650, fx + 1000, sz, sz + 25, 2 * 300, steel(2));
  proj.rod(v3(fx - 150, 0, 1900), v3(fx - 120, 0, 2500), 30, steel(2)); // mirror head
  proj.rod(v3(fx - 135, 0, 2350), v3(fx + 120, 0, 2300), 12, STEEL); // mirror arm
  // Dashboard with instruments and the cross-cab beam, steering column and wheel.
  proj.box(fx + 100, fx + 500, floor + 200, 1850, Wd * 0.85, { material: 'plastic', density: 0.2 });
  proj.box(fx + 380, fx + 460, floor + 450, floor + 520, Wd * 0.9, steel(2));
  for (let k = 0; k < 5; k++)
    proj.box(
      fx + 150 + rng.range(0, 250),
      fx + 200 + rng.range(0, 250),
      floor + 300 + rng.range(0, 400),
      floor + 350 + rng.range(0, 400),
      rng.range(100, 400),
      steel(rng.range(0.5, 2)),
    );
  proj.rod(v3(fx + 420, 0, floor + 350), v3(fx + 650, 0, floor + 900), 25, steel(2));
  proj.plate(fx + 600, floor + 1020, fx + 720, floor + 780, 30, 450, steel(1.5));
  engine(proj, fx + 350, chassisTop - 700, 900, 750, 800, rng);
  seat(proj, fx + 900, floor, true, 2 * 550);
  // Sleeper bunk behind the seats.
  const sx0 = fx + 1350,
    sx1 = fx + len - 60;
  proj.box(sx0, sx1, floor + 450, floor + 550, Wd * 0.85, { material: 'plastic', density: 0.08 });
  proj.box(sx0, sx1, floor + 420, floor + 450, Wd * 0.85, { material: 'wood', density: 0.5 });
  const cab: { rear: number; sleeper: Space; roof?: Space; height: number } = {
    rear: fx + len,
    sleeper: { x0: sx0 + 20, x1: sx1 - 20, z0: floor + 560, z1: roofZ - 150, depth: 1900 },
    height: roofZ,
  };
  if (fairing ?? rng.chance(0.6)) {
    // Roof fairing: a plastic shell above the cab.
    const top = roofZ + rng.range(500, 800);
    const fairing: [number, number][] = [
      [fx + 400, roofZ],
      [fx + 1100, top],
      [fx + len, top],
      [fx + len, roofZ],
    ];
    shell(proj, fairing, Wd * 0.9, 4, 4, { material: 'plastic', density: 1.4 });
    cab.roof = { x0: fx + 1050, x1: fx + len - 40, z0: roofZ + 20, z1: top - 30, depth: 1800 };
    cab.height = top;
  }
  return cab;
}

/** Load box (rigid truck or container) walls, floor and roof. */
function loadBox(
  proj: Projection,
  x0: number,
  x1: number,
  floorZ: number,
  roofZ: number,
  Wd: number,
  kind: 'container' | 'box-body' | 'curtain-trailer',
  rng: Rng,
): void {
  const wallMat: Stuff =
    kind === 'container'
      ? STEEL
      : kind === 'box-body'
        ? { material: rng.chance(0.7) ? 'aluminium' : 'plastic', density: rng.range(1.2, 2.7) }
        : { material: 'plastic', density: rng.range(1.0, 1.5) };
  const side =
    kind === 'container' ? rng.range(1.6, 2.0) : kind === 'box-body' ? rng.range(1.5, 3) : rng.range(0.6, 1.4);
  // The side walls, their rails, posts and corrugation stand on both sides of the vehicle.
  proj.bothSides(Wd / 2, () => proj.box(x0, x1, floorZ, roofZ, 2 * side, wallMat));
  // Roof sheet, floor planks and bearers, front wall and rear doors, all seen edge-on.
  proj.box(
    x0,
    x1,
    roofZ,
    roofZ + (kind === 'container' ? 2 : 3),
    Wd * 0.98,
    kind === 'container' ? STEEL : { material: 'aluminium' },
  );
  proj.box(x0, x1, floorZ - 28, floorZ, Wd * 0.98, { material: 'wood', density: 0.7 });
  for (let x = x0 + 150; x < x1 - 100; x += kind === 'container' ? 300 : 400)
    proj.box(x, x + 5, floorZ - 150, floorZ - 28, Wd * 0.95, STEEL);
  const wallDepth = kind === 'container' ? 40 : 30;
  proj.box(
    x0,
    x0 + wallDepth,
    floorZ,
    roofZ,
    (Wd * (kind === 'container' ? 2 : 3)) / wallDepth,
    kind === 'curtain-trailer' ? STEEL : wallMat,
  );
  proj.box(
    x1 - wallDepth,
    x1,
    floorZ,
    roofZ,
    (Wd * 4) / wallDepth,
    kind === 'box-body' ? { material: 'aluminium' } : STEEL,
  );
  // Top and bottom side rails, corner posts.
  proj.bothSides(Wd / 2, () => {
    proj.box(x0, x1, roofZ - 60, roofZ, 2 * 6, STEEL);
    proj.box(x0, x1, floorZ - 160, floorZ, 2 * 9, STEEL);
    for (const px of [x0, x1 - 150]) proj.box(px, px + 150, floorZ - 160, roofZ, 2 * 14, STEEL);
  });
  if (kind === 'container') {
    proj.bothSides(Wd / 2, () => {
      for (const px of [x0, x1 - 180]) {
        proj.box(px, px + 180, floorZ - 160, floorZ - 40, 2 * 60, STEEL);
        proj.box(px, px + 180, roofZ - 118, roofZ, 2 * 60, STEEL);
      }
      corrugation(proj, x0 + 150, x1 - 150, floorZ, roofZ - 60, rng);
    });
    containerDoors(proj, x1, floorZ, roofZ, rng);
  } else if (kind === 'curtain-trailer') {
    proj.bothSides(Wd / 2, () => {
      const step = rng.range(1100, 1700);
      for (let x = x0 + step; x < x1 - 500; x += step)
        proj.box(x, x + rng.range(30, 60), floorZ, roofZ, 2 * rng.range(3, 7), { material: 'aluminium' });
      // Curtain buckles and straps along the bottom rail.
      for (let x = x0 + 300; x < x1 - 300; x += rng.range(450, 700))
        proj.box(x, x + 50, floorZ - 100, floorZ + 200, 2 * 3, steel(3));
    });
  }
}

function drawBoxTruck(proj: Projection, fx: number, rng: Rng, choices: VehicleChoices): VehicleLayout {
  const chassisTop = 1000;
  const cab = truckCab(proj, fx, rng, chassisTop, choices.roofFairing);
  const bodyLen = rng.range(5000, 6800);
  const bx0 = cab.rear + 100,
    bx1 = bx0 + bodyLen;
  const floorZ = chassisTop + 200,
    roofZ = rng.range(3500, 3750),
    Wd = 2480;
  chassis(proj, fx + 200, bx1 - 300, chassisTop, 280, 860, 700);
  loadBox(proj, bx0, bx1, floorZ, roofZ, Wd, 'box-body', rng);
  proj.box(bx0 + 300, bx1 - 300, floorZ - 170, floorZ - 120, 2 * 8, STEEL); // subframe
  const rearAxle = bx0 + bodyLen * rng.range(0.55, 0.68);
  const rw = rng.range(440, 530);
  chassisKit(proj, cab.rear + 100, rearAxle - rw - 150, chassisTop, rng, true);
  axle(proj, fx + 650, rw, 2000, { twin: false, heavy: true, spring: 'leaf' }, rng);
  axle(proj, rearAxle, rw, 1850, { twin: true, heavy: true, driven: true }, rng);
  if (rng.chance(0.3))
    axle(proj, rearAxle + rng.range(1250, 1400), rw, 1850, { twin: rng.chance(0.5), heavy: true }, rng);
  if (rng.chance(0.5)) spareWheel(proj, rearAxle + rw + rng.range(250, 900), chassisTop - 300, rw, rng, true);
  return {
    vehicleClass: 'box-truck',
    cabRearMm: cab.rear,
    x0: fx,
    x1: bx1,
    widthMm: Wd,
    heightMm: roofZ,
    load: { x0: bx0 + 50, x1: bx1 - 60, z0: floorZ, z1: roofZ - 70, depth: 2380 },
    behindSeats: cab.sleeper,
    cabRoof: cab.roof,
    underFloor: { x0: cab.rear + 1500, x1: rearAxle - 700, z0: 520, z1: floorZ - 200, depth: 760 },
  };
}

function drawArticulated(proj: Projection, fx: number, rng: Rng, choices: VehicleChoices): VehicleLayout {
  const chassisTop = rng.range(1000, 1100);
  const trailer =
    choices.trailer ??
    rng.weighted({ container: 0.45, 'curtain-trailer': 0.3, tanker: choices.excludeTanker ? 0 : 0.12, flatbed: 0.13 });
  const cab = truckCab(proj, fx, rng, chassisTop, choices.roofFairing);
  const tractorEnd = fx + rng.range(5600, 6300);
  const rw = rng.range(460, 540);
  chassis(proj, fx + 200, tractorEnd, chassisTop, 280, 860, 700);
  proj.box(
    tractorEnd - 1500,
    tractorEnd - 500,
    chassisTop,
    chassisTop + rng.range(140, 220),
    rng.range(1600, 2200),
    steel(rng.range(0.6, 1.2)),
  ); // fifth wheel
  const rearTractorAxle = tractorEnd - rng.range(900, 1100);
  chassisKit(proj, cab.rear + 80, rearTractorAxle - rw - 120, chassisTop, rng, true);
  axle(proj, fx + 700, rw, 2050, { twin: false, heavy: true, spring: rng.chance(0.7) ? 'leaf' : 'air' }, rng);
  axle(proj, rearTractorAxle, rw, 1850, { twin: true, heavy: true, driven: true }, rng);
  if (rng.chance(0.25))
    axle(
      proj,
      rearTractorAxle - rng.range(1300, 1400),
      rw,
      1850,
      { twin: rng.chance(0.5), heavy: true, driven: rng.chance(0.5) },
      rng,
    );
  if (rng.chance(0.3)) spareWheel(proj, cab.rear + 300, chassisTop + rng.range(700, 1100), rw, rng, true); // behind the cab
  // Trailer: its front overhangs the tractor by the kingpin setback.
  const tx0 = tractorEnd - rng.range(2200, 2700);
  const len =
    trailer === 'container'
      ? rng.pick([12192, 12192, 6058])
      : trailer === 'tanker'
        ? rng.range(10000, 12500)
        : rng.range(12500, 13600);
  const tx1 = tx0 + len;
  const floorZ = trailer === 'container' ? rng.range(1300, 1450) : rng.range(1150, 1300);
  const roofZ =
    trailer === 'container'
      ? floorZ + (rng.chance(0.5) ? 2390 : 2690)
      : trailer === 'curtain-trailer'
        ? rng.range(3900, 4000)
        : floorZ + 2500;
  const Wd = 2480;
  const wheelR = rng.range(440, 520);
  const axles = len > 9000 ? rng.pick([2, 3, 3, 3]) : rng.pick([1, 2, 2]);
  const spacing = rng.range(1250, 1420);
  const firstAxle = tx1 - rng.range(1000, 1800) - (axles - 1) * spacing;
  // Trailer chassis: main beams under the floor (a tanker's tank carries itself), landing gear, axles at the rear.
  if (trailer !== 'tanker')
    chassis(
      proj,
      tx0 + 200,
      tx1 - 100,
      floorZ - (trailer === 'container' ? 0 : 30),
      rng.range(350, 480),
      1000,
      rng.range(700, 1100),
    );
  const legX = tx0 + rng.range(2600, 3300);
  landingGear(proj, legX, floorZ - (trailer === 'tanker' ? 0 : 150), rng);
  if (trailer !== 'tanker') chassisKit(proj, legX + 500, firstAxle - wheelR - 200, floorZ - 150, rng, false);
  for (let k = 0; k < axles; k++)
    axle(
      proj,
      firstAxle + k * spacing,
      wheelR,
      2000,
      { twin: rng.chance(0.3), heavy: true, spring: rng.chance(0.6) ? 'air' : 'leaf' },
      rng,
    );
  if (rng.chance(0.5)) spareWheel(proj, firstAxle - wheelR - rng.range(500, 1500), floorZ - 200, wheelR, rng, true);
  proj.box(tx1 - 150, tx1 - 40, rng.range(400, 550), floorZ - 420, rng.range(2000, 2450), steel(rng.range(0.4, 0.8))); // rear under-run guard
  let load: Space = { x0: tx0 + 60, x1: tx1 - 80, z0: floorZ, z1: roofZ - 70, depth: 2350 };
  let fixedLoad: VehicleLayout['fixedLoad'];
  if (trailer === 'tanker') {
    const r = rng.range(950, 1150),
      zb = rng.range(900, 1150);
    const t = tank(proj, tx0 + 100, tx1 - 100, zb, r, rng);
    fixedLoad = t.empty ? 'empty' : 'full';
    load = { x0: tx0 + 700, x1: tx1 - 700, z0: zb + 120, z1: zb + 2 * r - 300, depth: 1500 };
  } else if (trailer === 'flatbed') {
    proj.box(tx0, tx1, floorZ - 40, floorZ, Wd * 0.98, { material: 'wood', density: rng.range(0.5, 0.8) });
    proj.box(tx0, tx1, floorZ - 200, floorZ - 40, 2 * 8, STEEL); // side rails
    for (let x = tx0 + 300; x < tx1 - 300; x += rng.range(900, 1500))
      if (rng.chance(0.5)) proj.box(x, x + 60, floorZ, floorZ + rng.range(300, 1200), 2 * 6, STEEL); // stakes
    if (rng.chance(0.5)) proj.box(tx0, tx0 + 40, floorZ, floorZ + rng.range(1200, 2400), Wd * 0.9 * 0.05, STEEL); // headboard
  } else {
    loadBox(proj, tx0, tx1, floorZ, roofZ, Wd, trailer, rng);
  }
  return {
    vehicleClass: 'articulated',
    cabRearMm: cab.rear,
    trailer,
    x0: fx,
    x1: Math.max(tx1, tractorEnd),
    widthMm: Wd,
    heightMm: trailer === 'tanker' || trailer === 'flatbed' ? Math.max(cab.height, floorZ + 1500) : roofZ,
    load,
    ...(fixedLoad ? { fixedLoad } : {}),
    behindSeats: cab.sleeper,
    cabRoof: cab.roof,
    underFloor: { x0: legX + 600, x1: firstAxle - wheelR - 300, z0: 500, z1: floorZ - 450, depth: 900 },
  };
}

function drawPickup(proj: Projection, fx: number, rng: Rng): VehicleLayout {
  const L = rng.range(5100, 5700),
    H = rng.range(1750, 1900),
    Wd = 1900;
  const floor = rng.range(450, 550),
    r = rng.range(360, 400);
  const cabEnd = fx + rng.range(2900, 3300);
  const bedZ = floor + rng.range(300, 400),
    sideZ = bedZ + rng.range(450, 550);
  const outline: [number, number][] = [
    [fx, floor],
    [fx + 30, floor + 700],
    [fx + 950, floor + 850],
    [fx + 1600, H],
    [cabEnd - 100, H],
    [cabEnd, H - 60],
    [cabEnd, floor - 60],
    [fx + 60, floor - 80],
  ];
  shell(proj, outline, Wd * 0.92, 1.7, 1.4);
  proj.plate(fx + 950, floor + 850, fx + 1600, H - 30, 6, Wd * 0.85, { material: 'silica', density: 2.5 });
  chassis(proj, fx + 150, fx + L - 150, floor, rng.range(140, 200), 1000, rng.range(700, 1000));
  engine(proj, fx + 150, floor - 100, rng.range(550, 700), rng.range(550, 650), 650, rng);
  proj.box(fx + 900, fx + 1050, floor + 350, floor + 850, Wd * 0.8, { material: 'plastic', density: 0.25 });
  seat(proj, fx + 1800, floor, true, 2 * 520);
  const crew = rng.chance(0.6);
  if (crew) {
    proj.box(cabEnd - 700, cabEnd - 150, floor + 280, floor + 420, Wd * 0.8, { material: 'plastic', density: 0.08 });
    proj.plate(cabEnd - 150, floor + 420, cabEnd - 80, floor + 950, 110, Wd * 0.8, {
      material: 'plastic',
      density: 0.08,
    });
  }
  // Bed: floor, sides, tailgate; sometimes a canopy (hard top) or a roll cover.
  const bx0 = cabEnd + 80,
    bx1 = fx + L;
  proj.box(bx0, bx1, bedZ - 3, bedZ, Wd * 0.9, STEEL);
  proj.box(bx0, bx1, bedZ, sideZ, 2 * 1.2, STEEL);
  proj.box(bx1 - 40, bx1, bedZ, sideZ, Wd * 0.9 * 0.04, STEEL);
  proj.box(bx0, bx0 + 20, bedZ, sideZ, Wd * 0.9 * 0.06, STEEL);
  let top = sideZ;
  if (rng.chance(0.4)) {
    top = H + rng.range(-50, 150);
    shell(
      proj,
      [
        [bx0, sideZ],
        [bx0, top],
        [bx1 - 50, top],
        [bx1, sideZ],
      ],
      Wd * 0.9,
      rng.range(2, 4),
      3,
      { material: 'plastic', density: 1.4 },
    );
  } else if (rng.chance(0.5))
    proj.box(bx0, bx1, sideZ - 10, sideZ, Wd * 0.9, { material: 'aluminium', density: 2.7 * 0.3 });
  proj.box(fx + L - 1400, fx + L - 800, floor - 250, floor - 30, 700, {
    material: 'plastic',
    density: 0.84 * rng.range(0.2, 0.9),
  }); // fuel tank
  if (rng.chance(0.7)) spareWheel(proj, fx + L - 700, floor - 20, r, rng, false);
  axle(proj, fx + 950, r, 1600, { twin: false, heavy: false, driven: rng.chance(0.5) }, rng);
  axle(
    proj,
    bx0 + (bx1 - bx0) * rng.range(0.25, 0.45),
    r,
    1600,
    { twin: false, heavy: true, driven: true, spring: 'leaf' },
    rng,
  );
  return {
    vehicleClass: 'pickup',
    x0: fx,
    x1: fx + L,
    widthMm: Wd,
    heightMm: H,
    load: { x0: bx0 + 40, x1: bx1 - 60, z0: bedZ + 5, z1: Math.max(sideZ, top) - 40, depth: 1450 },
    behindSeats: { x0: fx + 2100, x1: cabEnd - (crew ? 700 : 80), z0: floor + 10, z1: floor + 450, depth: 1400 },
  };
}

function drawBus(proj: Projection, fx: number, rng: Rng): VehicleLayout {
  const L = rng.range(10500, 13200),
    H = rng.range(3200, 3700),
    Wd = 2550;
  const floor = rng.range(1000, 1400),
    r = rng.range(480, 540);
  const outline: [number, number][] = [
    [fx, 400],
    [fx + 40, H - 200],
    [fx + 200, H],
    [fx + L - 100, H],
    [fx + L, H - 150],
    [fx + L, 400],
    [fx + L - 200, 300],
    [fx + 150, 300],
  ];
  shell(proj, outline, Wd * 0.95, rng.range(1.2, 2), 1.5, {
    material: rng.chance(0.5) ? 'aluminium' : 'steel',
    density: rng.chance(0.5) ? 2.7 : 7.87,
  });
  // Body frame: pillars between windows, window band of glass, roof with air-conditioning unit.
  const winZ0 = floor + rng.range(700, 850);
  for (let x = fx + 1200; x < fx + L - 600; x += rng.range(1100, 1500))
    proj.box(x, x + rng.range(60, 100), 400, H - 30, 2 * 6, STEEL);
  proj.box(fx + 300, fx + L - 300, winZ0, H - 250, 2 * 5, { material: 'silica', density: 2.5 });
  proj.box(fx + L * rng.range(0.3, 0.5), fx + L * rng.range(0.55, 0.75), H, H + rng.range(200, 320), 1800, {
    material: 'aluminium',
    density: 0.4,
  });
  proj.box(fx + 100, fx + L - 100, floor - 20, floor, Wd * 0.95, { material: 'wood', density: 0.6 });
  proj.box(fx + 100, fx + L - 100, floor - 23, floor - 20, Wd * 0.95, { material: 'aluminium' });
  // Rows of seats, two pairs across the lane: frame, cushion, backrest.
  const pitch = rng.range(750, 900);
  for (let x = fx + 2200; x < fx + L - 900; x += pitch) seat(proj, x, floor, true, 4 * 450);
  seat(proj, fx + 1100, floor, true, 520); // driver
  proj.box(fx + 150, fx + 600, floor + 200, floor + 900, Wd * 0.8, { material: 'plastic', density: 0.25 }); // dashboard
  // Luggage hold under the floor between the axles, with its doors; engine and gearbox at the rear.
  const frontAxle = fx + rng.range(2400, 2900),
    rearAxle = fx + L - rng.range(2700, 3300);
  const hx0 = frontAxle + r + 300,
    hx1 = rearAxle - r - 300;
  proj.box(hx0, hx1, 350, 380, Wd * 0.9, STEEL);
  for (let x = hx0; x < hx1; x += rng.range(1500, 2500)) proj.box(x, x + 50, 350, floor - 30, 2 * 10, STEEL);
  chassis(proj, fx + 300, fx + L - 300, floor - 30, 200, 1000, rng.range(800, 1200));
  engine(proj, fx + L - 1900, 450, rng.range(900, 1200), rng.range(700, 850), 900, rng);
  proj.box(fx + L - 700, fx + L - 560, 450, 1400, 1600, { material: 'aluminium', density: 0.5 }); // radiator
  chassisKit(proj, frontAxle + r + 100, hx0 + 100, floor - 30, rng, true);
  axle(proj, frontAxle, r, 2100, { twin: false, heavy: true, spring: 'air' }, rng);
  axle(proj, rearAxle, r, 1850, { twin: true, heavy: true, driven: true, spring: 'air' }, rng);
  if (rng.chance(0.3))
    axle(proj, rearAxle + rng.range(1300, 1450), r, 1850, { twin: false, heavy: true, spring: 'air' }, rng);
  return {
    vehicleClass: 'bus',
    x0: fx,
    x1: fx + L,
    widthMm: Wd,
    heightMm: H,
    load: { x0: hx0 + 60, x1: hx1 - 60, z0: 385, z1: floor - 60, depth: 2200 },
    behindSeats: { x0: fx + 2000, x1: fx + L - 1000, z0: floor + 5, z1: floor + 480, depth: 1800 },
  };
}
