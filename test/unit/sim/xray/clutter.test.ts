import { describe, expect, it } from 'vitest';
import { CLUTTER_KINDS, drawClutter } from '../../../../sim/xray/clutter.js';
import { synthesizeScan } from '../../../../sim/xray/index.js';
import { Rng } from '../../../../sim/xray/prng.js';
import { Projection } from '../../../../sim/xray/projection.js';

describe('clutter (domain randomisation in the scene)', () => {
  it('left out or 0, the scan is the same bit for bit', () => {
    for (const seed of [3, 21]) {
      const a = synthesizeScan({ seed, dual: true, pixelMm: 10 });
      const b = synthesizeScan({ seed, dual: true, pixelMm: 10, clutter: 0 });
      expect(Buffer.compare(Buffer.from(b.high.buffer), Buffer.from(a.high.buffer))).toBe(0);
      expect(Buffer.compare(Buffer.from(b.low!.buffer), Buffer.from(a.low!.buffer))).toBe(0);
      expect(b.truth).toEqual(a.truth);
      expect(a.truth.scene.clutter).toBeUndefined();
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
      // Every object lies clear of every person's box.
      const H = cluttered.height * 10;
      for (const p of cluttered.truth.people) {
        const x0 = p.box.x * 10,
          x1 = (p.box.x + p.box.w) * 10;
        const z1 = H - p.box.y * 10,
          z0 = H - (p.box.y + p.box.h) * 10;
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

  it('refuses a clutter count that is not an integer 0..50, naming it', () => {
    for (const clutter of [-1, 1.5, 51])
      expect(() => synthesizeScan({ seed: 1, pixelMm: 10, clutter })).toThrow(
        /clutter must be an integer 0\.\.50, got/,
      );
  });
});
