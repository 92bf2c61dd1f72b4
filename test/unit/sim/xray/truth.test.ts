import { describe, expect, it } from 'vitest';
import {
  type SynthOptions,
  type SynthScan,
  HIDING_PLACES,
  VEHICLE_CLASSES,
  synthesizeScan,
} from '../../../../sim/xray/index.js';
import { VEHICLES_BY_HIDING_PLACE } from '../../../../sim/xray/scene.js';

// Small, noise-free scans so that a scan with and without its people can be compared pixel by pixel.
const quiet = { noise: false, blur: 0, gainSigma: 0, flickerSigma: 0, deadChannels: 0, scatter: 0 } as const;

function checkBoxes(scan: SynthScan): void {
  for (const p of scan.truth.people) {
    const { x, y, w, h } = p.box;
    // Inside the image.
    expect(x).toBeGreaterThanOrEqual(0);
    expect(y).toBeGreaterThanOrEqual(0);
    expect(x + w).toBeLessThanOrEqual(scan.width);
    expect(y + h).toBeLessThanOrEqual(scan.height);
    expect(p.mask.length).toBe(w * h);
    // Tight over the mask: every edge row and column of the box holds a mask pixel.
    const row = (r: number) => p.mask.subarray(r * w, (r + 1) * w).some((v) => v === 1);
    const col = (i: number) => Array.from({ length: h }, (_, r) => p.mask[r * w + i]).some((v) => v === 1);
    expect(row(0) && row(h - 1) && col(0) && col(w - 1)).toBe(true);
    expect(p.area).toBe(p.mask.reduce((a, b) => a + b, 0));
    expect(p.area).toBeGreaterThan(0);
  }
}

/** Pixels where the scan differs from the same scene without its people, and by how much (relative). */
function personEffect(opts: SynthOptions): { scan: SynthScan; outsideMax: number; insideMax: number[] } {
  const scan = synthesizeScan({ ...opts, detector: quiet });
  const empty = synthesizeScan({ ...opts, detector: quiet, omitPeople: true });
  expect(empty.truth).toEqual(scan.truth);
  const inBox = new Uint8Array(scan.width * scan.height);
  for (const p of scan.truth.people)
    for (let r = 0; r < p.box.h; r++)
      inBox.fill(1, (p.box.y + r) * scan.width + p.box.x, (p.box.y + r) * scan.width + p.box.x + p.box.w);
  let outsideMax = 0;
  const insideMax = scan.truth.people.map(() => 0);
  for (let k = 0; k < scan.high.length; k++) {
    const a = scan.high[k],
      b = empty.high[k];
    if (a === b) continue;
    const rel = (b - a) / Math.max(1, b);
    if (!inBox[k]) outsideMax = Math.max(outsideMax, rel);
  }
  scan.truth.people.forEach((p, n) => {
    for (let r = 0; r < p.box.h; r++) {
      for (let i = 0; i < p.box.w; i++) {
        if (!p.mask[r * p.box.w + i]) continue;
        const k = (p.box.y + r) * scan.width + p.box.x + i;
        insideMax[n] = Math.max(insideMax[n], (empty.high[k] - scan.high[k]) / Math.max(1, empty.high[k]));
      }
    }
  });
  return { scan, outsideMax, insideMax };
}

describe('ground truth', () => {
  it('boxes lie inside the image and tightly over each mask, for every vehicle class', () => {
    let people = 0;
    for (let seed = 0; seed < 24; seed++) {
      const scan = synthesizeScan({
        seed,
        pixelMm: 12,
        personShare: 0.8,
        vehicleClass: VEHICLE_CLASSES[seed % 4],
        detector: quiet,
      });
      checkBoxes(scan);
      expect(scan.truth.label).toBe(scan.truth.people.length > 0 ? 'person' : 'clear');
      people += scan.truth.people.length;
    }
    expect(people).toBeGreaterThan(10);
  });

  it('each person changes the image only inside their box (beyond the mask threshold) and clearly inside it', () => {
    for (const [k, place] of HIDING_PLACES.entries()) {
      const vehicleClass = VEHICLES_BY_HIDING_PLACE[place][k % VEHICLES_BY_HIDING_PLACE[place].length];
      const { scan, outsideMax, insideMax } = personEffect({
        seed: 40 + k,
        pixelMm: 12,
        vehicleClass,
        hidingPlace: place,
        peopleCount: 2,
      });
      expect(scan.truth.people.length, place).toBe(2);
      expect(scan.truth.people.every((p) => p.hidingPlace === place)).toBe(true);
      checkBoxes(scan);
      // Outside the boxes, only fringes thinner than the mask threshold (0.5 g/cm^2: < 1.5 % loss).
      expect(outsideMax, place).toBeLessThan(0.015);
      for (const m of insideMax) expect(m, place).toBeGreaterThan(0.1);
    }
  });

  it('a scan labelled clear contains no person: it equals the same scene drawn without people', () => {
    let clear = 0;
    for (let seed = 100; seed < 112; seed++) {
      const opts = { seed, pixelMm: 12, personShare: 0.3 };
      const scan = synthesizeScan({ ...opts, detector: quiet });
      if (scan.truth.label !== 'clear') continue;
      clear++;
      expect(scan.truth.people).toEqual([]);
      const empty = synthesizeScan({ ...opts, detector: quiet, omitPeople: true });
      expect(Buffer.compare(Buffer.from(scan.high.buffer), Buffer.from(empty.high.buffer))).toBe(0);
    }
    expect(clear).toBeGreaterThan(3);
  });

  it('a fixed number of lines that cuts the vehicle short clips boxes to the image and drops people outside it', () => {
    let dropped = 0;
    let clipped = 0;
    for (let seed = 0; seed < 6; seed++) {
      const opts = { seed, pixelMm: 12, vehicleClass: 'articulated' as const, peopleCount: 4, detector: quiet };
      const whole = synthesizeScan(opts);
      expect(whole.truth.people).toHaveLength(4);
      // Cut at line 300, and through the middle of the first person.
      const first = whole.truth.people[0]!.box;
      for (const lines of [300, first.x + Math.max(1, Math.floor(first.w / 2))]) {
        const scan = synthesizeScan({ ...opts, lines });
        expect(scan.width).toBe(lines);
        expect(whole.width).toBeGreaterThan(lines);
        checkBoxes(scan);
        // The same scene, cut at `lines`: exactly the people starting before it are kept.
        const kept = whole.truth.people.filter((p) => p.box.x < lines);
        expect(scan.truth.people.map((p) => p.box.x).sort((a, b) => a - b)).toEqual(
          kept.map((p) => p.box.x).sort((a, b) => a - b),
        );
        dropped += whole.truth.people.length - scan.truth.people.length;
        clipped += kept.filter((p) => p.box.x + p.box.w > lines).length;
        expect(scan.truth.label).toBe(kept.length > 0 ? 'person' : 'clear');
      }
    }
    expect(dropped).toBeGreaterThan(0);
    expect(clipped).toBeGreaterThan(0);
  });

  it('a short detector column clips boxes at the top of the image and drops people above it', () => {
    let dropped = 0;
    let clipped = 0;
    for (let seed = 0; seed < 4; seed++) {
      for (const channels of [200, 240]) {
        const opts = {
          seed,
          pixelMm: 15,
          vehicleClass: 'box-truck' as const,
          hidingPlace: 'cab-roof' as const,
          peopleCount: 2,
          detector: quiet,
        };
        const scan = synthesizeScan({ ...opts, channels });
        const whole = synthesizeScan(opts);
        expect(scan.height).toBe(channels);
        expect(whole.truth.people).toHaveLength(2);
        checkBoxes(scan);
        // The column is cut at the top: rows above `cut` of the whole scan are missing.
        const cut = whole.height - channels;
        const kept = whole.truth.people.filter((p) => p.box.y + p.box.h > cut);
        expect(scan.truth.people).toHaveLength(kept.length);
        // Each kept box lies within its whole-scan box moved up by the cut (tight over what is left).
        for (const p of scan.truth.people)
          expect(
            kept.some(
              (k) =>
                p.box.x >= k.box.x &&
                p.box.x + p.box.w <= k.box.x + k.box.w &&
                p.box.y >= Math.max(0, k.box.y - cut) &&
                p.box.y + p.box.h <= k.box.y + k.box.h - cut,
            ),
          ).toBe(true);
        dropped += whole.truth.people.length - scan.truth.people.length;
        clipped += kept.filter((p) => p.box.y < cut).length;
      }
    }
    expect(dropped).toBeGreaterThan(0);
    expect(clipped).toBeGreaterThan(0);
  });

  it('records how visible each person is: contrast, background transmission and per-pixel SNR', () => {
    const opts = {
      seed: 75,
      pixelMm: 12,
      vehicleClass: 'articulated' as const,
      trailer: 'container' as const,
      hidingPlace: 'empty-load' as const,
      peopleCount: 2,
    };
    const full = synthesizeScan({ ...opts, detector: { photonsHigh: 40_000, cabDose: 1 } });
    const quarter = synthesizeScan({ ...opts, detector: { photonsHigh: 10_000, cabDose: 1 } });
    expect(full.truth.people).toHaveLength(2);
    full.truth.people.forEach((p, k) => {
      const v = p.visibility;
      expect(v.contrast).toBeGreaterThan(0.1);
      expect(v.contrast).toBeLessThan(1);
      // Inside an empty steel container: only its two side walls (~0.9) behind the person.
      expect(v.backgroundTransmission).toBeGreaterThan(0.8);
      expect(v.backgroundTransmission).toBeLessThanOrEqual(1);
      // Photon noise: SNR scales with the square root of the dose.
      expect(quarter.truth.people[k].visibility.pixelSnr).toBeCloseTo(v.pixelSnr / 2, 1);
      expect(quarter.truth.people[k].visibility.contrast).toBe(v.contrast);
    });
    // Behind dense cargo the background is darker.
    const dense = synthesizeScan({
      seed: 12,
      pixelMm: 12,
      vehicleClass: 'articulated',
      cargoKind: 'sacks',
      cargoDensity: 'dense',
      hidingPlace: 'among-cargo',
      peopleCount: 1,
    });
    expect(dense.truth.people[0].visibility.backgroundTransmission).toBeLessThan(
      full.truth.people[0].visibility.backgroundTransmission,
    );
  });

  it('person share 0 gives only clear scans and 1 only scans with people', () => {
    for (let seed = 0; seed < 8; seed++) {
      expect(synthesizeScan({ seed, pixelMm: 15, personShare: 0 }).truth.label).toBe('clear');
      expect(synthesizeScan({ seed, pixelMm: 15, personShare: 1 }).truth.label).toBe('person');
    }
  });

  it('rejects a hiding place the vehicle does not have, naming both', () => {
    expect(() => synthesizeScan({ seed: 1, vehicleClass: 'car', hidingPlace: 'cab-sleeper', peopleCount: 1 })).toThrow(
      /car.*cab-sleeper|cab-sleeper.*car/,
    );
  });
});
