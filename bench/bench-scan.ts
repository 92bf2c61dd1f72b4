import type { ScanImage } from '../core/domain.js';
import { synthesizeScan } from '../sim/xray/index.js';

/** The benches' scan: a 1,280-channel dual-energy articulated truck of 3,000 lines at 5 mm. */
export const CHANNELS = 1280;
export const LINES = 3000;
export const PIXEL_MM = 5;

export function benchScan(seed: number): ScanImage {
  return synthesizeScan({
    seed,
    dual: true,
    channels: CHANNELS,
    lines: LINES,
    pixelMm: PIXEL_MM,
    vehicleClass: 'articulated',
  });
}
