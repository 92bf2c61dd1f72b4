import { type Projection, type Stuff, v3, X, Z } from './projection.js';
import type { Rng } from './prng.js';

/**
 * Vehicle structures: body shells, chassis rails and cross members, axles and wheels, engine,
 * fuel tank, cab with seats, load space walls, floor and roof. The vehicle drives through front
 * first, so its front is at the low-x end (the first lines of the scan).
 */

export type VehicleClass = 'car' | 'van' | 'box-truck' | 'articulated';
export const VEHICLE_CLASSES: readonly VehicleClass[] = ['car', 'van', 'box-truck', 'articulated'];
/** Load body of an articulated truck. */
export type TrailerKind = 'container' | 'curtain-trailer';

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
}

const STEEL: Stuff = { material: 'steel' };
const steel = (density = 7.87): Stuff => ({ material: 'steel', density });

/** Builds the vehicle into the projection, starting at x = frontX, and returns its layout. */
export interface VehicleChoices {
  trailer?: TrailerKind;
  /** Trucks: whether the cab has a roof fairing (random if not given). */
  roofFairing?: boolean;
}

export function drawVehicle(proj: Projection, cls: VehicleClass, frontX: number, rng: Rng, choices: VehicleChoices = {}): VehicleLayout {
  switch (cls) {
    case 'car':
      return drawCar(proj, frontX, rng);
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
  return { car: 4700, van: 5900, 'box-truck': 9000, articulated: 16800 }[cls];
}

/** Disk in the image plane (a cylinder along the beam), `depth` mm of material. */
export function disk(proj: Projection, x: number, z: number, r: number, depth: number, stuff: Stuff): void {
  proj.cylinder(v3(x, 0, z), v3(x, depth, z), X, r, Z, r, stuff);
}

function ring(proj: Projection, x: number, z: number, rOut: number, rIn: number, depth: number, material: Stuff): void {
  disk(proj, x, z, rOut, depth, material);
  disk(proj, x, z, rIn, depth, { ...material, sign: -1 });
}

/** One axle with its wheels (2 tyres, or 4 with twin tyres), hubs, brakes and the axle beam. */
function axle(proj: Projection, x: number, rWheel: number, track: number, twin: boolean, heavy: boolean): void {
  const z = rWheel;
  const tyres = twin ? 4 : 2;
  const tyreW = heavy ? 300 : 200;
  const rRim = rWheel * (heavy ? 0.58 : 0.62);
  // Sidewalls (two per tyre, with their steel cords and beads), then the tread band seen edge-on
  // with its steel belts.
  ring(proj, x, z, rWheel - 20, rRim, tyres * 2 * (heavy ? 24 : 14), { material: 'rubber' });
  ring(proj, x, z, rWheel - 20, rRim, tyres * 2 * (heavy ? 2 : 1), STEEL);
  ring(proj, x, z, rRim + 25, rRim, tyres * 2 * 12, STEEL);
  ring(proj, x, z, rWheel, rWheel - 25, tyres * tyreW, { material: 'rubber' });
  ring(proj, x, z, rWheel - 24, rWheel - 34, tyres * tyreW, steel(2.5));
  // Rim: disc and barrel.
  disk(proj, x, z, rRim, tyres * (heavy ? 12 : 6), STEEL);
  ring(proj, x, z, rRim, rRim - 8, tyres * tyreW * 0.8, STEEL);
  // Brake drum or disc, hub.
  ring(proj, x, z, rRim * 0.85, rRim * 0.7, tyres * (heavy ? 120 : 30), STEEL);
  disk(proj, x, z, heavy ? 120 : 70, tyres * (heavy ? 150 : 60), STEEL);
  // The axle beam or drive shafts across the lane.
  disk(proj, x, z, heavy ? 65 : 18, track, STEEL);
}

/** Two chassis rails (C-channel) running along the vehicle with cross members. */
function chassis(proj: Projection, x0: number, x1: number, zTop: number, railH: number, spacing: number, crossEvery: number): void {
  const web = 8, flange = 80, t = 8;
  proj.box(x0, x1, zTop - railH, zTop, 2 * web, STEEL);
  proj.box(x0, x1, zTop - t, zTop, 2 * flange, STEEL);
  proj.box(x0, x1, zTop - railH, zTop - railH + t, 2 * flange, STEEL);
  for (let x = x0 + 300; x < x1 - 100; x += crossEvery) proj.box(x, x + 7, zTop - railH + 20, zTop - 20, spacing, STEEL);
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
    proj.box(cx - pitch * 0.38, cx + pitch * 0.38, z0 + h * 0.42, z0 + h * 0.8, depth * 0.55, { material: 'steel', density: 1.3, sign: -1 });
    proj.box(cx - pitch * 0.3, cx + pitch * 0.3, z0 + h * 0.5, z0 + h * 0.62, depth * 0.5, steel(1.4)); // pistons
  }
  proj.cylinder(v3(x0 + 30, -depth / 2, z0 + h * 0.3), v3(x0 + len - 30, -depth / 2, z0 + h * 0.3), Z, 45, { x: 0, y: 1, z: 0 }, 45, steel(7.87));
  proj.box(x0 + 20, x0 + len - 20, z0, z0 + h * 0.25, depth * 0.8, steel(0.25)); // sump
  proj.box(x0 + 10, x0 + len - 10, z0 + h * 0.8, z0 + h, depth * 0.9, { material: 'aluminium', density: 1.1 }); // head
  proj.rod(v3(x0 + 40, 0, z0 + h * 0.92), v3(x0 + len - 40, 0, z0 + h * 0.92), 40, steel(3)); // camshaft
  proj.box(x0 + len, x0 + len * 1.45, z0 + h * 0.15, z0 + h * 0.65, depth * 0.45, { material: 'aluminium', density: 1.6 }); // gearbox
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
function shell(proj: Projection, outline: [number, number][], depth: number, sideMm: number, edgeMm: number, stuff: Stuff = STEEL): void {
  proj.polygon(outline, 2 * sideMm, stuff);
  for (let k = 0; k < outline.length; k++) {
    const [xa, za] = outline[k];
    const [xb, zb] = outline[(k + 1) % outline.length];
    proj.plate(xa, za, xb, zb, edgeMm, depth, stuff);
  }
}

function drawCar(proj: Projection, fx: number, rng: Rng): VehicleLayout {
  const L = rng.range(4100, 4700), H = rng.range(1420, 1530), Wd = 1800;
  const floor = 220, r = rng.range(300, 330);
  const xA = fx + 850, xB = fx + L - 900;
  const hoodZ = H * 0.68, beltZ = H * 0.66;
  const outline: [number, number][] = [
    [fx, floor + 100], [fx + 30, hoodZ - 120], [fx + 900, hoodZ], [fx + 1550, H - 20], [fx + L * 0.72, H],
    [fx + L - 420, beltZ + 80], [fx + L - 40, beltZ], [fx + L, floor + 120], [fx + L - 60, floor], [fx + 80, floor],
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
  proj.plate(fx + L - 1150, floor + 420, fx + L - 1050, floor + 950, 110, Wd * 0.8, { material: 'plastic', density: 0.08 });
  // Fuel tank under the rear bench, exhaust along the floor, spare wheel in the boot well.
  proj.box(fx + L - 1700, fx + L - 1150, floor - 200, floor - 10, 700, { material: 'plastic', density: 0.84 * 0.7 });
  proj.rod(v3(fx + 400, 900, floor - 60), v3(fx + L - 80, 900, floor - 60), 28, steel(1.2));
  ring(proj, fx + L - 600, floor + 130, 280, 180, 190, { material: 'rubber' });
  disk(proj, fx + L - 600, floor + 130, 180, 12, STEEL);
  axle(proj, xA, r, 1500, false, false);
  axle(proj, xB, r, 1500, false, false);
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
  const L = rng.range(5000, 5900), H = rng.range(2300, 2600), Wd = 2000;
  const floor = 480, r = rng.range(330, 360);
  const outline: [number, number][] = [
    [fx, floor - 50], [fx + 20, 1050], [fx + 700, 1250], [fx + 1300, H - 60], [fx + 1500, H],
    [fx + L - 30, H], [fx + L, H - 60], [fx + L, floor - 80], [fx + 60, floor - 120],
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
  axle(proj, fx + 900, r, 1700, false, false);
  axle(proj, fx + L - 1100, r, 1700, rng.chance(0.3), true);
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
function truckCab(proj: Projection, fx: number, rng: Rng, chassisTop: number, fairing: boolean | undefined): { rear: number; sleeper: Space; roof?: Space; height: number } {
  const len = rng.range(2000, 2400), floor = chassisTop + 250, roofZ = rng.range(3000, 3300), Wd = 2450;
  const outline: [number, number][] = [
    [fx, 600], [fx + 30, 1800], [fx + 150, roofZ - 150], [fx + 350, roofZ], [fx + len, roofZ], [fx + len, floor - 100], [fx + len - 500, 600],
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
  for (let k = 0; k < 5; k++) proj.box(fx + 150 + rng.range(0, 250), fx + 200 + rng.range(0, 250), floor + 300 + rng.range(0, 400), floor + 350 + rng.range(0, 400), rng.range(100, 400), steel(rng.range(0.5, 2)));
  proj.rod(v3(fx + 420, 0, floor + 350), v3(fx + 650, 0, floor + 900), 25, steel(2));
  proj.plate(fx + 600, floor + 1020, fx + 720, floor + 780, 30, 450, steel(1.5));
  engine(proj, fx + 350, chassisTop - 700, 900, 750, 800, rng);
  seat(proj, fx + 900, floor, true, 2 * 550);
  // Battery box (lead-acid), air tanks, exhaust silencer, along the chassis behind the cab.
  proj.box(fx + len + 150, fx + len + 650, chassisTop - 650, chassisTop - 350, 500, { material: 'lead', density: 11.35 * 0.35 });
  for (const dz of [0, 290]) {
    const a = v3(fx + len + 900, 0, chassisTop - 450 + dz), b = v3(fx + len + 1800, 0, chassisTop - 450 + dz);
    proj.rod(a, b, 130, STEEL);
    proj.rod(v3(a.x + 4, 0, a.z), v3(b.x - 4, 0, b.z), 126, { material: 'steel', sign: -1 });
  }
  proj.rod(v3(fx + 700, 300, chassisTop - 550), v3(fx + 1500, 300, chassisTop - 550), 180, steel(0.6));
  // Sleeper bunk behind the seats.
  const sx0 = fx + 1350, sx1 = fx + len - 60;
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
    const fairing: [number, number][] = [[fx + 400, roofZ], [fx + 1100, top], [fx + len, top], [fx + len, roofZ]];
    shell(proj, fairing, Wd * 0.9, 4, 4, { material: 'plastic', density: 1.4 });
    cab.roof = { x0: fx + 1050, x1: fx + len - 40, z0: roofZ + 20, z1: top - 30, depth: 1800 };
    cab.height = top;
  }
  return cab;
}

/** Load box (rigid truck or container) walls, floor and roof. */
function loadBox(proj: Projection, x0: number, x1: number, floorZ: number, roofZ: number, Wd: number, kind: 'container' | 'box-body' | 'curtain-trailer'): void {
  const wallMat: Stuff = kind === 'container' ? STEEL : kind === 'box-body' ? { material: 'aluminium' } : { material: 'plastic', density: 1.3 };
  const side = kind === 'container' ? 1.6 * 1.2 : kind === 'box-body' ? 2 : 1;
  proj.box(x0, x1, floorZ, roofZ, 2 * side, wallMat);
  // Roof sheet, floor planks and bearers, front wall and rear doors, all seen edge-on.
  proj.box(x0, x1, roofZ, roofZ + (kind === 'container' ? 2 : 3), Wd * 0.98, kind === 'container' ? STEEL : { material: 'aluminium' });
  proj.box(x0, x1, floorZ - 28, floorZ, Wd * 0.98, { material: 'wood', density: 0.7 });
  for (let x = x0 + 150; x < x1 - 100; x += kind === 'container' ? 300 : 400) proj.box(x, x + 5, floorZ - 150, floorZ - 28, Wd * 0.95, STEEL);
  const wallDepth = kind === 'container' ? 40 : 30;
  proj.box(x0, x0 + wallDepth, floorZ, roofZ, (Wd * (kind === 'container' ? 2 : 3)) / wallDepth, kind === 'curtain-trailer' ? STEEL : wallMat);
  proj.box(x1 - wallDepth, x1, floorZ, roofZ, (Wd * 4) / wallDepth, kind === 'box-body' ? { material: 'aluminium' } : STEEL);
  // Top and bottom side rails, corner posts.
  proj.box(x0, x1, roofZ - 60, roofZ, 2 * 6, STEEL);
  proj.box(x0, x1, floorZ - 160, floorZ, 2 * 9, STEEL);
  for (const px of [x0, x1 - 150]) proj.box(px, px + 150, floorZ - 160, roofZ, 2 * 14, STEEL);
  if (kind === 'container') {
    for (const px of [x0, x1 - 180]) {
      proj.box(px, px + 180, floorZ - 160, floorZ - 40, 2 * 60, STEEL);
      proj.box(px, px + 180, roofZ - 118, roofZ, 2 * 60, STEEL);
    }
    // Door locking bars.
    for (const dx of [40, 90]) proj.rod(v3(x1 - dx, 0, floorZ), v3(x1 - dx, 0, roofZ), 14, { material: 'steel', density: 7.87 * 2 });
  } else if (kind === 'curtain-trailer') {
    for (let x = x0 + 1200; x < x1 - 500; x += 1300) proj.box(x, x + 40, floorZ, roofZ, 2 * 5, { material: 'aluminium' });
  }
}

function drawBoxTruck(proj: Projection, fx: number, rng: Rng, choices: VehicleChoices): VehicleLayout {
  const chassisTop = 1000;
  const cab = truckCab(proj, fx, rng, chassisTop, choices.roofFairing);
  const bodyLen = rng.range(5000, 6800);
  const bx0 = cab.rear + 100, bx1 = bx0 + bodyLen;
  const floorZ = chassisTop + 200, roofZ = rng.range(3500, 3750), Wd = 2480;
  chassis(proj, fx + 200, bx1 - 300, chassisTop, 280, 860, 700);
  loadBox(proj, bx0, bx1, floorZ, roofZ, Wd, 'box-body');
  proj.box(bx0 + 300, bx1 - 300, floorZ - 170, floorZ - 120, 2 * 8, STEEL); // subframe
  proj.rod(v3(cab.rear + 300, 200, chassisTop - 380), v3(cab.rear + 1300, 200, chassisTop - 380), 260, { material: 'aluminium', density: 2.7 * 0.03 });
  proj.rod(v3(cab.rear + 300, 200, chassisTop - 380), v3(cab.rear + 1300, 200, chassisTop - 380), 250, { material: 'plastic', density: 0.84 * 0.8 }); // diesel tank
  const rearAxle = bx0 + bodyLen * 0.62;
  axle(proj, fx + 650, 480, 2000, false, true);
  axle(proj, rearAxle, 480, 1850, true, true);
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
  const chassisTop = 1050;
  const trailer = choices.trailer ?? (rng.chance(0.6) ? 'container' : 'curtain-trailer');
  const cab = truckCab(proj, fx, rng, chassisTop, choices.roofFairing);
  const tractorEnd = fx + rng.range(5600, 6100);
  chassis(proj, fx + 200, tractorEnd, chassisTop, 280, 860, 700);
  proj.box(tractorEnd - 1500, tractorEnd - 500, chassisTop, chassisTop + 180, 2000, steel(0.9)); // fifth wheel
  proj.rod(v3(cab.rear + 100, 200, chassisTop - 400), v3(cab.rear + 1400, 200, chassisTop - 400), 300, { material: 'plastic', density: 0.84 * 0.8 });
  axle(proj, fx + 700, 500, 2050, false, true);
  axle(proj, tractorEnd - 1000, 500, 1850, true, true);
  // Trailer: its front overhangs the tractor by the kingpin setback.
  const tx0 = tractorEnd - 2400;
  const len = trailer === 'container' ? rng.pick([12192, 12192, 6058]) : rng.range(13000, 13600);
  const tx1 = tx0 + len;
  const floorZ = trailer === 'container' ? 1400 : 1250;
  const roofZ = trailer === 'container' ? floorZ + (rng.chance(0.5) ? 2390 : 2690) : 4000;
  const Wd = 2480;
  // Trailer chassis: main beams under the floor, landing legs, axles at the rear.
  chassis(proj, tx0 + 200, tx1 - 100, floorZ - (trailer === 'container' ? 0 : 30), 420, 1000, 900);
  for (const dx of [0, 60]) proj.box(tx0 + 2900 + dx, tx0 + 2950 + dx, 350, floorZ - 400, 2 * 40, steel(4));
  loadBox(proj, tx0, tx1, floorZ, roofZ, Wd, trailer === 'container' ? 'container' : 'curtain-trailer');
  const axles = len > 9000 ? 3 : 2;
  const firstAxle = tx1 - 1400 - (axles - 1) * 1310;
  for (let k = 0; k < axles; k++) axle(proj, firstAxle + k * 1310, 480, 2000, false, true);
  proj.box(tx1 - 150, tx1 - 40, 450, floorZ - 420, 2400, steel(0.6)); // rear under-run guard
  return {
    vehicleClass: 'articulated',
    cabRearMm: cab.rear,
    trailer,
    x0: fx,
    x1: Math.max(tx1, tractorEnd),
    widthMm: Wd,
    heightMm: roofZ,
    load: { x0: tx0 + 60, x1: tx1 - 80, z0: floorZ, z1: roofZ - 70, depth: 2350 },
    behindSeats: cab.sleeper,
    cabRoof: cab.roof,
    underFloor: { x0: tractorEnd + 300, x1: firstAxle - 700, z0: 500, z1: floorZ - 450, depth: 900 },
  };
}
