import type { MaterialName } from './materials.js';
import { type Projection, type Stuff, v3, X, Y, Z, normalize, cross } from './projection.js';
import type { Rng } from './prng.js';

/**
 * Clutter: objects of random shape, size, material and texture, scattered over a vehicle anywhere
 * clear of the people (over wheels, tanks, the cab, the load). Nothing like them is meant to be
 * realistic: they are domain randomisation for training data (`clutter` in the scene options,
 * `sim xray --clutter`), so that a detector cannot learn "unlike the synthesizer's vehicles" as
 * its cue for a person. Water-rich lumps, rounded tops, drums, rings and plates are the shapes a
 * fielded scan is full of (produce, bagged cargo tops, tanks, wheels, springs); here they come in
 * every size and material, and none has a head, limbs or a skeleton.
 */

export type ClutterKind = 'lumps' | 'rounded-tops' | 'drum' | 'rings' | 'plates' | 'blob' | 'slab';
export const CLUTTER_KINDS: readonly ClutterKind[] = [
  'lumps',
  'rounded-tops',
  'drum',
  'rings',
  'plates',
  'blob',
  'slab',
];

/** Materials weighted towards the water-rich ones that a person is made of. */
const MATERIAL_WEIGHTS: Readonly<Partial<Record<MaterialName, number>>> = {
  water: 0.2,
  produce: 0.15,
  tissue: 0.1,
  cellulose: 0.1,
  plastic: 0.1,
  rubber: 0.1,
  wood: 0.08,
  silica: 0.05,
  aluminium: 0.05,
  steel: 0.07,
};

/** Nominal densities (g/cm^3) the random density of each material is scaled from. */
const NOMINAL: Readonly<Partial<Record<MaterialName, number>>> = {
  water: 1,
  produce: 0.95,
  tissue: 1.06,
  cellulose: 1.5,
  plastic: 0.95,
  rubber: 1.15,
  wood: 0.55,
  silica: 1.6,
  aluminium: 2.7,
  steel: 7.87,
};

function randomStuff(rng: Rng): Stuff {
  const material = rng.weighted(MATERIAL_WEIGHTS as Record<MaterialName, number>);
  // Bulk (sand, chips, foam, packed produce) to solid; metals also as sheet or mesh.
  const share = material === 'steel' || material === 'aluminium' ? rng.range(0.05, 1) : rng.range(0.3, 1.1);
  return { material, density: (NOMINAL[material] ?? 1) * share, texture: rng.chance(0.5) ? rng.range(0.05, 0.4) : 0 };
}

export interface ClutterBounds {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
}

/**
 * Draws one clutter object of `kind` centred at x, resting at z (mm); returns its extent, which stays
 * within 1.5 m of x and 1.5 m above z. `depth` is how deep the vehicle is along the beam: nothing is
 * drawn deeper than it.
 */
export function drawClutter(
  proj: Projection,
  kind: ClutterKind,
  x: number,
  z: number,
  depth: number,
  rng: Rng,
): ClutterBounds {
  const deep = (lo: number) => rng.range(Math.min(lo, depth), depth);
  switch (kind) {
    case 'lumps': {
      // A pile or a scatter of lumps (potatoes, melons, stones, cans, balls): 3 to 30 ellipsoids.
      const n = rng.int(3, 30),
        w = rng.range(300, 1500),
        size = rng.range(40, 250);
      const stuff = randomStuff(rng);
      const pile = rng.chance(0.6);
      let top = z;
      for (let k = 0; k < n; k++) {
        const r = size * rng.range(0.6, 1.4);
        const cx = x + rng.range(-w / 2, w / 2);
        const cz = pile
          ? z + r + rng.range(0, (w / 2 - Math.abs(cx - x)) * 0.8)
          : z + r + rng.range(0, Math.max(0, w * 0.7 - r));
        const tilt = rng.range(0, Math.PI);
        const e1 = normalize(v3(Math.cos(tilt), 0, Math.sin(tilt)));
        proj.ellipsoid(
          v3(cx, 0, cz),
          [e1, Y, cross(e1, Y)],
          [r, Math.min(r * rng.range(0.6, 3), depth / 2), r * rng.range(0.5, 1)],
          stuff,
        );
        top = Math.max(top, cz + r);
      }
      return { x0: x - w / 2 - size * 1.4, x1: x + w / 2 + size * 1.4, z0: z, z1: top };
    }
    case 'rounded-tops': {
      // A row of bags, sacks or bales whose tops bulge (bagged cargo seen from the side).
      const bw = rng.range(250, 700),
        n = rng.int(2, Math.max(2, Math.floor(3000 / bw))),
        bh = rng.range(150, 900),
        bulge = Math.min(rng.range(0.1, 0.5) * bw, 0.6 * bh);
      const stuff = randomStuff(rng);
      const d = deep(300);
      for (let k = 0; k < n; k++) {
        const bx = x - (n * bw) / 2 + k * bw + bw / 2;
        const h = bh * rng.range(0.8, 1.2);
        proj.box(bx - bw / 2 + 5, bx + bw / 2 - 5, z, z + h, d, stuff);
        proj.cylinder(v3(bx, 0, z + h), v3(bx, d, z + h), X, bw / 2 - 5, Z, bulge, stuff);
      }
      return { x0: x - (n * bw) / 2, x1: x + (n * bw) / 2, z0: z, z1: z + bh * 1.2 + bulge };
    }
    case 'drum': {
      // A tank, drum, roll or pipe: a shell, partly filled; standing, lying along or across the beam.
      const r = rng.range(100, 700),
        len = rng.range(300, 2500);
      const shell: Stuff = rng.chance(0.6)
        ? { material: 'steel', density: 7.87 * rng.range(0.3, 1) }
        : { material: 'plastic', density: 0.95 };
      const wall = rng.range(2, 10);
      const fill = randomStuff(rng);
      const level = rng.range(0, 1);
      const how = rng.pick(['standing', 'along', 'across'] as const);
      if (how === 'standing') {
        const h = Math.min(len, 1500);
        proj.rod(v3(x, 0, z), v3(x, 0, z + h), r, shell);
        proj.rod(v3(x, 0, z), v3(x, 0, z + h), r - wall, { ...shell, sign: -1 });
        if (level > 0.05) proj.rod(v3(x, 0, z), v3(x, 0, z + h * level), r - wall, fill);
        return { x0: x - r, x1: x + r, z0: z, z1: z + h };
      }
      const d = how === 'across' ? Math.min(len, depth) : 0;
      const a = how === 'across' ? v3(x, 0, z + r) : v3(x - len / 2, r, z + r);
      const b = how === 'across' ? v3(x, d, z + r) : v3(x + len / 2, r, z + r);
      const e1 = how === 'across' ? X : Y;
      proj.cylinder(a, b, e1, r, Z, r, shell);
      proj.cylinder(a, b, e1, r - wall, Z, r - wall, { ...shell, sign: -1 });
      if (level > 0.05) {
        // The liquid settles: a smaller cylinder resting on the bottom stands in for the part-filled one.
        const rf = (r - wall) * Math.sqrt(level);
        const lift = v3(0, 0, rf - (r - wall));
        const add = (p: typeof a) => v3(p.x + lift.x, p.y + lift.y, p.z + lift.z);
        proj.cylinder(add(a), add(b), e1, r - wall, Z, rf, fill);
      }
      return how === 'across'
        ? { x0: x - r, x1: x + r, z0: z, z1: z + 2 * r }
        : { x0: x - len / 2, x1: x + len / 2, z0: z, z1: z + 2 * r };
    }
    case 'rings': {
      // Wheel-like rings and disks (tyres, reels, coils, hoops), 1 to 3 side by side, several deep.
      const n = rng.int(1, 3),
        r = rng.range(150, [650, 420, 320][n - 1]);
      const outer = randomStuff(rng),
        inner = randomStuff(rng);
      const d = deep(50);
      for (let k = 0; k < n; k++) {
        const cx = x + (k - (n - 1) / 2) * r * rng.range(2, 2.6);
        const ri = r * rng.range(0.3, 0.8);
        proj.cylinder(v3(cx, 0, z + r), v3(cx, d, z + r), X, r, Z, r, outer);
        proj.cylinder(v3(cx, 0, z + r), v3(cx, d, z + r), X, ri, Z, ri, { ...outer, sign: -1 });
        if (rng.chance(0.6)) {
          const rh = ri * rng.range(0.2, 0.9);
          proj.cylinder(v3(cx, 0, z + r), v3(cx, d * rng.range(0.1, 1), z + r), X, rh, Z, rh, inner);
        }
      }
      const half = ((n - 1) / 2) * r * 2.6 + r;
      return { x0: x - half, x1: x + half, z0: z, z1: z + 2 * r };
    }
    case 'plates': {
      // A stack of bent or flat plates (leaf springs, sheets, boards, pallets), 2 to 12.
      const n = rng.int(2, 12),
        len = rng.range(300, 2000),
        t = rng.range(5, 60),
        sag = rng.chance(0.5) ? rng.range(0, 0.15) * len : 0;
      const stuff = randomStuff(rng);
      const d = deep(50);
      for (let k = 0; k < n; k++) {
        const l = len * (1 - (k / n) * rng.range(0, 0.6));
        const zk = z + t / 2 + k * t * 1.1;
        proj.plate(x - l / 2, zk + sag, x, zk, t, d, stuff);
        proj.plate(x, zk, x + l / 2, zk + sag, t, d, stuff);
      }
      return { x0: x - len / 2 - t, x1: x + len / 2 + t, z0: z, z1: z + t + n * t * 1.1 + sag };
    }
    case 'blob': {
      // One smooth body of any size and aspect: a bale, a boulder, a bladder, a cheese, a heap.
      const s1 = rng.range(100, 750),
        s3 = rng.range(80, 700),
        s2 = Math.min(rng.range(80, 1200), depth / 2);
      const tilt = rng.range(-0.6, 0.6);
      const e1 = normalize(v3(Math.cos(tilt), 0, Math.sin(tilt)));
      const e3 = cross(e1, Y);
      const reach = Math.max(s1, s3);
      proj.ellipsoid(v3(x, 0, z + reach), [e1, Y, e3], [s1, s2, s3], randomStuff(rng));
      return { x0: x - reach, x1: x + reach, z0: z, z1: z + 2 * reach };
    }
    case 'slab': {
      // A random polygon extruded along the beam: machinery, a crate of odd shape, a heap's outline.
      const n = rng.int(3, 7),
        r = rng.range(150, 750);
      const points: [number, number][] = [];
      for (let k = 0; k < n; k++) {
        const a = (2 * Math.PI * (k + rng.range(0, 0.8))) / n;
        const rk = r * rng.range(0.4, 1);
        points.push([x + Math.cos(a) * rk, z + r + Math.sin(a) * rk]);
      }
      proj.polygon(points, deep(50), randomStuff(rng));
      return { x0: x - r, x1: x + r, z0: z, z1: z + 2 * r };
    }
  }
}
