import { fileURLToPath } from 'node:url';
import type { CompletedScan, LineBatch, ScanImage, ScanMeta } from '../../core/domain.js';
import { scanMeta } from './builders.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/inference/', import.meta.url));
export const TINY = `${FIXTURES}tiny-fcn`;

/** Intensity of log attenuation a. */
export const I = (a: number) => Math.round(65535 * Math.exp(-a));

export interface Block {
  x: number;
  y: number;
  w: number;
  h: number;
  /** log attenuation inside */
  a: number;
}

/**
 * A synthetic scan: open beam above the vehicle, a vehicle body of attenuation ~1 with mild
 * deterministic texture, and dense blocks (what the tiny fixture model flags).
 */
export function scanImage(width: number, height: number, pixelMm: number, blocks: Block[], dual = false): ScanImage {
  const high = new Uint16Array(width * height);
  const low = dual ? new Uint16Array(width * height) : undefined;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let a = y > height * 0.2 ? 1 + 0.2 * Math.sin(x * 0.37 + y * 0.11) : 0;
      for (const b of blocks) if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) a = b.a;
      high[y * width + x] = I(a);
      if (low) low[y * width + x] = I(a * 1.3);
    }
  }
  return { width, height, pixelMm, high, ...(low ? { low } : {}) };
}

export function metaFor(img: ScanImage, scanId = 'scan-1'): ScanMeta {
  return scanMeta({
    scanId,
    startedAt: new Date(0).toISOString(),
    channels: img.height,
    energies: img.low ? 2 : 1,
    pixelMm: img.pixelMm,
    ...(img.lineMm !== undefined ? { lineMm: img.lineMm } : {}),
  });
}

export function completed(img: ScanImage, meta = metaFor(img)): CompletedScan {
  return { meta, endedAt: new Date(1).toISOString(), image: img };
}

/** Lines [from, to) of a row-major image as a line-major batch. */
export function batch(img: ScanImage, from: number, to: number, scanId = 'scan-1'): LineBatch {
  const c = img.height;
  const n = to - from;
  const pick = (plane: Uint16Array) => {
    const out = new Uint16Array(n * c);
    for (let l = 0; l < n; l++) for (let r = 0; r < c; r++) out[l * c + r] = plane[r * img.width + from + l];
    return out;
  };
  return {
    scanId,
    firstIndex: from,
    count: n,
    channels: c,
    high: pick(img.high),
    ...(img.low ? { low: pick(img.low) } : {}),
  };
}
