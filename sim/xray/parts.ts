import { type Projection, type Stuff, v3, X, Y, Z } from './projection.js';
import type { Rng } from './prng.js';

/**
 * Vehicle parts that fielded scans are full of and that a detector must learn to ignore: running
 * gear (tyres with steel belts and beads, rims, hubs, brake drums or discs, leaf and air springs),
 * spare wheels, fuel and air tanks, battery and tool boxes, silencers, landing gear, container
 * corrugation and door gear. Every dimension, material and thickness is drawn from a range
 * (domain randomisation): the only stable cue left in a scan should be the human body.
 */

export const STEEL: Stuff = { material: 'steel' };
export const steel = (density = 7.87): Stuff => ({ material: 'steel', density });

/** Disk in the image plane (a cylinder along the beam), `depth` mm of material. */
export function disk(proj: Projection, x: number, z: number, r: number, depth: number, stuff: Stuff): void {
  proj.cylinder(v3(x, 0, z), v3(x, depth, z), X, r, Z, r, stuff);
}

export function ring(
  proj: Projection,
  x: number,
  z: number,
  rOut: number,
  rIn: number,
  depth: number,
  material: Stuff,
): void {
  disk(proj, x, z, rOut, depth, material);
  disk(proj, x, z, rIn, depth, { ...material, sign: -1 });
}

/** One tyre on its rim seen side-on, `count` of them behind each other along the beam. */
export function wheel(
  proj: Projection,
  x: number,
  z: number,
  rWheel: number,
  count: number,
  tyreW: number,
  rng: Rng,
  heavy: boolean,
): void {
  const rRim = rWheel * rng.range(heavy ? 0.52 : 0.55, heavy ? 0.64 : 0.7);
  const wall = rng.range(heavy ? 14 : 8, heavy ? 30 : 18);
  const rubber: Stuff = { material: 'rubber', density: rng.range(1.05, 1.25) };
  // Sidewalls with their radial steel cords, beads (steel wire bundles at the rim), tread band
  // seen edge-on with its steel belts.
  ring(proj, x, z, rWheel - 20, rRim, count * 2 * wall, rubber);
  if (heavy || rng.chance(0.5)) ring(proj, x, z, rWheel - 20, rRim, count * 2 * rng.range(0.5, 2.5), STEEL);
  ring(proj, x, z, rRim + rng.range(15, 35), rRim, count * 2 * rng.range(6, 16), STEEL);
  const tread = rng.range(15, 35);
  ring(proj, x, z, rWheel, rWheel - tread, count * tyreW, rubber);
  ring(
    proj,
    x,
    z,
    rWheel - tread + 2,
    rWheel - tread - 8,
    count * tyreW * rng.range(0.7, 0.9),
    steel(rng.range(1.5, 3.5)),
  );
  // Rim: steel or aluminium disc with hand holes, and the barrel.
  const alu = rng.chance(heavy ? 0.3 : 0.5);
  const rimStuff: Stuff = alu ? { material: 'aluminium' } : STEEL;
  disk(proj, x, z, rRim, count * rng.range(heavy ? 8 : 4, heavy ? 16 : 10) * (alu ? 2.5 : 1), rimStuff);
  const holes = rng.int(0, heavy ? 10 : 6);
  for (let k = 0; k < holes; k++) {
    const a = (2 * Math.PI * k) / holes;
    disk(proj, x + Math.cos(a) * rRim * 0.6, z + Math.sin(a) * rRim * 0.6, rRim * rng.range(0.08, 0.14), count * 8, {
      ...rimStuff,
      sign: -1,
      density: (alu ? 2.7 : 7.87) * 0.5,
    });
  }
  ring(proj, x, z, rRim, rRim - rng.range(5, 12), count * tyreW * 0.8, rimStuff);
  // Wheel nuts on a pitch circle.
  const nuts = heavy ? 10 : rng.pick([4, 5, 6]);
  const pcd = rRim * rng.range(0.32, 0.45);
  for (let k = 0; k < nuts; k++) {
    const a = (2 * Math.PI * k) / nuts + rng.range(0, 0.3);
    disk(proj, x + Math.cos(a) * pcd, z + Math.sin(a) * pcd, heavy ? 16 : 10, count * 40, STEEL);
  }
}

export interface AxleOptions {
  twin: boolean;
  heavy: boolean;
  /** Driven axle (differential housing in the middle). */
  driven?: boolean;
  /** Leaf or air springs, or none drawn (cars: coil springs). */
  spring?: 'leaf' | 'air' | 'coil';
}

/** One axle with its wheels, hubs, brakes, axle beam and suspension. */
export function axle(proj: Projection, x: number, rWheel: number, track: number, o: AxleOptions, rng: Rng): void {
  const z = rWheel;
  const tyres = o.twin ? 4 : 2;
  const tyreW = o.heavy ? rng.range(260, 390) : rng.range(165, 255);
  // Wheels, brakes and hubs stand at either end of the axle, the springs inboard of them; a
  // parallel beam sees each pair as one, a fan beam as two (Projection.bothSides).
  proj.bothSides(track / 2, () => wheelEnd(proj, x, z, rWheel, tyres, tyreW, o, rng));
  // Axle beam or drive shafts across the lane, differential housing on a driven axle.
  const beamR = o.heavy ? rng.range(50, 80) : rng.range(14, 24);
  disk(proj, x, z, beamR, track * rng.range(0.85, 1), STEEL);
  disk(proj, x, z, beamR - 8, track * 0.8, { material: 'steel', sign: -1 });
  if (o.driven)
    proj.ellipsoid(
      v3(x, track / 2, z),
      [X, Y, Z],
      [rng.range(150, 260), rng.range(200, 300), rng.range(150, 230)],
      steel(rng.range(1.2, 2.2)),
    );
  proj.bothSides(track * SPRING_TRACK, () => springs(proj, x, z, rWheel, beamR, o, rng));
}

/** Where springs sit across the vehicle, as a share of the axle's track. */
const SPRING_TRACK = 0.35;

/** One end of an axle: its wheel(s), brake and hub. */
function wheelEnd(
  proj: Projection,
  x: number,
  z: number,
  rWheel: number,
  tyres: number,
  tyreW: number,
  o: AxleOptions,
  rng: Rng,
): void {
  wheel(proj, x, z, rWheel, tyres, tyreW, rng, o.heavy);
  const rRim = rWheel * 0.55;
  // Brake drum (heavy) or disc and caliper, hub.
  if (o.heavy && rng.chance(0.75))
    ring(proj, x, z, rRim * rng.range(0.78, 0.9), rRim * rng.range(0.6, 0.72), tyres * rng.range(90, 160), STEEL);
  else {
    disk(proj, x, z, rRim * rng.range(0.75, 0.9), tyres * rng.range(12, 30), STEEL);
    const ca = rng.range(0, Math.PI);
    proj.box(
      x + Math.cos(ca) * rRim * 0.7 - 50,
      x + Math.cos(ca) * rRim * 0.7 + 50,
      z + Math.sin(ca) * rRim * 0.7 - 40,
      z + Math.sin(ca) * rRim * 0.7 + 40,
      tyres * 60,
      steel(rng.range(3, 6)),
    );
  }
  disk(
    proj,
    x,
    z,
    o.heavy ? rng.range(90, 140) : rng.range(50, 85),
    tyres * (o.heavy ? rng.range(110, 190) : rng.range(40, 80)),
    STEEL,
  );
}

/** The springs of an axle: leaf packs, air bags or coils. */
function springs(
  proj: Projection,
  x: number,
  z: number,
  rWheel: number,
  beamR: number,
  o: AxleOptions,
  rng: Rng,
): void {
  const spring = o.spring ?? (o.heavy ? (rng.chance(0.5) ? 'leaf' : 'air') : 'coil');
  if (spring === 'leaf') {
    // A pack of leaves, longest on top, bowed over the axle, with U-bolts; seen side-on, 2 packs deep.
    const leaves = rng.int(3, 9),
      t = rng.range(10, 20),
      half = rng.range(600, 850);
    for (let k = 0; k < leaves; k++) {
      const l = half * (1 - k * 0.08),
        zz = z + beamR + 20 + (leaves - k) * t;
      proj.plate(x - l, zz + 60, x, zz, t, 2 * rng.range(70, 100), STEEL);
      proj.plate(x, zz, x + l, zz + 60, t, 2 * rng.range(70, 100), STEEL);
    }
    for (const dx of [-70, 70])
      proj.box(x + dx - 10, x + dx + 10, z - beamR - 20, z + beamR + 30 + leaves * t, 2 * 20, STEEL);
  } else if (spring === 'air') {
    // Air bag (rubber bellows) on a trailing arm, with a shock absorber.
    const ax = x + rng.range(200, 420) * (rng.chance(0.5) ? 1 : -1);
    proj.plate(x, z, ax, z + rng.range(-40, 60), rng.range(60, 110), 2 * 90, STEEL);
    const br = rng.range(120, 170),
      bh = rng.range(180, 280);
    proj.cylinder(v3(ax, -br, z + 60), v3(ax, -br, z + 60 + bh), X, br, Y, br, {
      material: 'rubber',
      density: 1.15 * 0.15,
    });
    proj.rod(v3(x - 200, 0, z), v3(x - 260, 0, z + rWheel * 0.9), 30, steel(3));
  } else {
    for (let k = 0; k < 6; k++) proj.rod(v3(x - 60, 0, z + 80 + k * 40), v3(x + 60, 0, z + 100 + k * 40), 6, steel(4));
  }
}

/** A spare wheel: hung upright behind the cab or under the chassis lying flat (seen edge-on). */
export function spareWheel(proj: Projection, x: number, zTop: number, rWheel: number, rng: Rng, heavy: boolean): void {
  if (rng.chance(0.5)) {
    const w = rng.range(heavy ? 260 : 165, heavy ? 330 : 230);
    wheel(proj, x, Math.max(zTop - rWheel, rWheel + 120), rWheel, 1, w, rng, heavy);
    proj.box(x - 40, x + 40, zTop - 60, zTop, 300, steel(2)); // carrier
    return;
  }
  // Lying flat in a cradle: a rubber band with a steel rim in the middle, seen edge-on.
  const w = rng.range(heavy ? 260 : 165, heavy ? 330 : 230);
  const z0 = Math.max(zTop - w - 40, 150);
  proj.box(x - rWheel, x + rWheel, z0, z0 + w, rWheel * 0.5, { material: 'rubber', density: rng.range(1.05, 1.25) });
  proj.box(x - rWheel * 0.6, x + rWheel * 0.6, z0 + 20, z0 + w - 20, rWheel * 0.2, steel(rng.range(2, 4)));
  proj.box(x - rWheel - 40, x + rWheel + 40, z0 - 15, z0, 60, STEEL); // cradle
}

/**
 * Equipment along a truck chassis between x0 and x1, below zTop: fuel tanks (diesel partly
 * filled), air tanks, a battery box, a tool box with tools, a silencer, side under-run rails;
 * each present, sized and placed at random.
 */
export function chassisKit(proj: Projection, x0: number, x1: number, zTop: number, rng: Rng, tractor: boolean): void {
  let x = x0 + rng.range(0, 300);
  const kinds = tractor
    ? ['fuel', 'fuel', 'air', 'battery', 'tools', 'silencer', 'fuel']
    : ['tools', 'fuel', 'air', 'spare', 'none', 'none'];
  while (x < x1 - 400) {
    const kind = rng.pick(kinds);
    const len = Math.min(x1 - x, rng.range(400, kind === 'fuel' ? 1600 : 900));
    switch (kind) {
      case 'fuel': {
        const h = rng.range(400, 700),
          zt = zTop - rng.range(80, 200);
        const wall: Stuff = rng.chance(0.5) ? { material: 'aluminium' } : STEEL;
        const d = rng.range(400, 700);
        const level = rng.range(0.05, 0.95);
        if (rng.chance(0.5)) {
          const r = h / 2;
          proj.rod(v3(x, 0, zt - r), v3(x + len, 0, zt - r), r, {
            ...wall,
            density: (wall.material === 'steel' ? 7.87 : 2.7) * 0.015,
          });
          proj.box(x + 20, x + len - 20, zt - h, zt - h + h * level, d * 0.9, { material: 'plastic', density: 0.84 });
        } else {
          proj.box(x, x + len, zt - h, zt, 2 * rng.range(2, 4), wall);
          proj.box(x, x + len, zt - h, zt - h + 4, d, wall);
          proj.box(x, x + len, zt - 4, zt, d, wall);
          proj.box(x + 10, x + len - 10, zt - h + 4, zt - h + 4 + (h - 8) * level, d * 0.95, {
            material: 'plastic',
            density: 0.84,
          });
        }
        for (const sx of [x + 80, x + len - 100]) proj.box(sx, sx + 20, zt - h - 10, zt + 20, 2 * 40, steel(4)); // straps
        break;
      }
      case 'air': {
        const r = rng.range(110, 160);
        const n = rng.int(1, 3);
        for (let k = 0; k < n; k++) {
          const zc = zTop - 200 - k * (2 * r + 30);
          proj.rod(v3(x, 0, zc), v3(x + len, 0, zc), r, STEEL);
          proj.rod(v3(x + 4, 0, zc), v3(x + len - 4, 0, zc), r - rng.range(3, 6), { material: 'steel', sign: -1 });
        }
        break;
      }
      case 'battery': {
        const h = rng.range(250, 350);
        const cells = rng.int(1, 2);
        proj.box(x, x + Math.min(len, 550), zTop - 150 - h, zTop - 150, cells * 260, {
          material: 'lead',
          density: 11.35 * rng.range(0.3, 0.45),
        });
        proj.box(x - 10, x + Math.min(len, 550) + 10, zTop - 160 - h, zTop - 140, 2 * 3, STEEL);
        break;
      }
      case 'tools': {
        const h = rng.range(350, 600),
          l = Math.min(len, rng.range(500, 1000));
        proj.box(x, x + l, zTop - 100 - h, zTop - 100, 2 * 2.5, STEEL);
        proj.box(x, x + l, zTop - 100 - h, zTop - 100 - h + 3, 500, STEEL);
        for (let k = 0; k < rng.int(2, 8); k++) {
          const tx = x + rng.range(30, l - 80),
            tz = zTop - 100 - h + rng.range(10, h - 60);
          proj.rod(
            v3(tx, 0, tz),
            v3(tx + rng.range(-200, 300), 0, tz + rng.range(-30, 30)),
            rng.range(8, 25),
            steel(rng.range(3, 7.87)),
          );
        }
        break;
      }
      case 'silencer': {
        const r = rng.range(140, 220);
        proj.rod(v3(x, 0, zTop - 250 - r), v3(x + Math.min(len, 900), 0, zTop - 250 - r), r, steel(0.6));
        proj.rod(
          v3(x + Math.min(len, 900), 0, zTop - 250 - r),
          v3(x + Math.min(len, 900) + 200, 0, zTop + rng.range(0, 1800)),
          rng.range(45, 65),
          steel(0.5),
        );
        break;
      }
      case 'spare':
        spareWheel(proj, x + 520, zTop - 80, rng.range(460, 520), rng, true);
        break;
    }
    x += len + rng.range(50, 600);
  }
  if (rng.chance(0.6)) {
    // Side under-run guard: two rails along the side, seen face-on.
    const za = rng.range(450, 650);
    for (const dz of [0, rng.range(180, 300)])
      proj.box(x0, x1, za + dz, za + dz + rng.range(50, 100), 2 * rng.range(2, 4), {
        material: rng.chance(0.5) ? 'aluminium' : 'steel',
      });
  }
}

/** Trailer landing gear: two telescopic legs with a crank gearbox, cross-bracing and sand shoes. */
export function landingGear(proj: Projection, x: number, underZ: number, rng: Rng): void {
  const foot = rng.range(150, 350);
  const w = rng.range(100, 160);
  proj.box(x - w / 2, x + w / 2, foot, underZ, 2 * rng.range(4, 8), STEEL); // outer tubes
  proj.box(x - w / 2 + 12, x + w / 2 - 12, foot - 40, underZ - rng.range(300, 500), 2 * rng.range(4, 8), STEEL); // inner legs
  proj.box(x - 150, x + 150, foot - 60, foot - 30, 2 * 300, steel(3)); // sand shoes
  proj.box(x - 80, x + 80, underZ - 450, underZ - 250, 200, steel(2)); // gearbox
  proj.rod(v3(x, 0, underZ - 350), v3(x, 2400, underZ - 350), 18, STEEL); // cross shaft
  proj.plate(x - w / 2, underZ - 100, x + rng.range(-900, -400), underZ - rng.range(500, 800), 40, 2 * 5, STEEL); // brace
  if (rng.chance(0.6)) proj.rod(v3(x + 80, 0, underZ - 350), v3(x + 250, 0, underZ - 600), 10, STEEL); // crank handle
}

/**
 * Container side-wall corrugation (trapezoidal, about 100 mm pitch in the image): the beam crosses
 * the inclined flanks obliquely, so the side walls show as vertical stripes of varying thickness.
 */
export function corrugation(proj: Projection, x0: number, x1: number, z0: number, z1: number, rng: Rng): void {
  const pitch = rng.range(250, 290) / 2,
    t = rng.range(1.6, 2.0);
  const extra = rng.range(0.6, 1.6); // relative extra path through the flanks
  for (let x = x0; x < x1 - pitch; x += pitch) proj.box(x, x + pitch * 0.25, z0, z1, 2 * t * extra, STEEL);
}

/** Container rear doors: header, sill, hinges, four locking bars with cams, keepers and handles. */
export function containerDoors(proj: Projection, xDoor: number, floorZ: number, roofZ: number, rng: Rng): void {
  proj.box(xDoor - 150, xDoor, roofZ - rng.range(120, 200), roofZ, 2400, steel(rng.range(0.3, 0.6))); // header
  proj.box(xDoor - 150, xDoor, floorZ - 120, floorZ + 40, 2400, steel(rng.range(0.3, 0.6))); // sill
  const bars = rng.chance(0.8) ? 4 : 2;
  for (let k = 0; k < bars; k++) {
    const dx = rng.range(20, 110);
    proj.rod(
      v3(xDoor - dx, 0, floorZ),
      v3(xDoor - dx, 0, roofZ),
      rng.range(12, 18),
      steel(7.87 * (bars === 4 ? 1 : 2)),
    );
    for (const zz of [floorZ + 20, roofZ - 60]) proj.box(xDoor - dx - 40, xDoor - dx + 40, zz, zz + 60, 60, STEEL); // cams
    const hz = floorZ + rng.range(900, 1300);
    proj.box(xDoor - dx - 10, xDoor - dx + 10, hz, hz + rng.range(250, 450), 60, STEEL); // handle
  }
  for (let k = 0; k < rng.int(3, 5); k++) {
    const hz = floorZ + ((roofZ - floorZ) * (k + 0.5)) / 4;
    proj.box(xDoor - 60, xDoor, hz, hz + 100, 2 * 100, steel(3)); // hinges
  }
}

/** A tank (tanker trailer): shell, baffles, partly filled with a liquid; returns nothing. */
export function tank(
  proj: Projection,
  x0: number,
  x1: number,
  zBottom: number,
  r: number,
  rng: Rng,
): { empty: boolean } {
  const wall = rng.chance(0.5) ? { material: 'aluminium' as const } : STEEL;
  const t = wall === STEEL ? rng.range(4, 6) : rng.range(6, 9);
  const zc = zBottom + r;
  proj.cylinder(v3(x0, 1200, zc), v3(x1, 1200, zc), Z, r, Y, r * rng.range(1.0, 1.2), wall);
  proj.cylinder(v3(x0 + t, 1200, zc), v3(x1 - t, 1200, zc), Z, r - t, Y, r * rng.range(1.0, 1.2) - t, {
    ...wall,
    sign: -1,
  });
  const comps = rng.int(2, 5);
  for (let k = 1; k < comps; k++) {
    const bx = x0 + ((x1 - x0) * k) / comps;
    proj.box(bx - 3, bx + 3, zc - r * 0.95, zc + r * 0.95, 2 * r * 0.85, wall); // baffle seen edge-on
  }
  const empty = rng.chance(0.4);
  if (!empty) {
    const liquid: Stuff = rng.pick([
      { material: 'water' },
      { material: 'plastic', density: 0.84 },
      { material: 'plastic', density: 0.74 },
      { material: 'water', density: 1.3 },
    ] as Stuff[]);
    const level = rng.range(0.3, 0.95);
    const zl = zc - r + 2 * r * level;
    // Liquid below the level: the chord of the circle at each height, approximated by slabs.
    for (let z = zc - r; z < zl; z += 40) {
      const zz = Math.min(zl, z + 40),
        zm = (z + zz) / 2;
      const half = Math.sqrt(Math.max(0, r * r - (zm - zc) ** 2));
      proj.box(x0 + t, x1 - t, z, zz, 2 * half, liquid);
    }
  }
  // Catwalk, manholes on top and the valve gear below.
  proj.box(x0 + 200, x1 - 200, zc + r + 60, zc + r + 90, 2 * 5, { material: 'aluminium' });
  for (let k = 0; k < comps; k++)
    disk(proj, x0 + ((x1 - x0) * (k + 0.5)) / comps, zc + r + 40, rng.range(200, 260), 40, STEEL);
  for (let k = 0; k < comps; k++)
    proj.rod(
      v3(x0 + ((x1 - x0) * (k + 0.5)) / comps, 0, zc - r),
      v3(x0 + ((x1 - x0) * (k + 0.5)) / comps, 0, zc - r - 250),
      rng.range(40, 60),
      steel(2),
    );
  return { empty };
}
