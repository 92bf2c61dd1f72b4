import sharp from 'sharp';
import type { LineBatch, ScanImage } from '../../core/domain.js';
import { attenuationLut, greyLut } from '../../core/scan-picture.js';

/**
 * Turning detector samples into pictures an operator reads. Samples are transmitted intensity
 * (65535 = open beam); the picture shows log-attenuation (compressed by DISPLAY_GAMMA), so that
 * thin and thick parts of a vehicle both keep contrast: open beam white, dense material dark, as
 * on scanner workstations.
 */

/** Attenuation (natural log of I0/I) shown as black; above it everything is black. */
const ATTENUATION_MAX = 8;
/**
 * Power applied to the attenuation before it becomes a grey level. Below 1 it spreads the thin
 * parts of a vehicle (sheet metal, cargo, people behind a wall: attenuation 0.1-2) over more
 * grey levels than the dense ones, where the eye needs them.
 */
export const DISPLAY_GAMMA = 0.6;

/** uint16 sample -> display byte (255 = open beam, 0 = attenuation >= ATTENUATION_MAX). */
export const DISPLAY_LUT: Uint8Array = greyLut({ low: 0, high: ATTENUATION_MAX }, DISPLAY_GAMMA);

/** uint16 sample -> attenuation, for the material view. */
const ATT_LUT: Float32Array = attenuationLut();

/** Display bytes of one energy, row-major like the image. */
function displayBytes(samples: Uint16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = DISPLAY_LUT[samples[i]!]!;
  return out;
}

// Colours of the material view, by ratio of low- to high-energy attenuation. At MeV energies
// the ratio falls with atomic number: organic (tissue, produce, plastic) ~1.22-1.26,
// light inorganic (aluminium, glass) ~1.17, steel ~1.07, lead below 1.
const METAL: [number, number, number] = [70, 130, 255];
const INORGANIC: [number, number, number] = [70, 205, 90];
const ORGANIC: [number, number, number] = [255, 150, 40];
const RATIO_METAL = 1.04;
const RATIO_ORGANIC = 1.23;
/** Below this high-energy attenuation the ratio is noise: the pixel stays grey. */
const ATT_MIN_FOR_COLOUR = 0.08;
const ATT_FULL_COLOUR = 0.5;

/**
 * The material view of a dual-energy image, RGB row-major: hue from the low/high attenuation
 * ratio (blue metal, green inorganic, orange organic), brightness from the high-energy image.
 */
export function materialRgb(high: Uint16Array, low: Uint16Array): Uint8Array {
  const out = new Uint8Array(high.length * 3);
  for (let i = 0; i < high.length; i++) {
    const aH = ATT_LUT[high[i]!]!;
    const aL = ATT_LUT[low[i]!]!;
    const lum = DISPLAY_LUT[high[i]!]! / 255;
    let r = 255;
    let g = 255;
    let b = 255;
    if (aH > ATT_MIN_FOR_COLOUR) {
      const t = Math.min(1, Math.max(0, (aL / aH - RATIO_METAL) / (RATIO_ORGANIC - RATIO_METAL)));
      const [c0, c1, u] = t < 0.5 ? [METAL, INORGANIC, t * 2] : [INORGANIC, ORGANIC, (t - 0.5) * 2];
      const sat = Math.min(1, (aH - ATT_MIN_FOR_COLOUR) / (ATT_FULL_COLOUR - ATT_MIN_FOR_COLOUR));
      r = 255 + (c0[0] + (c1[0] - c0[0]) * u - 255) * sat;
      g = 255 + (c0[1] + (c1[1] - c0[1]) * u - 255) * sat;
      b = 255 + (c0[2] + (c1[2] - c0[2]) * u - 255) * sat;
    }
    // Keep dense parts readable: brightness never drops to pure black.
    const k = 0.12 + 0.88 * lum;
    out[i * 3] = r * k;
    out[i * 3 + 1] = g * k;
    out[i * 3 + 2] = b * k;
  }
  return out;
}

export type ScanView = 'high' | 'low' | 'material';

/** The views an image has: every image has 'high'; dual-energy ones also 'low' and 'material'. */
export function viewsOf(image: Pick<ScanImage, 'low'>): ScanView[] {
  return image.low ? ['high', 'low', 'material'] : ['high'];
}

/** Renders one view of a scan image as PNG (grey for an energy, RGB for material). */
export async function renderScanPng(image: ScanImage, view: ScanView): Promise<Buffer> {
  const { width, height } = image;
  if (width === 0 || height === 0) throw new Error('scan image is empty (0 lines)');
  if (view === 'material') {
    if (!image.low) throw new Error('material view needs a dual-energy image; this scan has only the high energy');
    return sharp(materialRgb(image.high, image.low), { raw: { width, height, channels: 3 } })
      .png({ compressionLevel: 3 })
      .toBuffer();
  }
  const samples = view === 'low' ? image.low : image.high;
  if (!samples) throw new Error('this scan has no low-energy image');
  return sharp(displayBytes(samples), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: 3 })
    .toBuffer();
}

/** Live-view geometry of a scan: every `factor`-th line, channels averaged in groups of `factor`. */
export interface LiveGeometry {
  factor: number;
  /** Rows of the live view. */
  height: number;
}

/** Live views at most this tall: enough to see a vehicle take shape, small enough to stream. */
const LIVE_MAX_HEIGHT = 320;

export function liveGeometry(channels: number, maxHeight = LIVE_MAX_HEIGHT): LiveGeometry {
  const factor = Math.max(1, Math.ceil(channels / maxHeight));
  return { factor, height: Math.max(1, Math.floor(channels / factor)) };
}

/**
 * Downsamples a batch of lines for the live view. Returns the kept lines' display bytes,
 * line-major (line i, row r at i * height + r), with the live index of the first kept line.
 */
export function downsampleBatch(
  batch: LineBatch,
  geo: LiveGeometry,
): { firstIndex: number; count: number; high: Uint8Array; low?: Uint8Array } | null {
  const { factor, height } = geo;
  const ch = batch.channels;
  const first = Math.ceil(batch.firstIndex / factor) * factor;
  const kept: number[] = [];
  for (let i = first; i < batch.firstIndex + batch.count; i += factor) kept.push(i - batch.firstIndex);
  if (kept.length === 0) return null;
  const pick = (samples: Uint16Array): Uint8Array => {
    const out = new Uint8Array(kept.length * height);
    kept.forEach((li, k) => {
      const base = li * ch;
      for (let r = 0; r < height; r++) {
        let sum = 0;
        const c0 = r * factor;
        for (let c = c0; c < c0 + factor; c++) sum += samples[base + c]!;
        out[k * height + r] = DISPLAY_LUT[Math.round(sum / factor)]!;
      }
    });
    return out;
  };
  return {
    firstIndex: first / factor,
    count: kept.length,
    high: pick(batch.high),
    ...(batch.low ? { low: pick(batch.low) } : {}),
  };
}
