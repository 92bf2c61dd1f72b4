import type { CompletedScan, LineBatch, ScanImage, ScanMeta } from '../../../core/domain.js';
import { scanLines } from '../../../sim/xray/index.js';

/**
 * A small dual-energy scan of a box truck with a person-shaped dense blob in the cargo, made
 * from Beer-Lambert attenuation, for tests that need real-looking pixels (no simulator needed).
 */
export function syntheticScan(opts: {
  scanId: string;
  laneId: string;
  lines?: number;
  channels?: number;
  plate?: string;
}): { meta: ScanMeta; image: ScanImage; person: { x: number; y: number; w: number; h: number } } {
  const width = opts.lines ?? 640;
  const height = opts.channels ?? 256;
  const high = new Uint16Array(width * height);
  const low = new Uint16Array(width * height);
  const person = {
    x: Math.round(width * 0.55),
    y: Math.round(height * 0.42),
    w: Math.round(width * 0.05),
    h: Math.round(height * 0.32),
  };
  // Path lengths in mm of steel and of water-like (organic) material, per pixel.
  const box = (x: number, r: number, x0: number, x1: number, r0: number, r1: number) =>
    x >= width * x0 && x < width * x1 && r >= height * r0 && r < height * r1;
  let seed = 12345;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return 1 + (seed / 0x7fffffff - 0.5) * 0.03;
  };
  for (let r = 0; r < height; r++) {
    for (let x = 0; x < width; x++) {
      let steel = 0;
      let organic = 0;
      if (box(x, r, 0.05, 0.22, 0.3, 0.82)) steel += 8; // cab walls
      if (box(x, r, 0.07, 0.17, 0.55, 0.82)) steel += 90; // engine block
      if (box(x, r, 0.1, 0.2, 0.32, 0.5)) steel -= 6; // windscreen
      if (box(x, r, 0.05, 0.95, 0.8, 0.84)) steel += 45; // chassis rails
      if (box(x, r, 0.24, 0.95, 0.14, 0.8)) steel += 6; // cargo box walls
      if (box(x, r, 0.26, 0.93, 0.3, 0.79)) {
        // Pallets of boxes: blocks of different density.
        const bx = Math.floor((x - width * 0.26) / (width * 0.067));
        const br = Math.floor((r - height * 0.3) / (height * 0.163));
        organic += 220 + ((bx * 7 + br * 3) % 5) * 70;
        if (x % Math.round(width * 0.067) < 2 || r % Math.round(height * 0.163) < 2) organic -= 120;
      }
      for (const wx of [0.13, 0.72, 0.84]) {
        const dx = (x - width * wx) / (height * 0.08);
        const dy = (r - height * 0.87) / (height * 0.08);
        if (dx * dx + dy * dy < 1) steel += 55;
      }
      const dx = (x - (person.x + person.w / 2)) / (person.w / 2);
      const dy = (r - (person.y + person.h / 2)) / (person.h / 2);
      if (dx * dx + dy * dy < 1) organic += 260;
      const attH = steel * 0.0244 + organic * 0.00277;
      const attL = steel * 0.0261 + organic * 0.0034;
      const i = r * width + x;
      const n = noise();
      high[i] = Math.max(1, Math.min(65535, Math.round(65535 * Math.exp(-attH) * n)));
      low[i] = Math.max(1, Math.min(65535, Math.round(65535 * Math.exp(-attL) * n)));
    }
  }
  const meta: ScanMeta = {
    scanId: opts.scanId,
    laneId: opts.laneId,
    startedAt: new Date().toISOString(),
    channels: height,
    energies: 2,
    pixelMm: 5,
    lineRateHz: 400,
    vehicle: opts.plate ? { plate: opts.plate } : {},
    source: 'stream',
  };
  return { meta, image: { width, height, pixelMm: 5, high, low }, person };
}

/** The image's lines [first, first + count), cut at the image's end, as a line-major batch, as a scanner sends them. */
export function batchOf(scanId: string, image: ScanImage, first: number, count: number): LineBatch {
  return scanLines(image, scanId, first, Math.min(count, image.width - first));
}

export function completed(meta: ScanMeta, image: ScanImage): CompletedScan {
  return { meta, endedAt: new Date().toISOString(), image };
}
