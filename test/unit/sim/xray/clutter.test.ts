import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLUTTER_KINDS, type ClutterKind, drawClutter } from '../../../../sim/xray/clutter.js';
import { type BodySpec, bodySize, samplePose } from '../../../../sim/xray/body.js';
import { synthesizeScan } from '../../../../sim/xray/index.js';
import { CLUTTER_CLEARANCE_MM, clutterKeepOut, clutterSpotClear } from '../../../../sim/xray/scene.js';
import { Rng } from '../../../../sim/xray/prng.js';
import { Projection } from '../../../../sim/xray/projection.js';

describe('clutter (domain randomisation in the scene)', () => {
  it('left out or 0, the scan is the one the synthesizer made before clutter existed, bit for bit', () => {
    // sha256 of the high and low images and of the truth, from the synthesizer at f0d1728 (before sim/xray/clutter.ts).
    const before: Record<number, [string, string, string]> = {
      3: [
        '98b388ab486bd06ea83f8f59705622d6c2e9273872bde68205c8f271adbd0d52',
        'f7527964b6ea31da52985b493650579fe84b4b4840ea2d764bbf90e9639ca8d5',
        '98f0e1480400483a00faf131754140fe4a5e42e74d244d3d70149e95370f1512',
      ],
      21: [
        'b67bde79736e0cff0d0236682d6d336ca37787cf92483e429a1b9c705efed2cc',
        '950d40c95b59db6ea228c94439fc5df7493666d6558b08afe462d67bbe30267c',
        'a5bb6f4f2da0214429add78496fdd6da744b3d8252eb9036d4e2df11b4780fa4',
      ],
    };
    const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
    const img = (a: Uint16Array) => sha(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    for (const [seed, want] of Object.entries(before)) {
      for (const clutter of [undefined, 0]) {
        const s = synthesizeScan({
          seed: Number(seed),
          dual: true,
          pixelMm: 10,
          ...(clutter === undefined ? {} : { clutter }),
        });
        expect([img(s.high), img(s.low!), sha(JSON.stringify(s.truth))], `seed ${seed}, clutter ${clutter}`).toEqual(
          want,
        );
        expect(s.truth.scene.clutter).toBeUndefined();
      }
    }
  });

  it('adds objects clear of every person and leaves the people and the rest of the scene as they were', () => {
    let drawn = 0;
    for (let seed = 100; seed < 112; seed++) {
      const plain = synthesizeScan({ seed, pixelMm: 10, personShare: 1 });
      const cluttered = synthesizeScan({ seed, pixelMm: 10, personShare: 1, clutter: 6 });
      const objects = cluttered.truth.scene.clutter ?? [];
      expect(objects.length).toBeLessThanOrEqual(6);
      drawn += objects.length;
      // The people (their masks, boxes, poses) and the scene's own draws are untouched.
      expect(cluttered.truth.people.map((p) => [p.box, p.area, p.pose])).toEqual(
        plain.truth.people.map((p) => [p.box, p.area, p.pose]),
      );
      const { clutter: _, ...scene } = cluttered.truth.scene;
      expect(scene).toEqual(plain.truth.scene);
      // Every object lies at least 250 mm clear of every person's box (less one 10 mm pixel: the box is in pixels).
      const H = cluttered.height * 10;
      const m = 240;
      for (const p of cluttered.truth.people) {
        const x0 = p.box.x * 10 - m,
          x1 = (p.box.x + p.box.w) * 10 + m;
        const z1 = H - p.box.y * 10 + m,
          z0 = H - (p.box.y + p.box.h) * 10 - m;
        for (const o of objects) {
          const apart = o.x1Mm <= x0 || o.x0Mm >= x1 || o.z1Mm <= z0 || o.z0Mm >= z1;
          expect(
            apart,
            `seed ${seed}: ${o.kind} ${JSON.stringify(o)} over a person at x ${x0}-${x1}, z ${z0}-${z1}`,
          ).toBe(true);
        }
      }
      if (objects.length > 0)
        expect(Buffer.compare(Buffer.from(cluttered.high.buffer), Buffer.from(plain.high.buffer))).not.toBe(0);
    }
    expect(drawn).toBeGreaterThan(12);
  });

  it('places an object only where the box it may take stays 250 mm clear of every body', () => {
    const spec: BodySpec = {
      pose: 'standing',
      facing: 'side',
      age: 'adult',
      statureMm: 1750,
      x: 5000,
      y: 0,
      floorZ: 1000,
      heading: 1,
      joints: samplePose('standing', new Rng(1)),
      build: 1,
    };
    const { length, height } = bodySize(spec);
    const right = spec.x + length / 2; // the body's right end
    // An object resting level with the body, its 1.5 m reach ending 100 mm or 300 mm short of the body's end.
    expect(clutterSpotClear(clutterKeepOut([spec]), right + 1500 + 100, 1000)).toBe(false);
    expect(clutterSpotClear(clutterKeepOut([spec]), right + 1500 + CLUTTER_CLEARANCE_MM + 1, 1000)).toBe(true);
    // Above the body: its top plus the clearance.
    expect(clutterSpotClear(clutterKeepOut([spec]), spec.x, spec.floorZ + height + 100)).toBe(false);
    expect(clutterSpotClear(clutterKeepOut([spec]), spec.x, spec.floorZ + height + CLUTTER_CLEARANCE_MM + 1)).toBe(
      true,
    );
    expect(clutterSpotClear(clutterKeepOut([]), spec.x, spec.floorZ)).toBe(true);
  });

  it('each kind stays within the extent it returns, at most 1.5 m either side and 1.5 m up', () => {
    const pixelMm = 10;
    for (const kind of CLUTTER_KINDS) {
      for (let k = 0; k < 25; k++) {
        const proj = new Projection(600, 400, pixelMm, new Rng(k, 9));
        const b = drawClutter(proj, kind, 3000, 500, 2500, new Rng(k, 7));
        expect(b.x0, kind).toBeGreaterThanOrEqual(1500 - 1e-6);
        expect(b.x1, kind).toBeLessThanOrEqual(4500 + 1e-6);
        expect(b.z0, kind).toBeGreaterThanOrEqual(500 - 1e-6);
        expect(b.z1, kind).toBeLessThanOrEqual(2000 + 1e-6);
        let any = false;
        for (let r = 0; r < proj.height; r++) {
          const z = (proj.height - r - 0.5) * pixelMm;
          for (let i = 0; i < proj.width; i++) {
            if (proj.attHigh[r * proj.width + i] <= 1e-6) continue;
            any = true;
            const x = (i + 0.5) * pixelMm;
            const inside = x >= b.x0 - pixelMm && x <= b.x1 + pixelMm && z >= b.z0 - pixelMm && z <= b.z1 + pixelMm;
            if (!inside) expect.fail(`${kind} (draw ${k}) drew at x ${x}, z ${z}, outside ${JSON.stringify(b)}`);
          }
        }
        expect(any, `${kind} (draw ${k}) drew nothing`).toBe(true);
      }
    }
  });

  it('draws only the kinds it is given, and refuses a kind it does not know', () => {
    const kinds = new Set<string>();
    for (let seed = 100; seed < 110; seed++)
      for (const o of synthesizeScan({ seed, pixelMm: 20, clutter: 8, clutterKinds: ['rings', 'slab'] }).truth.scene
        .clutter ?? [])
        kinds.add(o.kind);
    expect([...kinds].sort()).toEqual(['rings', 'slab']);
    expect(() => synthesizeScan({ seed: 1, pixelMm: 20, clutter: 2, clutterKinds: ['ring' as ClutterKind] })).toThrow(
      /clutterKinds must name one or more of lumps, .*, got "ring"/,
    );
    expect(() => synthesizeScan({ seed: 1, pixelMm: 20, clutter: 2, clutterKinds: [] })).toThrow(
      /clutterKinds must name/,
    );
  });

  it('refuses a clutter count that is not an integer 0..50, naming it', () => {
    for (const clutter of [-1, 1.5, 51])
      expect(() => synthesizeScan({ seed: 1, pixelMm: 10, clutter })).toThrow(
        /clutter must be an integer 0\.\.50, got/,
      );
  });
});
