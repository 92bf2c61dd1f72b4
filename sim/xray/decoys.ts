import { type Projection, type Stuff, v3, X, Y, Z, normalize, cross } from './projection.js';
import type { Rng } from './prng.js';

/**
 * Decoys: things that look body-like to a naive detector (water containers, sacks, bundles, animal
 * carcasses). They appear in scans with and without people and are not part of the truth masks.
 */

export type DecoyKind =
  | 'water-container'
  | 'sack'
  | 'bundle'
  | 'carcass'
  | 'figure'
  | 'meat-blocks'
  | 'barrel'
  | 'produce-bin';
export const DECOY_KINDS: readonly DecoyKind[] = [
  'water-container',
  'sack',
  'bundle',
  'carcass',
  'figure',
  'meat-blocks',
  'barrel',
  'produce-bin',
];
/** Half the length (mm) a decoy of each kind may take along the vehicle. */
export const DECOY_HALF_LENGTH: Readonly<Record<DecoyKind, number>> = {
  'water-container': 650,
  sack: 650,
  bundle: 900,
  carcass: 750,
  figure: 950,
  'meat-blocks': 700,
  barrel: 450,
  'produce-bin': 700,
};

/** Draws a decoy resting on `floorZ` centred at x; returns its extent. */
export function drawDecoy(
  proj: Projection,
  kind: DecoyKind,
  x: number,
  floorZ: number,
  rng: Rng,
): { x0: number; x1: number; z0: number; z1: number } {
  switch (kind) {
    case 'water-container': {
      if (rng.chance(0.4)) {
        // Intermediate bulk container: 1 m^3 of water in a plastic tank inside a steel cage.
        const w = 1200,
          h = 1150;
        const fillH = h * rng.range(0.3, 0.95);
        proj.box(x - w / 2, x + w / 2, floorZ + 150, floorZ + 150 + fillH, 1000, { material: 'water' });
        proj.box(x - w / 2, x + w / 2, floorZ + 150, floorZ + h, 2 * 2, { material: 'plastic' });
        for (let gx = x - w / 2; gx <= x + w / 2; gx += 200)
          proj.box(gx, gx + 20, floorZ + 150, floorZ + h, 2 * 20, { material: 'steel' });
        proj.box(x - w / 2, x + w / 2, floorZ, floorZ + 150, 1000, { material: 'steel', density: 0.4 });
        return { x0: x - w / 2, x1: x + w / 2, z0: floorZ, z1: floorZ + h };
      }
      // A cluster of 20-litre jerrycans.
      const n = rng.int(3, 8);
      let x0 = Infinity,
        x1 = -Infinity,
        z1 = floorZ;
      for (let k = 0; k < n; k++) {
        const cx = x + (k % 4) * 180 - 270,
          cz = floorZ + Math.floor(k / 4) * 460;
        proj.box(cx - 80, cx + 80, cz, cz + 440, 350 * rng.int(1, 3), { material: 'water' });
        x0 = Math.min(x0, cx - 80);
        x1 = Math.max(x1, cx + 80);
        z1 = Math.max(z1, cz + 440);
      }
      return { x0, x1, z0: floorZ, z1 };
    }
    case 'sack': {
      const a = rng.range(400, 650),
        c = rng.range(180, 280),
        b = rng.range(200, 320);
      const tilt = rng.range(-0.3, 0.3);
      const e1 = normalize(v3(Math.cos(tilt), 0, Math.sin(tilt)));
      const e3 = cross(e1, Y);
      proj.ellipsoid(v3(x, 0, floorZ + c), [e1, Y, e3], [a, b, c], {
        material: rng.chance(0.5) ? 'produce' : 'cellulose',
        density: rng.range(0.6, 0.9),
        texture: 0.2,
      });
      return { x0: x - a, x1: x + a, z0: floorZ, z1: floorZ + 2 * c };
    }
    case 'bundle': {
      // A rolled carpet or bale of cloth lying along the vehicle or across it.
      const r = rng.range(130, 260),
        l = rng.range(900, 1800);
      const stuff: Stuff = { material: 'cellulose', density: rng.range(0.3, 0.6), texture: 0.15 };
      if (rng.chance(0.5)) {
        proj.rod(v3(x - l / 2, 0, floorZ + r), v3(x + l / 2, 0, floorZ + r), r, stuff);
        return { x0: x - l / 2, x1: x + l / 2, z0: floorZ, z1: floorZ + 2 * r };
      }
      proj.cylinder(v3(x, 0, floorZ + r), v3(x, l, floorZ + r), X, r, Z, r, stuff);
      return { x0: x - r, x1: x + r, z0: floorZ, z1: floorZ + 2 * r };
    }
    case 'carcass': {
      // A pig, sheep or goat carcass: tissue torso with spine and ribs, four legs with bones.
      const len = rng.range(700, 1100),
        rr = rng.range(130, 200);
      const cz = floorZ + rr + rng.range(0, 60);
      const dir = rng.chance(0.5) ? 1 : -1;
      const tissue: Stuff = { material: 'tissue' };
      proj.ellipsoid(v3(x, 0, cz), [X, Y, Z], [len / 2, rr * 1.1, rr], tissue);
      proj.rod(v3(x - len * 0.4, 0, cz + rr * 0.5), v3(x + len * 0.4, 0, cz + rr * 0.5), 15, { material: 'bone' });
      proj.ellipsoid(v3(x + dir * len * 0.1, 0, cz), [X, Y, Z], [len * 0.28, rr, rr * 0.9], {
        material: 'bone',
        density: 0.6,
      });
      proj.ellipsoid(v3(x + dir * len * 0.1, 0, cz), [X, Y, Z], [len * 0.28 - 8, rr - 8, rr * 0.9 - 8], {
        material: 'bone',
        density: 0.6,
        sign: -1,
      });
      proj.ellipsoid(v3(x + (dir * len) / 2, 0, cz + rr * 0.3), [X, Y, Z], [rr * 0.9, rr * 0.6, rr * 0.6], tissue);
      for (const lx of [-0.32, 0.32]) {
        const px = x + lx * len;
        const ang = rng.range(-0.6, 0.6);
        const ll = rng.range(300, 500);
        proj.rod(v3(px, 0, cz), v3(px + Math.sin(ang) * ll, 0, cz - Math.cos(ang) * ll * 0.3), 40, tissue);
        proj.rod(v3(px, 0, cz), v3(px + Math.sin(ang) * ll, 0, cz - Math.cos(ang) * ll * 0.3), 12, {
          material: 'bone',
        });
      }
      return { x0: x - len / 2 - rr, x1: x + len / 2 + rr, z0: floorZ, z1: cz + rr };
    }
    case 'figure': {
      // A person-sized object that is not a person: a mannequin (thin plastic shell), a wooden or
      // stone statue, a metal sculpture, a stuffed dummy, standing, sitting or lying.
      const kind = rng.pick(['mannequin', 'wood', 'stone', 'metal', 'dummy'] as const);
      const stuff: Stuff =
        kind === 'mannequin'
          ? { material: 'plastic', density: rng.range(0.04, 0.12) }
          : kind === 'wood'
            ? { material: 'wood', density: rng.range(0.4, 0.8) }
            : kind === 'stone'
              ? { material: 'silica', density: rng.range(2.0, 2.6) }
              : kind === 'metal'
                ? { material: rng.chance(0.5) ? 'aluminium' : 'steel', density: rng.chance(0.5) ? 0.6 : 1.5 }
                : { material: 'cellulose', density: rng.range(0.1, 0.3), texture: 0.3 };
      const s = rng.range(0.6, 1.1),
        lying = rng.chance(0.4);
      const hgt = 1750 * s;
      const part = (a: [number, number], b: [number, number], r: number) => {
        const p = (q: [number, number]) =>
          lying ? v3(x - hgt / 2 + q[1], 0, floorZ + r + q[0] * 0.3) : v3(x + q[0], 0, floorZ + q[1]);
        proj.rod(p(a), p(b), r, stuff);
      };
      part([0, 900 * s], [0, 1400 * s], 150 * s); // torso
      proj.sphere(lying ? v3(x + hgt / 2 - 110 * s, 0, floorZ + 110 * s) : v3(x, 0, floorZ + 1620 * s), 105 * s, stuff);
      for (const side of [-1, 1]) {
        part([side * 80 * s, 80 * s], [side * 80 * s, 880 * s], 65 * s); // legs
        part([side * 170 * s, 1380 * s], [side * (180 + rng.range(0, 250)) * s, 850 * s], 45 * s); // arms
      }
      return lying
        ? { x0: x - hgt / 2, x1: x + hgt / 2, z0: floorZ, z1: floorZ + 320 * s }
        : { x0: x - 300 * s, x1: x + 300 * s, z0: floorZ, z1: floorZ + hgt };
    }
    case 'meat-blocks': {
      // Cartons of frozen meat or fish: water-rich tissue in rectangular blocks, stacked.
      const bw = rng.range(350, 600),
        bh = rng.range(120, 250);
      const cols = rng.int(1, 3),
        layers = rng.int(2, 6);
      for (let c = 0; c < cols; c++) {
        for (let l = 0; l < layers; l++) {
          const bx = x - (cols * bw) / 2 + c * bw;
          proj.box(bx + 5, bx + bw - 5, floorZ + l * bh, floorZ + (l + 1) * bh - 5, rng.range(300, 1000), {
            material: 'tissue',
            density: rng.range(0.8, 1.05),
            texture: 0.1,
          });
          proj.box(bx, bx + bw, floorZ + l * bh, floorZ + (l + 1) * bh, 2 * 5, { material: 'cellulose', density: 0.7 });
        }
      }
      return { x0: x - (cols * bw) / 2, x1: x + (cols * bw) / 2, z0: floorZ, z1: floorZ + layers * bh };
    }
    case 'barrel': {
      // Plastic barrels of water, juice or oil, standing, 1 to 3 behind each other along the beam.
      const r = rng.range(250, 300),
        h = rng.range(800, 950),
        n = rng.int(1, 3);
      const level = rng.range(0.5, 0.97);
      proj.rod(v3(x, 0, floorZ), v3(x, 0, floorZ + h * level), r - 5, {
        material: rng.chance(0.7) ? 'water' : 'plastic',
        density: rng.range(0.85, 1.05) * n,
      });
      proj.rod(v3(x, 0, floorZ), v3(x, 0, floorZ + h), r, { material: 'plastic', density: 0.95 * 0.02 * n });
      return { x0: x - r, x1: x + r, z0: floorZ, z1: floorZ + h };
    }
    case 'produce-bin': {
      // A bin of potatoes, melons or cabbages: lumps of water-rich produce with gaps between.
      const w = rng.range(800, 1300),
        h = rng.range(500, 1000),
        lump = rng.range(60, 180);
      proj.box(x - w / 2, x + w / 2, floorZ, floorZ + h, 2 * 15, { material: 'wood', density: 0.6 });
      for (let lz = floorZ + 20 + lump; lz < floorZ + h - lump * 0.5; lz += lump * 1.6) {
        for (let lx = x - w / 2 + lump; lx < x + w / 2 - lump * 0.5; lx += lump * 1.6) {
          proj.sphere(v3(lx + rng.range(-20, 20), 0, lz + rng.range(-20, 20)), lump * rng.range(0.7, 1), {
            material: 'produce',
            density: rng.range(0.9, 1.0) * rng.int(2, 5),
          });
        }
      }
      return { x0: x - w / 2, x1: x + w / 2, z0: floorZ, z1: floorZ + h };
    }
  }
}
