import { type Projection, type Stuff, v3, X, Y, Z } from './projection.js';
import type { Rng } from './prng.js';
import type { Space } from './vehicles.js';

/**
 * Cargo: the load is laid out as items along the load space, each `rows` deep across the lane
 * (identical items side by side along the beam are drawn once with their density multiplied by
 * the number of rows, which is exact for a parallel beam). A hiding place is a keep-out zone:
 * items that overlap it lose as many rows as the zone is deep, which opens a cavity in the load
 * the way smugglers do it, by leaving out boxes.
 */

export type CargoKind =
  | 'empty'
  | 'boxes'
  | 'sacks'
  | 'textiles'
  | 'produce'
  | 'wood'
  | 'machinery'
  | 'drums'
  | 'tyres'
  | 'scrap'
  | 'bags'
  | 'rolls'
  | 'crates'
  | 'appliances'
  | 'furniture'
  | 'bulk'
  | 'mixed';
export const CARGO_KINDS: readonly CargoKind[] = [
  'empty',
  'boxes',
  'sacks',
  'textiles',
  'produce',
  'wood',
  'machinery',
  'drums',
  'tyres',
  'scrap',
  'bags',
  'rolls',
  'crates',
  'appliances',
  'furniture',
  'bulk',
  'mixed',
];
export type CargoDensity = 'empty' | 'light' | 'medium' | 'dense';
export const CARGO_DENSITIES: readonly CargoDensity[] = ['empty', 'light', 'medium', 'dense'];

/** Mean areal density (g/cm^2 along the beam, averaged over the load space) bounding each category. */
const CARGO_DENSITY_LIMITS = { empty: 2, light: 10, medium: 25 } as const;

function densityCategory(arealGcm2: number): CargoDensity {
  if (arealGcm2 < CARGO_DENSITY_LIMITS.empty) return 'empty';
  if (arealGcm2 < CARGO_DENSITY_LIMITS.light) return 'light';
  if (arealGcm2 < CARGO_DENSITY_LIMITS.medium) return 'medium';
  return 'dense';
}

/** Kinds of cargo likely to give each density category (the measured category is what is recorded). */
export const KINDS_BY_DENSITY: Readonly<Record<CargoDensity, readonly CargoKind[]>> = {
  empty: ['empty'],
  light: ['boxes', 'textiles', 'produce', 'tyres', 'furniture', 'appliances', 'bags', 'mixed'],
  medium: [
    'boxes',
    'textiles',
    'produce',
    'wood',
    'sacks',
    'bags',
    'rolls',
    'crates',
    'furniture',
    'appliances',
    'mixed',
  ],
  dense: ['sacks', 'machinery', 'drums', 'scrap', 'wood', 'bags', 'rolls', 'crates', 'bulk', 'mixed'],
};

export interface KeepOut {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
  /** How deep (mm, along the beam) the cavity reaches into the load. */
  depth: number;
}

interface Item {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
  rows: number;
  /** Draws the item `rows` deep; returns its mass in grams. */
  draw(proj: Projection, rows: number): number;
}

export interface CargoPlan {
  kind: CargoKind;
  items: Item[];
  rowDepth: number;
}

export interface CargoResult {
  kind: CargoKind;
  /** Mean areal density over the load space, g/cm^2. */
  arealDensity: number;
  density: CargoDensity;
}

/** Lays out cargo of a kind filling `fill` (0..1) of the load length and up to `heightShare` of its height. */
export function planCargo(
  space: Space,
  kind: CargoKind,
  fill: number,
  heightShare: number,
  target: CargoDensity,
  rng: Rng,
): CargoPlan {
  const items: Item[] = [];
  const avail = space.x1 - space.x0;
  const end = space.x0 + avail * Math.min(1, Math.max(0, fill));
  const hMax = (space.z1 - space.z0) * heightShare;
  const floor = space.z0;
  // Items side by side across the lane tile its depth: pallets ~1.2 m, drums 0.59 m, sacks 0.45 m, tyres 0.78 m.
  // Narrow load spaces (vans) take cartons two deep rather than one pallet.
  const nominal =
    kind === 'wood' || kind === 'machinery' || kind === 'scrap' || kind === 'bulk'
      ? space.depth
      : kind === 'drums'
        ? 590
        : kind === 'sacks'
          ? 450
          : kind === 'tyres'
            ? 780
            : Math.min(1180, space.depth / 2);
  const rows = Math.max(
    1,
    kind === 'drums' || kind === 'sacks' ? Math.floor(space.depth / nominal) : Math.round(space.depth / nominal),
  );
  const rowDepth = kind === 'drums' || kind === 'sacks' ? nominal : space.depth / rows;
  // Bulk goods are packed lighter or heavier to suit the density wanted.
  const level = { empty: 0.3, light: 0.8, medium: 1.2, dense: 2.6 }[target];
  let x = space.x0 + rng.range(0, 150);
  if (kind === 'empty') {
    if (avail > 1500 && rng.chance(0.5)) items.push(pallet(space.x0 + rng.range(0, avail - 1300), floor, 1, rng));
    return { kind, items, rowDepth };
  }
  if (avail < 1500) {
    // A car boot: luggage, bags and boxes, no pallets.
    luggage(items, space, kind, level, rng);
    return { kind, items, rowDepth: space.depth };
  }
  while (x < end - 300) {
    const k =
      kind === 'mixed'
        ? rng.pick([
            'boxes',
            'sacks',
            'textiles',
            'produce',
            'drums',
            'tyres',
            'machinery',
            'bags',
            'crates',
            'appliances',
            'furniture',
          ] as const)
        : kind;
    const len = Math.min(end - x, k === 'wood' || k === 'bulk' ? rng.range(2000, 4000) : 1200);
    const before = items.length;
    switch (k) {
      case 'boxes':
      case 'produce':
        cartons(items, x, len, floor, hMax, rows, rowDepth, k, level, rng);
        break;
      case 'textiles':
        bales(items, x, len, floor, hMax, rows, rowDepth, level, rng);
        break;
      case 'sacks':
        sacks(items, x, len, floor, hMax, rows, level, rng);
        break;
      case 'wood':
        timber(items, x, len, floor, hMax, rows, rowDepth, level, rng);
        break;
      case 'machinery':
        machine(items, x, len, floor, hMax, rowDepth, level, rng);
        break;
      case 'drums':
        drums(items, x, len, floor, hMax, rows, rng);
        break;
      case 'tyres':
        tyres(items, x, len, floor, hMax, rows, rowDepth, rng);
        break;
      case 'scrap':
        scrap(items, x, len, floor, hMax, rowDepth, level, rng);
        break;
      case 'bags':
        bigBags(items, x, len, floor, hMax, rows, rowDepth, level, rng);
        break;
      case 'rolls':
        rolls(items, x, len, floor, hMax, rows, rowDepth, level, rng);
        break;
      case 'crates':
        crates(items, x, len, floor, hMax, rows, rowDepth, rng);
        break;
      case 'appliances':
        appliances(items, x, len, floor, hMax, rows, rowDepth, rng);
        break;
      case 'furniture':
        furniture(items, x, len, floor, hMax, rows, rowDepth, rng);
        break;
      case 'bulk':
        bulk(items, x, len, floor, hMax, rowDepth, level, rng);
        break;
    }
    if (items.length === before) break;
    x += len + rng.range(20, kind === 'scrap' ? 50 : 250);
  }
  return { kind, items, rowDepth };
}

/** Draws a planned load with keep-out zones; returns the measured density. */
export function drawCargo(proj: Projection, plan: CargoPlan, space: Space, keepOut: readonly KeepOut[]): CargoResult {
  let mass = 0;
  for (const it of plan.items) {
    const rows = rowsLeft(it, plan.rowDepth, keepOut);
    if (rows > 0) mass += it.draw(proj, rows);
  }
  const areaCm2 = ((space.x1 - space.x0) * (space.z1 - space.z0)) / 100;
  const arealDensity = mass / areaCm2;
  return {
    kind: mass > 0 || plan.kind === 'empty' ? plan.kind : 'empty',
    arealDensity,
    density: densityCategory(arealDensity),
  };
}

/** Where the cargo is along the load (mm), or null when there is none. */
export function cargoExtent(plan: CargoPlan): { x0: number; x1: number } | null {
  if (plan.items.length === 0) return null;
  let x0 = Infinity,
    x1 = -Infinity;
  for (const it of plan.items) {
    x0 = Math.min(x0, it.x0);
    x1 = Math.max(x1, it.x1);
  }
  return { x0, x1 };
}

/** Highest cargo top (mm) over an x range, or the floor. */
export function cargoTop(
  plan: CargoPlan,
  x0: number,
  x1: number,
  floor: number,
  keepOut: readonly KeepOut[] = [],
): number {
  let top = floor;
  for (const it of plan.items)
    if (it.x1 > x0 && it.x0 < x1 && rowsLeft(it, plan.rowDepth, keepOut) > 0) top = Math.max(top, it.z1);
  return top;
}

/** The highest item over an x range (its extent in mm), or null where there is none. */
export function cargoSupport(plan: CargoPlan, x0: number, x1: number): { x0: number; x1: number; z1: number } | null {
  let best: Item | null = null;
  for (const it of plan.items) if (it.x1 > x0 && it.x0 < x1 && (!best || it.z1 > best.z1)) best = it;
  return best ? { x0: best.x0, x1: best.x1, z1: best.z1 } : null;
}

/** Rows of an item that remain after the keep-out zones that overlap it took theirs. */
function rowsLeft(it: Item, rowDepth: number, keepOut: readonly KeepOut[]): number {
  let rows = it.rows;
  for (const z of keepOut)
    if (it.x1 > z.x0 && it.x0 < z.x1 && it.z1 > z.z0 && it.z0 < z.z1) rows -= Math.ceil(z.depth / rowDepth);
  return rows;
}

function boxItem(x0: number, x1: number, z0: number, z1: number, rows: number, rowDepth: number, stuff: Stuff): Item {
  const rho = stuff.density ?? 1;
  return {
    x0,
    x1,
    z0,
    z1,
    rows,
    draw: (proj, n) => {
      proj.box(x0, x1, z0, z1, rowDepth * n, stuff);
      return ((x1 - x0) * (z1 - z0) * rowDepth * n * rho) / 1000;
    },
  };
}

function pallet(x: number, floor: number, rows: number, rng: Rng): Item {
  const rho = rng.range(0.3, 0.45);
  return {
    x0: x,
    x1: x + 1200,
    z0: floor,
    z1: floor + 144,
    rows,
    draw: (proj, n) => {
      // Deck boards top and bottom, blocks between.
      proj.box(x, x + 1200, floor + 122, floor + 144, 1000 * n, { material: 'wood', density: rho * 1.6 });
      proj.box(x, x + 1200, floor, floor + 22, 1000 * n, { material: 'wood', density: rho });
      for (const bx of [0, 550, 1100])
        proj.box(x + bx, x + bx + 100, floor + 22, floor + 122, 1000 * n, { material: 'wood', density: 0.6 });
      return (1200 * 144 * 1000 * n * rho) / 1000;
    },
  };
}

function cartons(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rows: number,
  rowDepth: number,
  kind: 'boxes' | 'produce',
  level: number,
  rng: Rng,
): void {
  items.push(pallet(x, floor, rows, rng));
  const base = floor + 144;
  const top = base + rng.range(0.4, 1) * (hMax - 144);
  const content: Stuff =
    kind === 'produce'
      ? { material: 'produce', density: level * rng.range(0.2, 0.45), texture: 0.35 }
      : rng.pick<Stuff>([
          { material: 'cellulose', density: level * rng.range(0.08, 0.3), texture: 0.25 },
          { material: 'plastic', density: level * rng.range(0.08, 0.25), texture: 0.25 },
          { material: 'water', density: level * rng.range(0.15, 0.4), texture: 0.15 },
          { material: 'aluminium', density: level * rng.range(0.03, 0.1), texture: 0.3 },
        ]);
  // Cartons: two sizes per pallet, interlocked layers, some cartons missing from the top layer,
  // contents varying carton to carton.
  const sizes = [rng.range(300, 600), rng.range(300, 600)];
  const ch = rng.range(250, 500);
  let layer = 0;
  for (let z = base; z + ch <= top + 1; z += ch, layer++) {
    const cw = sizes[layer % 2];
    const last = z + 2 * ch > top + 1;
    const shift = layer % 2 ? rng.range(0, cw / 2) : 0;
    for (let cx = x + shift; cx + cw <= x + len + 1; cx += cw) {
      if (last && rng.chance(0.3)) continue;
      const d = (content.density ?? 0.2) * rng.range(0.7, 1.3);
      const h = ch * (last ? rng.range(0.7, 1) : 1);
      items.push(
        boxItem(cx + 5, cx + cw - 5, z + 3, z + h - 3, rows, rowDepth * rng.range(0.85, 1), { ...content, density: d }),
      );
      // Cardboard walls and flaps seen edge-on.
      items.push(boxItem(cx + 3, cx + 8, z + 3, z + h - 3, rows, rowDepth, { material: 'cellulose', density: 0.7 }));
      items.push(
        boxItem(cx + 5, cx + cw - 5, z + h - 8, z + h - 3, rows, rowDepth, { material: 'cellulose', density: 0.5 }),
      );
    }
  }
}

function luggage(items: Item[], space: Space, kind: CargoKind, level: number, rng: Rng): void {
  let x = space.x0 + rng.range(0, 60);
  const n = rng.int(1, 4);
  for (let k = 0; k < n && x < space.x1 - 150; k++) {
    const w = Math.min(space.x1 - x, rng.range(250, 650)),
      h = Math.min(space.z1 - space.z0, rng.range(200, 550));
    const z0 = space.z0 + (rng.chance(0.3) && k > 0 ? rng.range(0, 200) : 0);
    const stuff: Stuff =
      kind === 'sacks'
        ? { material: 'produce', density: 0.6 * level }
        : kind === 'produce'
          ? { material: 'produce', density: 0.4 * level, texture: 0.3 }
          : {
              material: rng.pick(['cellulose', 'plastic'] as const),
              density: rng.range(0.1, 0.3) * level,
              texture: 0.3,
            };
    items.push(boxItem(x, x + w, z0, Math.min(space.z1, z0 + h), 1, space.depth * rng.range(0.3, 0.7), stuff));
    items.push(
      boxItem(x, x + 6, z0, Math.min(space.z1, z0 + h), 1, space.depth * 0.5, { material: 'steel', density: 0.8 }),
    ); // frames, zips, handles
    x += w + rng.range(10, 150);
  }
}

function bales(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rows: number,
  rowDepth: number,
  level: number,
  rng: Rng,
): void {
  const bw = rng.range(700, 1100),
    bh = rng.range(450, 800);
  const top = floor + rng.range(0.5, 1) * hMax;
  const mat = rng.pick(['cellulose', 'plastic'] as const);
  for (let z = floor; z + bh <= top + 1; z += bh) {
    for (let bx = x; bx + bw <= x + len + 1; bx += bw) {
      items.push(
        boxItem(bx + 10, bx + bw - 10, z + 5, z + bh - 5, rows, rowDepth, {
          material: mat,
          density: level * rng.range(0.15, 0.35),
          texture: 0.4,
        }),
      );
      items.push(
        boxItem(bx + 10, bx + bw - 10, z + bh - 15, z + bh - 5, rows, rowDepth, { material: 'steel', density: 0.3 }),
      ); // strapping
    }
  }
}

function sacks(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rows: number,
  level: number,
  rng: Rng,
): void {
  items.push(pallet(x, floor, rows, rng));
  const stuff: Stuff =
    level > 2 && rng.chance(0.6)
      ? { material: 'silica', density: rng.range(1.2, 1.5) }
      : { material: 'produce', density: rng.range(0.55, 0.8) };
  hMax *= Math.min(1, level / 1.6);
  const sh = rng.range(130, 190),
    sl = rng.range(550, 700);
  const layers = Math.max(1, Math.floor((rng.range(0.4, 0.9) * hMax - 144) / sh));
  // Filled sacks settle into slabs with rounded ends: a layer is a textured slab, each sack adds a
  // bulge, and alternate layers are offset by half a sack, as they are stacked.
  const rho = stuff.density ?? 1;
  for (let layer = 0; layer < layers; layer++) {
    const z = floor + 144 + layer * sh;
    const x0 = x + (layer % 2 ? sl * 0.25 : 0);
    const x1 = Math.min(x + len, x0 + Math.floor(len / sl) * sl);
    if (x1 - x0 < sl / 2) continue;
    const lean = rng.range(-20, 20);
    items.push({
      x0,
      x1,
      z0: z,
      z1: z + sh,
      rows,
      draw: (proj, n) => {
        proj.box(x0 + 60, x1 - 60, z, z + sh, 0.75 * 450 * n, { ...stuff, density: rho, texture: 0.35 });
        let m = ((x1 - x0 - 120) * sh * 0.75 * 450 * n * rho) / 1000;
        for (let sx = x0 + sl / 2; sx < x1; sx += sl) {
          const cx = sx + lean;
          proj.ellipsoid(v3(cx, 0, z + sh / 2), [X, Y, Z], [sl / 2 - 40, 200, sh * 0.5], {
            ...stuff,
            density: rho * 0.25 * n,
          });
          m += ((4 / 3) * Math.PI * (sl / 2 - 40) * 200 * sh * 0.5 * rho * 0.25 * n) / 1000;
        }
        return m;
      },
    });
  }
}

function timber(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rows: number,
  rowDepth: number,
  level: number,
  rng: Rng,
): void {
  const top = floor + rng.range(0.3, 0.8) * hMax;
  const plank = rng.range(40, 100),
    gap = rng.range(15, 40);
  const rho = rng.range(0.45, 0.7) * Math.min(1.3, level / 1.2);
  for (let z = floor + 100; z + plank <= top; z += plank + gap) {
    items.push(
      boxItem(x, x + len, z, z + plank, rows, rowDepth * rng.range(0.8, 0.95), {
        material: 'wood',
        density: rho,
        texture: 0.1,
      }),
    );
    items.push(
      boxItem(x + 100, x + 160, z + plank, z + plank + gap, rows, rowDepth * 0.9, { material: 'wood', density: rho }),
    );
  }
}

function machine(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rowDepth: number,
  level: number,
  rng: Rng,
): void {
  items.push(pallet(x, floor, 1, rng));
  const h = Math.min(hMax, rng.range(600, 1800));
  const base = floor + 144;
  const d = rowDepth * rng.range(0.25, 0.5);
  const body = rng.range(0.35, 0.7);
  // A machine: cast body, motors and shafts, gears, a steel frame, and a wooden crate around it.
  items.push(
    boxItem(x + 150, x + len - 150, base, base + h * body, 1, d, {
      material: 'steel',
      density: 0.6 * level * rng.range(0.6, 1.4),
      texture: 0.3,
    }),
  );
  const parts = rng.int(1, 4);
  const specs = Array.from({ length: parts }, () => ({
    kind: rng.pick(['motor', 'shaft', 'gear', 'block'] as const),
    cx: x + rng.range(0.2, 0.8) * len,
    cz: base + h * body + rng.range(-0.2, 0.35) * h,
    r: rng.range(60, 220),
    l: rng.range(200, 700),
    rho: rng.range(1.2, 3) * Math.min(1, level / 1.5),
  }));
  items.push({
    x0: x + 40,
    x1: x + len - 40,
    z0: base,
    z1: base + h,
    rows: 1,
    draw: (proj) => {
      let m = 0;
      for (const p of specs) {
        const stuff: Stuff = { material: 'steel', density: p.rho };
        if (p.kind === 'motor') {
          proj.cylinder(v3(p.cx, 0, p.cz), v3(p.cx, p.l, p.cz), X, p.r, Z, p.r, stuff);
          m += (Math.PI * p.r * p.r * p.l * p.rho) / 1000;
        } else if (p.kind === 'shaft') {
          proj.rod(v3(p.cx - p.l, 0, p.cz), v3(p.cx + p.l, 0, p.cz), p.r * 0.25, { material: 'steel' });
          m += (Math.PI * p.r * p.r * 0.0625 * 2 * p.l * 7.87) / 1000;
        } else if (p.kind === 'gear') {
          proj.cylinder(v3(p.cx, 0, p.cz), v3(p.cx, 60, p.cz), X, p.r, Z, p.r, { material: 'steel' });
          proj.cylinder(v3(p.cx, 0, p.cz), v3(p.cx, 60, p.cz), X, p.r * 0.3, Z, p.r * 0.3, {
            material: 'steel',
            sign: -1,
          });
          m += (Math.PI * p.r * p.r * 0.91 * 60 * 7.87) / 1000;
        } else {
          proj.box(p.cx - p.r, p.cx + p.r, p.cz - p.r * 0.6, p.cz + p.r * 0.6, p.l, stuff);
          m += (2 * p.r * 1.2 * p.r * p.l * p.rho) / 1000;
        }
      }
      for (const [xa, za, xb, zb] of [
        [x + 60, base, x + 60, base + h],
        [x + len - 60, base, x + len - 60, base + h],
        [x + 60, base + h, x + len - 60, base + h],
        [x + 60, base, x + len - 60, base + h],
      ])
        proj.plate(xa, za, xb, zb, 60, 2 * 8, { material: 'steel' });
      proj.box(x + 20, x + len - 20, base, base + h + 40, 2 * 20, { material: 'wood', density: 0.5 });
      return m + (len * h * 40 * 0.5 + 4 * h * 60 * 16 * 7.87) / 1000;
    },
  });
}

function drums(items: Item[], x: number, len: number, floor: number, hMax: number, rows: number, rng: Rng): void {
  items.push(pallet(x, floor, rows, rng));
  const r = 286,
    h = 880;
  const tiers = hMax > 2 * h + 400 && rng.chance(0.5) ? 2 : 1;
  const liquid: Stuff = rng.pick<Stuff>([
    { material: 'water' },
    { material: 'plastic', density: 0.88 },
    { material: 'water', density: 1.2 },
  ]);
  for (let t = 0; t < tiers; t++) {
    const z0 = floor + 144 + t * (h + 150);
    for (let cx = x + r + 10; cx + r <= x + len + 1; cx += 2 * r + 15) {
      const fillLevel = rng.range(0.75, 0.95);
      items.push({
        x0: cx - r,
        x1: cx + r,
        z0,
        z1: z0 + h,
        rows,
        draw: (proj, n) => {
          const a = v3(cx, 0, z0),
            b = v3(cx, 0, z0 + h);
          proj.rod(a, b, r, { material: 'steel', density: 7.87 * n });
          proj.rod(v3(cx, 0, z0 + 1.2), v3(cx, 0, z0 + h - 1.2), r - 1.2, {
            material: 'steel',
            density: 7.87 * n,
            sign: -1,
          });
          const rho = (liquid.density ?? 1) * n;
          proj.rod(v3(cx, 0, z0 + 2), v3(cx, 0, z0 + 2 + (h - 4) * fillLevel), r - 1.5, { ...liquid, density: rho });
          return (Math.PI * r * r * h * fillLevel * rho + 2 * Math.PI * r * h * 1.2 * 7.87 * n) / 1000;
        },
      });
    }
  }
}

function tyres(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rows: number,
  rowDepth: number,
  rng: Rng,
): void {
  const rOut = rng.range(300, 400),
    rIn = rOut * 0.62,
    w = rng.range(180, 280);
  const top = floor + rng.range(0.4, 0.9) * hMax;
  for (let cx = x + rOut; cx + rOut <= x + len + 1; cx += 2 * rOut + 20) {
    for (let z = floor; z + w <= top; z += w) {
      items.push({
        x0: cx - rOut,
        x1: cx + rOut,
        z0: z,
        z1: z + w,
        rows,
        draw: (proj, n) => {
          // A tyre lying flat: rubber walls seen as a ring around the vertical axis.
          const rho = 1.15 * 0.45 * n * Math.min(1, rowDepth / (2 * rOut));
          proj.rod(v3(cx, 0, z), v3(cx, 0, z + w), rOut, { material: 'rubber', density: rho });
          proj.rod(v3(cx, 0, z), v3(cx, 0, z + w), rIn, { material: 'rubber', density: rho, sign: -1 });
          return (Math.PI * (rOut * rOut - rIn * rIn) * w * rho) / 1000;
        },
      });
    }
  }
}

function scrap(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rowDepth: number,
  level: number,
  rng: Rng,
): void {
  const heap = Math.min(hMax, rng.range(600, 1600));
  const pieces = Math.floor((len / 1000) * level * rng.range(20, 35));
  for (let k = 0; k < pieces; k++) {
    const cx = x + rng.range(0, len),
      cz = floor + Math.abs(rng.gauss(0, heap / 2.2));
    if (cz > floor + heap) continue;
    const ang = rng.range(0, Math.PI),
      l = rng.range(150, 900);
    const xa = cx - (Math.cos(ang) * l) / 2,
      za = Math.max(floor, cz - (Math.sin(ang) * l) / 2);
    const xb = cx + (Math.cos(ang) * l) / 2,
      zb = za + Math.sin(ang) * l;
    const thick = rng.range(3, 12),
      depth = rng.range(100, rowDepth * 0.5);
    const rod = rng.chance(0.3);
    items.push({
      x0: Math.min(xa, xb),
      x1: Math.max(xa, xb),
      z0: za,
      z1: zb,
      rows: 1,
      draw: (proj) => {
        if (rod) {
          const a = v3(xa, 0, za),
            b = v3(xb, 0, zb);
          proj.rod(a, b, thick * 2, { material: 'steel' });
          return (Math.PI * 4 * thick * thick * l * 7.87) / 1000;
        }
        proj.plate(xa, za, xb, zb, thick, depth, { material: 'steel' });
        return (l * thick * depth * 7.87) / 1000;
      },
    });
  }
}

/**
 * Big bags (FIBC) or stacked bags with rounded, sagging tops and bulging sides: the filled bag
 * is a textured block with an elliptic dome on top and rounded flanks.
 */
function bigBags(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rows: number,
  rowDepth: number,
  level: number,
  rng: Rng,
): void {
  const mat = rng.pick<Stuff>([
    { material: 'produce', density: rng.range(0.5, 0.8) },
    { material: 'silica', density: rng.range(1.1, 1.5) },
    { material: 'plastic', density: rng.range(0.45, 0.65) },
    { material: 'cellulose', density: rng.range(0.4, 0.7) },
  ]);
  const rho = (mat.density ?? 1) * Math.min(1.2, level / 1.4);
  const bw = rng.range(700, 1100);
  const bh = Math.min(hMax, rng.range(600, 1300));
  if (bh < 300) return;
  const tiers = hMax > 2 * bh + 200 && rng.chance(0.3) ? 2 : 1;
  for (let t = 0; t < tiers; t++) {
    for (let bx = x; bx + bw <= x + len + 1; bx += bw + rng.range(0, 60)) {
      const z0 = floor + t * bh * 0.95,
        h = bh * rng.range(0.8, 1),
        dome = rng.range(0.1, 0.3) * h,
        lean = rng.range(-60, 60);
      const cx = bx + bw / 2 + lean;
      items.push({
        x0: bx,
        x1: bx + bw,
        z0,
        z1: z0 + h + dome,
        rows,
        draw: (proj, n) => {
          const d = rowDepth * n * rng.range(0.75, 0.95);
          proj.box(bx + 60, bx + bw - 60, z0, z0 + h - dome, d, { ...mat, density: rho, texture: 0.3 });
          proj.ellipsoid(v3(cx, 0, z0 + h - dome), [X, Y, Z], [bw / 2 - 30, d / 2, dome * 2], {
            ...mat,
            density: rho,
            texture: 0.3,
          });
          proj.cylinder(v3(bx + 60, 0, z0), v3(bx + 60, 0, z0 + h - dome), X, 60, Y, d / 2, { ...mat, density: rho }); // bulging flanks
          proj.cylinder(v3(bx + bw - 60, 0, z0), v3(bx + bw - 60, 0, z0 + h - dome), X, 60, Y, d / 2, {
            ...mat,
            density: rho,
          });
          for (const lx of [bx + 80, bx + bw - 80])
            proj.box(lx - 20, lx + 20, z0 + h - 20, z0 + h + dome + 120, 2 * 3, { material: 'plastic', density: 0.9 }); // lifting loops
          return ((bw - 120) * h * d * rho) / 1000;
        },
      });
    }
  }
}

/** Rolls (paper, carpet, steel coil, film) standing on end or lying along or across the vehicle. */
function rolls(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rows: number,
  rowDepth: number,
  _level: number,
  rng: Rng,
): void {
  const kind = rng.pick(['paper', 'carpet', 'coil', 'film'] as const);
  const r = Math.min(len / 2 - 10, kind === 'coil' ? rng.range(300, 700) : rng.range(250, 600));
  const stuff: Stuff =
    kind === 'paper'
      ? { material: 'cellulose', density: rng.range(0.6, 0.95) }
      : kind === 'carpet'
        ? { material: 'plastic', density: rng.range(0.3, 0.6), texture: 0.2 }
        : kind === 'coil'
          ? { material: 'steel', density: 7.87 * rng.range(0.85, 0.95) }
          : { material: 'plastic', density: rng.range(0.8, 0.95) };
  const core = r * rng.range(0.12, 0.35);
  const upright = kind !== 'carpet' && rng.chance(0.4);
  const l = Math.min(hMax - 20, rng.range(800, 2000));
  if (l < 300 || 2 * r > hMax || r < 150) return;
  if (upright) {
    for (let cx = x + r; cx + r <= x + len + 1; cx += 2 * r + rng.range(10, 80)) {
      items.push({
        x0: cx - r,
        x1: cx + r,
        z0: floor,
        z1: floor + l,
        rows,
        draw: (proj, n) => {
          const f = Math.min(1, rowDepth / (2 * r)) * n;
          proj.rod(v3(cx, 0, floor), v3(cx, 0, floor + l), r, { ...stuff, density: (stuff.density ?? 1) * f });
          proj.rod(v3(cx, 0, floor), v3(cx, 0, floor + l), core, {
            ...stuff,
            density: (stuff.density ?? 1) * f,
            sign: -1,
          });
          return (Math.PI * (r * r - core * core) * l * (stuff.density ?? 1) * f) / 1000;
        },
      });
    }
    return;
  }
  // Lying across the lane: seen as discs with their cores.
  for (let cx = x + r; cx + r <= x + len + 1; cx += 2 * r + rng.range(5, 60)) {
    for (let z = floor; z + 2 * r <= floor + hMax && z < floor + 2 * r * 2; z += 2 * r * 0.93) {
      const zc = z + r;
      items.push({
        x0: cx - r,
        x1: cx + r,
        z0: z,
        z1: z + 2 * r,
        rows: 1,
        draw: (proj) => {
          const d = Math.min(rowDepth * rows, l * rows);
          proj.cylinder(v3(cx, 0, zc), v3(cx, d, zc), X, r, Z, r, stuff);
          proj.cylinder(v3(cx, 0, zc), v3(cx, d, zc), X, core, Z, core, { ...stuff, sign: -1 });
          return (Math.PI * (r * r - core * core) * d * (stuff.density ?? 1)) / 1000;
        },
      });
    }
  }
}

/** Bottles or cans in crates (glass, plastic, aluminium), crates stacked on pallets. */
function crates(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rows: number,
  rowDepth: number,
  rng: Rng,
): void {
  items.push(pallet(x, floor, rows, rng));
  const cw = rng.range(300, 420),
    ch = rng.range(250, 340);
  const bottle = rng.pick(['glass', 'pet', 'can'] as const);
  const wall: Stuff =
    bottle === 'glass'
      ? { material: 'silica', density: 2.5 }
      : bottle === 'can'
        ? { material: 'aluminium' }
        : { material: 'plastic' };
  const br = bottle === 'can' ? 33 : rng.range(30, 45);
  const wt = bottle === 'glass' ? 3.5 : bottle === 'can' ? 0.15 : 0.4;
  const liquid: Stuff = { material: 'water', density: rng.range(0.95, 1.1) };
  const top = floor + 144 + rng.range(0.4, 1) * (hMax - 144);
  const perDepth = Math.floor(rowDepth / (2 * br + 8));
  for (let z = floor + 144; z + ch <= top; z += ch) {
    for (let bx = x; bx + cw <= x + len + 1; bx += cw) {
      items.push({
        x0: bx,
        x1: bx + cw,
        z0: z,
        z1: z + ch,
        rows,
        draw: (proj, n) => {
          proj.box(bx, bx + cw, z, z + ch, 2 * 4 * n, { material: 'plastic' }); // crate walls
          let m = 0;
          for (let k = 0; k < Math.floor(cw / (2 * br + 8)); k++) {
            const cx = bx + br + 4 + k * (2 * br + 8);
            const hh = ch - 20;
            // perDepth bottles behind each other along the beam: drawn once with the path scaled.
            proj.box(cx - br, cx + br, z + 10, z + 10 + hh * 0.95, perDepth * n * 2 * br * 0.78, liquid);
            proj.box(cx - br, cx - br + 6, z + 10, z + 10 + hh, perDepth * n * 2 * br, {
              ...wall,
              density: (wall.density ?? MATERIAL_DENSITY[wall.material]) * (wt / 6),
            });
            proj.box(cx + br - 6, cx + br, z + 10, z + 10 + hh, perDepth * n * 2 * br, {
              ...wall,
              density: (wall.density ?? MATERIAL_DENSITY[wall.material]) * (wt / 6),
            });
            m += (2 * br * hh * perDepth * n * 2 * br * 0.78) / 1000;
          }
          return m;
        },
      });
    }
  }
}

const MATERIAL_DENSITY: Record<string, number> = {
  silica: 2.5,
  aluminium: 2.7,
  plastic: 0.95,
  steel: 7.87,
  wood: 0.55,
};

/** Appliances in cartons: steel cabinets with a motor, a drum or compressor, a concrete counterweight. */
function appliances(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rows: number,
  rowDepth: number,
  rng: Rng,
): void {
  const w = rng.range(550, 750),
    h = Math.min(hMax - 50, rng.range(800, 1900));
  if (h < 400) return;
  const type = rng.pick(['washer', 'fridge', 'cooker'] as const);
  for (let bx = x; bx + w <= x + len + 1; bx += w + rng.range(20, 80)) {
    const tiers = type === 'washer' && hMax > 2 * h + 100 && rng.chance(0.5) ? 2 : 1;
    for (let t = 0; t < tiers; t++) {
      const z = floor + t * (h + 30);
      items.push({
        x0: bx,
        x1: bx + w,
        z0: z,
        z1: z + h,
        rows,
        draw: (proj, n) => {
          const d = rowDepth * n;
          proj.box(bx, bx + w, z, z + h, d * 0.02, { material: 'cellulose', density: 0.7 }); // carton and foam
          proj.box(bx + 10, bx + w - 10, z + 10, z + h - 10, 2 * 0.8 * n, { material: 'steel' }); // cabinet sides
          proj.box(bx + 10, bx + w - 10, z + h - 12, z + h - 10, d * 0.9, { material: 'steel' });
          if (type === 'washer') {
            proj.cylinder(
              v3(bx + w / 2, 0, z + h * 0.5),
              v3(bx + w / 2, d * 0.6, z + h * 0.5),
              X,
              w * 0.4,
              Z,
              w * 0.4,
              { material: 'steel', density: 0.5 },
            );
            proj.box(bx + 60, bx + w - 60, z + h - 180, z + h - 60, n * 120, { material: 'silica', density: 2.2 }); // counterweight
            proj.rod(v3(bx + w * 0.3, 0, z + 120), v3(bx + w * 0.6, 0, z + 120), 70, {
              material: 'steel',
              density: 4 * n,
            }); // motor
          } else if (type === 'fridge') {
            proj.box(bx + 40, bx + w - 40, z + 40, z + h - 40, d * 0.8, { material: 'plastic', density: 0.04 }); // foam insulation
            proj.rod(v3(bx + w * 0.2, 0, z + 150), v3(bx + w * 0.55, 0, z + 150), 90, {
              material: 'steel',
              density: 5 * n,
            }); // compressor
            for (let k = 0; k < 8; k++)
              proj.box(
                bx + w - 30,
                bx + w - 26,
                z + 200 + (k * (h - 300)) / 8,
                z + 204 + (k * (h - 300)) / 8,
                d * 0.7,
                { material: 'steel' },
              );
          } else {
            for (let k = 0; k < 3; k++)
              proj.box(bx + 30, bx + w - 30, z + 100 + k * h * 0.25, z + 104 + k * h * 0.25, d * 0.8, {
                material: 'steel',
              });
            proj.box(bx + 30, bx + w - 30, z + h - 40, z + h - 20, d * 0.8, { material: 'silica', density: 2.5 }); // glass top
          }
          return (w * h * d * 0.08) / 1000;
        },
      });
    }
  }
}

/** Furniture: sofas and armchairs (foam on a wooden frame with springs), mattresses, tables, wardrobes flat-packed. */
function furniture(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rows: number,
  rowDepth: number,
  rng: Rng,
): void {
  let bx = x;
  while (bx < x + len - 300) {
    const type = rng.pick(['sofa', 'mattress', 'flatpack', 'table', 'chairs'] as const);
    const w = Math.min(
      x + len - bx,
      type === 'sofa' ? rng.range(800, 2000) : type === 'mattress' ? rng.range(250, 400) : rng.range(500, 1200),
    );
    const h = Math.min(
      hMax - 20,
      type === 'sofa' ? rng.range(700, 950) : type === 'mattress' ? rng.range(1400, 2000) : rng.range(600, 1500),
    );
    if (h < 200) return;
    const x0 = bx,
      z0 = floor;
    items.push({
      x0,
      x1: x0 + w,
      z0,
      z1: z0 + h,
      rows,
      draw: (proj, n) => {
        const d = rowDepth * n;
        switch (type) {
          case 'sofa':
            proj.box(x0, x0 + w, z0 + 100, z0 + h * 0.5, d * 0.85, {
              material: 'plastic',
              density: 0.05,
              texture: 0.2,
            });
            proj.plate(x0 + 60, z0 + h * 0.5, x0 + 120, z0 + h, 200, d * 0.85, { material: 'plastic', density: 0.05 });
            proj.box(x0, x0 + w, z0 + 80, z0 + 130, 2 * 40 * n, { material: 'wood', density: 0.6 });
            for (let sx = x0 + 60; sx < x0 + w - 60; sx += 110)
              proj.rod(v3(sx, 0, z0 + 150), v3(sx, 0, z0 + h * 0.45), 35, { material: 'steel', density: 0.25 * n });
            for (const lx of [x0 + 30, x0 + w - 80])
              proj.box(lx, lx + 50, z0, z0 + 100, 2 * 50 * n, { material: 'wood', density: 0.7 });
            break;
          case 'mattress':
            proj.box(x0, x0 + w, z0, z0 + h, d * 0.9, { material: 'plastic', density: 0.06, texture: 0.15 });
            if (rng.chance(0.5))
              for (let sz = z0 + 80; sz < z0 + h - 80; sz += 90)
                proj.rod(v3(x0 + w * 0.2, 0, sz), v3(x0 + w * 0.8, 0, sz), 35, { material: 'steel', density: 0.3 * n });
            break;
          case 'flatpack':
            for (let pz = z0; pz < z0 + h - 20; pz += rng.range(18, 40))
              proj.box(x0, x0 + w, pz, pz + 16, d * 0.85, { material: 'wood', density: rng.range(0.6, 0.75) });
            break;
          case 'table':
            proj.box(x0, x0 + w, z0 + h - 40, z0 + h, d * 0.7, { material: 'wood', density: 0.7 });
            for (const lx of [x0 + 30, x0 + w - 80])
              proj.box(lx, lx + 50, z0, z0 + h - 40, 2 * 50 * n, { material: 'wood', density: 0.7 });
            break;
          case 'chairs':
            for (let k = 0; k < Math.max(1, Math.floor(h / 250)); k++) {
              const cz = z0 + k * 220;
              proj.box(x0, x0 + Math.min(w, 450), cz + 150, cz + 180, d * 0.5, {
                material: rng.chance(0.5) ? 'plastic' : 'wood',
                density: 0.8,
              });
              proj.rod(v3(x0 + 20, 0, cz), v3(x0 + 40, 0, cz + 400), 10, { material: 'steel', density: 2 * n });
            }
            break;
        }
        return (w * h * d * 0.06) / 1000;
      },
    });
    bx += w + rng.range(30, 250);
  }
}

/** Loose bulk (sand, grain, gravel, scrap wood chips) in a heap with a sloped, irregular surface. */
function bulk(
  items: Item[],
  x: number,
  len: number,
  floor: number,
  hMax: number,
  rowDepth: number,
  level: number,
  rng: Rng,
): void {
  const stuff: Stuff = rng.pick<Stuff>([
    { material: 'silica', density: rng.range(1.3, 1.7) },
    { material: 'produce', density: rng.range(0.6, 0.8) },
    { material: 'wood', density: rng.range(0.25, 0.4) },
  ]);
  const peak = Math.min(hMax, rng.range(500, 1800) * Math.min(1, level / 1.5));
  if (peak < 150) return;
  const pts: [number, number][] = [[x, floor]];
  const steps = Math.max(3, Math.floor(len / 250));
  for (let k = 0; k <= steps; k++) {
    const t = k / steps;
    const hump = Math.sin(Math.PI * t) ** rng.range(0.5, 1.2);
    pts.push([x + t * len, floor + peak * Math.max(0.05, hump * rng.range(0.85, 1.05))]);
  }
  pts.push([x + len, floor]);
  items.push({
    x0: x,
    x1: x + len,
    z0: floor,
    z1: floor + peak,
    rows: 1,
    draw: (proj) => {
      proj.polygon(pts, rowDepth * rng.range(0.8, 0.95), { ...stuff, texture: 0.25 });
      return (len * peak * 0.6 * rowDepth * 0.9 * (stuff.density ?? 1)) / 1000;
    },
  });
}
