import { type Projection, type Stuff, type Vec3, cross, normalize, v3, X, Y, Z } from './projection.js';
import type { Rng } from './prng.js';

/**
 * An articulated human body: head, neck, chest, abdomen, pelvis, upper and lower arms, hands,
 * thighs, shins and feet as ellipsoids and elliptic cylinders of soft tissue, with skull, spine,
 * rib cage, pelvis and long bones of cortical bone inside (bone replaces tissue). Joint angles set
 * the pose; the whole body is then turned so that it faces the beam or is seen side-on.
 */

export type Pose = 'standing' | 'sitting' | 'crouching' | 'lying' | 'curled';
export const POSES: readonly Pose[] = ['standing', 'sitting', 'crouching', 'lying', 'curled'];
/**
 * beam: the chest faces the source or the detector (front view). side: the beam crosses shoulder to
 * shoulder (profile). end-on (lying or curled only): the body lies along the beam, head towards the
 * source or the detector, the way a person lies on a sleeper bunk across a cab.
 */
export type Facing = 'beam' | 'side' | 'end-on';
export type AgeGroup = 'adult' | 'child';

export interface BodySpec {
  pose: Pose;
  facing: Facing;
  age: AgeGroup;
  statureMm: number;
  /** Where the body rests: x (mm) of its centre along the vehicle, y (mm) across, z (mm) of the surface it rests on. */
  x: number;
  y: number;
  floorZ: number;
  /** +1 or -1: which way along the vehicle the body faces (side-on) or its head points (lying). */
  heading: 1 | -1;
  /** Joint angles in degrees (samplePose draws them). */
  joints: JointAngles;
  /** Girth relative to an average build (0.85 slim .. 1.25 heavy). */
  build: number;
}

export interface JointAngles {
  hip: number;
  knee: number;
  trunk: number;
  neck: number;
  shoulder: number;
  elbow: number;
}

const deg = Math.PI / 180;

/** Joint angles for a pose with natural variation. */
export function samplePose(pose: Pose, rng: Rng): JointAngles {
  switch (pose) {
    case 'standing':
      return {
        hip: rng.range(0, 10),
        knee: rng.range(0, 15),
        trunk: rng.range(-5, 10),
        neck: rng.range(-5, 15),
        shoulder: rng.range(0, 25),
        elbow: rng.range(5, 40),
      };
    case 'sitting': {
      // On the floor, knees drawn up: thighs forward and up, shins forward and down.
      const hip = rng.range(125, 150);
      return {
        hip,
        knee: hip - rng.range(-15, 12),
        trunk: rng.range(-25, 5),
        neck: rng.range(0, 25),
        shoulder: rng.range(30, 70),
        elbow: rng.range(30, 80),
      };
    }
    case 'crouching':
      return {
        hip: rng.range(105, 135),
        knee: rng.range(120, 150),
        trunk: rng.range(20, 45),
        neck: rng.range(0, 20),
        shoulder: rng.range(30, 70),
        elbow: rng.range(40, 100),
      };
    case 'lying':
      return {
        hip: rng.range(0, 25),
        knee: rng.range(0, 35),
        trunk: rng.range(-5, 5),
        neck: rng.range(-10, 15),
        shoulder: rng.range(0, 40),
        elbow: rng.range(0, 50),
      };
    case 'curled':
      return {
        hip: rng.range(90, 130),
        knee: rng.range(100, 140),
        trunk: rng.range(25, 50),
        neck: rng.range(20, 40),
        shoulder: rng.range(60, 100),
        elbow: rng.range(80, 120),
      };
  }
}

export function sampleStature(age: AgeGroup, rng: Rng): number {
  return age === 'adult' ? rng.range(1550, 1900) : rng.range(1000, 1450);
}

/** Anatomical frame in world space: a = anterior, l = left, s = superior (unit vectors). */
interface Frame {
  a: Vec3;
  l: Vec3;
  s: Vec3;
}

function bodyFrame(spec: BodySpec): Frame {
  const h = spec.heading;
  const horizontal = spec.pose === 'lying' || spec.pose === 'curled';
  if (!horizontal) {
    const a = spec.facing === 'side' ? v3(h, 0, 0) : v3(0, h, 0);
    return { a, l: cross(Z, a), s: Z };
  }
  if (spec.facing === 'end-on') {
    const s = v3(0, h, 0);
    const a = v3(0, 0, 1);
    return { a, l: cross(s, a), s };
  }
  // Lying or curled: the head points along x. Seen side-on the body lies on its back (or front);
  // facing the beam it lies on its side, chest towards the source or the detector.
  const s = v3(h, 0, 0);
  const a = spec.facing === 'side' ? v3(0, 0, spec.pose === 'curled' ? 1 : h) : v3(0, h, 0);
  return { a, l: cross(s, a), s };
}

interface Segment {
  kind: 'ellipsoid' | 'cylinder';
  /** For cylinders: from p to q. For ellipsoids: centre p, long axis along q - p direction. */
  p: Vec3;
  q: Vec3;
  /** Semi-axes: along the anterior direction and the left direction of the segment's cross-section. */
  ra: number;
  rl: number;
  /** Ellipsoids: semi-axis along the segment. */
  rs?: number;
  stuff: Stuff;
}

const TISSUE: Stuff = { material: 'tissue' };

/**
 * Draws the body and returns the bounds (mm) of its shapes: x0, x1, z0, z1.
 */
export function drawBody(proj: Projection, spec: BodySpec): BodyPlacement {
  return placeBody(spec, proj);
}

/** Where a drawn body ended up (mm): its bounds and the centres of its pelvis and chest. */
export interface BodyPlacement {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
  pelvis: Vec3;
  chest: Vec3;
}

/** Size (mm) of the body's bounds in the image plane for a spec, without drawing it. */
export function bodySize(spec: BodySpec): { length: number; height: number } {
  const b = placeBody(spec, null);
  return { length: b.x1 - b.x0, height: b.z1 - b.z0 };
}

function placeBody(spec: BodySpec, proj: Projection | null): BodyPlacement {
  const segs = buildSegments(spec);
  // Exact extents in x and z of every shape; the lowest point rests on the floor.
  let minZ = Infinity,
    minX = Infinity,
    maxX = -Infinity,
    maxZ = -Infinity;
  for (const s of segs) {
    const axis = normalize(v3(s.q.x - s.p.x, s.q.y - s.p.y, s.q.z - s.p.z));
    const [ea, el] = crossSection(axis, s);
    const ext = (c: 'x' | 'z') =>
      s.kind === 'cylinder'
        ? Math.hypot(s.ra * ea[c], s.rl * el[c])
        : Math.hypot(s.ra * ea[c], s.rl * el[c], (s.rs ?? s.ra) * axis[c]);
    const ex = ext('x'),
      ez = ext('z');
    for (const pt of s.kind === 'cylinder' ? [s.p, s.q] : [s.p]) {
      minZ = Math.min(minZ, pt.z - ez);
      maxZ = Math.max(maxZ, pt.z + ez);
      minX = Math.min(minX, pt.x - ex);
      maxX = Math.max(maxX, pt.x + ex);
    }
  }
  const dx = spec.x - (minX + maxX) / 2,
    dz = spec.floorZ - minZ;
  if (proj)
    for (const s of segs) {
      const p = v3(s.p.x + dx, s.p.y + spec.y, s.p.z + dz);
      const q = v3(s.q.x + dx, s.q.y + spec.y, s.q.z + dz);
      const axis = normalize(v3(q.x - p.x, q.y - p.y, q.z - p.z));
      const [ea, el] = crossSection(axis, s);
      if (s.kind === 'cylinder') proj.cylinder(p, q, ea, s.ra, el, s.rl, s.stuff);
      else proj.ellipsoid(p, [ea, el, axis], [s.ra, s.rl, s.rs ?? s.ra], s.stuff);
    }
  // segs[0] is the pelvis, segs[2] the chest (see buildSegments).
  const at = (p: Vec3) => v3(p.x + dx, p.y + spec.y, p.z + dz);
  const chest = v3((segs[2].p.x + segs[2].q.x) / 2, (segs[2].p.y + segs[2].q.y) / 2, (segs[2].p.z + segs[2].q.z) / 2);
  return { x0: minX + dx, x1: maxX + dx, z0: minZ + dz, z1: maxZ + dz, pelvis: at(segs[0].p), chest: at(chest) };
}

/**
 * Things people carry: a belt buckle, a phone, keys and coins, a zip. Small but dense, they show
 * as dark specks on the body in real scans. Kept close to the body's centre line.
 */
export function drawBelongings(proj: Projection, at: BodyPlacement, rng: Rng): void {
  const { pelvis, chest } = at;
  if (rng.chance(0.6))
    proj.box(pelvis.x - 25, pelvis.x + 25, pelvis.z + 60, pelvis.z + 95, 10, { material: 'steel', density: 6 });
  if (rng.chance(0.6)) {
    const x = pelvis.x + rng.range(-20, 20),
      z = pelvis.z + rng.range(-60, 40);
    const upright = rng.chance(0.5);
    const [w, h] = upright ? [70, 145] : [145, 70];
    proj.box(x - w / 2, x + w / 2, z - h / 2, z + h / 2, rng.chance(0.5) ? 8 : 70, {
      material: 'aluminium',
      density: 2.2,
    });
  }
  if (rng.chance(0.4)) {
    const x = pelvis.x + rng.range(-40, 10),
      z = pelvis.z + rng.range(-50, 30);
    proj.box(x, x + 30, z, z + 35, 18, { material: 'steel', density: 4 });
  }
  if (rng.chance(0.4))
    proj.plate(chest.x, chest.z - 180, chest.x, chest.z + 150, 6, 4, { material: 'steel', density: 5 });
}

/** Cross-section axes for a segment: its stored anterior hint projected perpendicular to the axis. */
function crossSection(axis: Vec3, s: Segment & { hintA?: Vec3 }): [Vec3, Vec3] {
  const hint = s.hintA ?? (Math.abs(axis.z) < 0.9 ? Z : X);
  const d = hint.x * axis.x + hint.y * axis.y + hint.z * axis.z;
  let ea = v3(hint.x - d * axis.x, hint.y - d * axis.y, hint.z - d * axis.z);
  if (Math.hypot(ea.x, ea.y, ea.z) < 1e-6) ea = Math.abs(axis.y) < 0.9 ? cross(axis, Y) : cross(axis, X);
  ea = normalize(ea);
  return [ea, normalize(cross(axis, ea))];
}

function buildSegments(spec: BodySpec): (Segment & { hintA?: Vec3 })[] {
  const F = bodyFrame(spec);
  const k = spec.statureMm / 1750;
  const kh = Math.pow(k, 0.45); // heads are relatively larger in children
  const child = spec.age === 'child';
  const girth = (child ? 0.9 : 1) * spec.build;
  const j = spec.joints;
  // Local (a, l, s) -> world offset from the pelvis centre.
  const W = (a: number, l: number, s: number): Vec3 =>
    v3(F.a.x * a + F.l.x * l + F.s.x * s, F.a.y * a + F.l.y * l + F.s.y * s, F.a.z * a + F.l.z * l + F.s.z * s);
  // Sagittal direction at angle phi from "down" (-s) towards anterior (+a).
  const down = (phi: number) => [Math.sin(phi * deg), -Math.cos(phi * deg)] as const;
  const up = (phi: number) => [Math.sin(phi * deg), Math.cos(phi * deg)] as const;
  const segs: (Segment & { hintA?: Vec3 })[] = [];
  const cyl = (p: Vec3, q: Vec3, ra: number, rl: number, stuff: Stuff = TISSUE) =>
    segs.push({ kind: 'cylinder', p, q, ra, rl, stuff, hintA: F.a });
  const ell = (c: Vec3, axisEnd: Vec3, ra: number, rl: number, rs: number, stuff: Stuff = TISSUE) =>
    segs.push({ kind: 'ellipsoid', p: c, q: axisEnd, ra, rl, rs, stuff, hintA: F.a });
  const bone = (p: Vec3, q: Vec3, r: number) => {
    cyl(p, q, r, r, { material: 'bone' });
    cyl(p, q, r, r, { material: 'tissue', sign: -1 });
  };

  // Trunk: pelvis at origin, abdomen and chest stacked along the trunk direction.
  const [ta, ts] = up(j.trunk);
  const along = (d: number) => W(ta * d, 0, ts * d);
  const pelvisH = 110 * k,
    abdomenL = 200 * k,
    chestL = 330 * k;
  const waist = along(pelvisH * 0.6);
  const chestBase = along(pelvisH * 0.6 + abdomenL);
  const shoulderC = along(pelvisH * 0.6 + abdomenL + chestL);
  const halfW = 165 * k * girth,
    halfD = 105 * k * girth;
  ell(W(0, 0, 0), along(1), halfD, halfW * 1.02, pelvisH);
  cyl(waist, chestBase, halfD * 0.95, halfW * 0.88);
  cyl(chestBase, shoulderC, halfD, halfW);
  // Rib cage (ribs and intercostal gaps averaged: a thin shell of bone at reduced density).
  cyl(chestBase, shoulderC, halfD * 0.9, halfW * 0.88, { material: 'bone', density: 0.75 });
  cyl(chestBase, shoulderC, halfD * 0.9 - 8 * k, halfW * 0.88 - 8 * k, { material: 'bone', density: 0.75, sign: -1 });
  // Pelvic bone: a flattened shell.
  ell(W(0, 0, 0), along(1), halfD * 0.6, halfW * 0.85, pelvisH * 0.8, { material: 'bone', density: 0.9 });
  ell(W(0, 0, 0), along(1), halfD * 0.6 - 9 * k, halfW * 0.85 - 9 * k, pelvisH * 0.8 - 9 * k, {
    material: 'bone',
    density: 0.9,
    sign: -1,
  });
  // Spine, behind the trunk's centre line.
  const back = W(-halfD * 0.55, 0, 0);
  const add = (p: Vec3, q: Vec3) => v3(p.x + q.x, p.y + q.y, p.z + q.z);
  bone(add(back, W(0, 0, 0)), add(back, shoulderC), 16 * k);

  // Neck and head.
  const [na, ns] = up(j.trunk + j.neck);
  const neckTop = add(shoulderC, W(na * 110 * k, 0, ns * 110 * k));
  cyl(shoulderC, neckTop, 55 * k, 55 * k);
  bone(shoulderC, neckTop, 14 * k);
  const headC = add(neckTop, W(na * 105 * kh + 15 * kh, 0, ns * 105 * kh));
  const headTop = add(headC, W(na, 0, ns));
  ell(headC, headTop, 95 * kh, 78 * kh, 115 * kh);
  ell(headC, headTop, 88 * kh, 72 * kh, 107 * kh, { material: 'bone' });
  ell(headC, headTop, 81 * kh, 65 * kh, 100 * kh, { material: 'bone', sign: -1 });
  ell(headC, headTop, 88 * kh, 72 * kh, 107 * kh, { material: 'tissue', sign: -1 });
  ell(headC, headTop, 81 * kh, 65 * kh, 100 * kh, { material: 'tissue' });

  // Arms: from the shoulders, flexed forward by `shoulder`, elbows by `elbow`.
  for (const side of [-1, 1]) {
    const sh = add(shoulderC, W(0, side * (halfW + 20 * k), -25 * k));
    const [ua, us] = down(j.shoulder);
    const elbow = add(sh, W(ua * 300 * k, side * 25 * k, us * 300 * k));
    const [fa, fs] = down(j.shoulder + j.elbow);
    const wrist = add(elbow, W(fa * 255 * k, side * 10 * k, fs * 255 * k));
    cyl(sh, elbow, 45 * k * girth, 45 * k * girth);
    bone(sh, elbow, 11 * k);
    cyl(elbow, wrist, 37 * k * girth, 40 * k * girth);
    bone(elbow, wrist, 10 * k);
    const hand = add(wrist, W(fa * 85 * k, 0, fs * 85 * k));
    ell(hand, add(hand, W(fa, 0, fs)), 22 * k, 45 * k, 85 * k);
  }

  // Legs: from the hip joints, flexed by `hip`, knees by `knee`, feet at right angles to the shins.
  for (const side of [-1, 1]) {
    const hip = W(0, side * 90 * k, -35 * k);
    const [ha, hs] = down(j.hip);
    const knee = add(hip, W(ha * 440 * k, 0, hs * 440 * k));
    const [sa, ss] = down(j.hip - j.knee);
    const ankle = add(knee, W(sa * 420 * k, 0, ss * 420 * k));
    cyl(hip, knee, 75 * k * girth, 72 * k * girth);
    bone(hip, knee, 14 * k);
    cyl(knee, ankle, 52 * k * girth, 50 * k * girth);
    bone(knee, ankle, 13 * k);
    const [fa2, fs2] = down(j.hip - j.knee + 90);
    const toe = add(ankle, W(fa2 * 200 * k, 0, fs2 * 200 * k));
    const footC = v3((ankle.x + toe.x) / 2, (ankle.y + toe.y) / 2, (ankle.z + toe.z) / 2);
    ell(footC, toe, 40 * k, 45 * k, 120 * k);
  }
  return segs;
}

export { X, Y, Z };
