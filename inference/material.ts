import type { RegionEvidence, ScanImage } from '../core/domain.js';

/**
 * Evidence that a region is a person, from the dual-energy image: what the region adds to the
 * attenuation of its surroundings at both energies, the ratio of the two (which depends on the
 * material's atomic number through pair production), and the water-equivalent thickness.
 *
 *   a_E(p)     = -ln(I_E(p) / 65535)                      attenuation at energy E (4 and 6 MeV)
 *   bg_E       = median of a_E over a ring around the region (the vehicle and cargo in front and behind)
 *   d_E        = mean over the region's core of (a_E(p) - bg_E), the core being the pixels whose high-energy
 *                excess is at least half the region's 90th percentile
 *   ratio      = d_low / d_high
 *   WET (mm)   = d_high / mu_water(6 MeV)
 *
 * Mass attenuation coefficients (NIST XCOM, cm^2/g): water 0.03403 (4 MeV) / 0.02770 (6 MeV), ratio
 * 1.229; soft tissue 1.225; polyethylene 1.25; cellulose 1.234; aluminium 1.170; silica 1.184;
 * iron 1.068; lead 0.956. Classes: organic (ratio >= 1.20), mixed (1.14..1.20), inorganic
 * (1.09..1.14), metal (< 1.09). At these energies the ratios lie close together, so a class needs a
 * clear excess: below 0.05 of high-energy attenuation (about 18 mm of water) the class is
 * 'unknown'. A body is plausible when the class is organic or mixed (a person seen through steel
 * walls or among other goods) and the water-equivalent thickness lies between 40 mm and 1,300 mm
 * (a child side-on to an adult lying along the beam).
 */
export const MU_WATER_HIGH_PER_MM = 0.0277 / 10;
export const RATIO_CLASSES = { organic: 1.2, mixed: 1.14, inorganic: 1.09 } as const;
export const MIN_EXCESS = 0.05;
export const BODY_WET_MM = { min: 40, max: 1300 } as const;

const att = (v: number) => -Math.log(Math.max(v, 1) / 65535);

function median(a: number[]): number {
  if (a.length === 0) return 0;
  const s = a.slice().sort((x, y) => x - y);
  return s[s.length >> 1];
}

/** Evidence for one region (input pixels), or undefined when the scan has no low-energy image. */
export function regionEvidence(
  img: ScanImage,
  r: { x: number; y: number; w: number; h: number },
): RegionEvidence | undefined {
  if (!img.low) return undefined;
  const { width: W, height: H } = img;
  const x0 = Math.max(0, r.x),
    y0 = Math.max(0, r.y),
    x1 = Math.min(W, r.x + r.w),
    y1 = Math.min(H, r.y + r.h);
  if (x1 <= x0 || y1 <= y0) return undefined;
  // Ring: a margin of half the region's size (at least 4 pixels) around it, sampled on a grid.
  const mx = Math.max(4, Math.round((x1 - x0) / 2)),
    my = Math.max(4, Math.round((y1 - y0) / 2));
  const rx0 = Math.max(0, x0 - mx),
    ry0 = Math.max(0, y0 - my),
    rx1 = Math.min(W, x1 + mx),
    ry1 = Math.min(H, y1 + my);
  const step = Math.max(1, Math.floor(Math.sqrt(((rx1 - rx0) * (ry1 - ry0)) / 4000)));
  const ringH: number[] = [],
    ringL: number[] = [];
  for (let y = ry0; y < ry1; y += step) {
    for (let x = rx0; x < rx1; x += step) {
      if (x >= x0 && x < x1 && y >= y0 && y < y1) continue;
      const k = y * W + x;
      ringH.push(att(img.high[k]));
      ringL.push(att(img.low[k]));
    }
  }
  const bgH = median(ringH),
    bgL = median(ringL);
  const exH: number[] = [],
    exL: number[] = [];
  const istep = Math.max(1, Math.floor(Math.sqrt(((x1 - x0) * (y1 - y0)) / 8000)));
  for (let y = y0; y < y1; y += istep) {
    for (let x = x0; x < x1; x += istep) {
      const k = y * W + x;
      exH.push(att(img.high[k]) - bgH);
      exL.push(att(img.low[k]) - bgL);
    }
  }
  const sorted = exH.slice().sort((a, b) => a - b);
  const p90 = sorted[Math.floor(sorted.length * 0.9)] ?? 0;
  let dH = 0,
    dL = 0,
    n = 0;
  for (let i = 0; i < exH.length; i++) {
    if (exH[i] >= p90 / 2) {
      dH += exH[i];
      dL += exL[i];
      n++;
    }
  }
  if (n === 0 || p90 <= 0) return { material: 'unknown', waterEquivalentMm: 0, ratio: 0, bodyPlausible: false };
  dH /= n;
  dL /= n;
  const ratio = dH > 0 ? dL / dH : 0;
  const wet = dH / MU_WATER_HIGH_PER_MM;
  const material: RegionEvidence['material'] =
    dH < MIN_EXCESS
      ? 'unknown'
      : ratio >= RATIO_CLASSES.organic
        ? 'organic'
        : ratio >= RATIO_CLASSES.mixed
          ? 'mixed'
          : ratio >= RATIO_CLASSES.inorganic
            ? 'inorganic'
            : 'metal';
  const bodyPlausible =
    (material === 'organic' || material === 'mixed') && wet >= BODY_WET_MM.min && wet <= BODY_WET_MM.max;
  return { material, waterEquivalentMm: Math.round(wet), ratio: Math.round(ratio * 1000) / 1000, bodyPlausible };
}
