import type { SynthScan } from './index.js';

/**
 * 8-bit renderings of a scan for people to look at (gallery, debugging): dark = dense, as cargo
 * X-ray viewers show it. Not used for training or detection, which read the 16-bit samples.
 */
export interface ViewOptions {
  /** Which image to show. Default 'high'. */
  energy?: 'high' | 'low';
  /** Display gamma on the transmission (smaller brings out dense regions). Default 0.5. */
  gamma?: number;
  /** Integer downscale factor (block average). Default 1. */
  downscale?: number;
  /** Draw person boxes (red) and decoy boxes (yellow). Default true. */
  boxes?: boolean;
}

/** Renders a scan to interleaved RGB bytes; returns the image and its size. */
export function renderView(
  scan: SynthScan,
  opts: ViewOptions = {},
): { width: number; height: number; rgb: Uint8Array } {
  const img = opts.energy === 'low' ? scan.low : scan.high;
  if (!img) throw new Error(`renderView: scan ${scan.seed} has no ${opts.energy} image (synthesize with dual: true)`);
  const gamma = opts.gamma ?? 0.5;
  const f = Math.max(1, Math.floor(opts.downscale ?? 1));
  const W = Math.floor(scan.width / f),
    H = Math.floor(scan.height / f);
  const lut = new Uint8Array(65536);
  for (let v = 0; v < 65536; v++) lut[v] = Math.round(255 * Math.pow(v / 65535, gamma));
  const rgb = new Uint8Array(W * H * 3);
  for (let r = 0; r < H; r++) {
    for (let i = 0; i < W; i++) {
      let sum = 0;
      for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) sum += img[(r * f + a) * scan.width + i * f + b];
      const g = lut[Math.round(sum / (f * f))];
      const o = (r * W + i) * 3;
      rgb[o] = rgb[o + 1] = rgb[o + 2] = g;
    }
  }
  if (opts.boxes ?? true) {
    const rect = (x: number, y: number, w: number, h: number, c: [number, number, number]) => {
      const x0 = Math.floor(x / f),
        y0 = Math.floor(y / f),
        x1 = Math.min(W - 1, Math.ceil((x + w) / f)),
        y1 = Math.min(H - 1, Math.ceil((y + h) / f));
      const put = (px: number, py: number) => {
        if (px < 0 || py < 0 || px >= W || py >= H) return;
        const o = (py * W + px) * 3;
        rgb[o] = c[0];
        rgb[o + 1] = c[1];
        rgb[o + 2] = c[2];
      };
      for (let t = 0; t < 2; t++) {
        for (let px = x0; px <= x1; px++) {
          put(px, y0 - t);
          put(px, y1 + t);
        }
        for (let py = y0; py <= y1; py++) {
          put(x0 - t, py);
          put(x1 + t, py);
        }
      }
    };
    const p = scan.pixelMm;
    for (const d of scan.truth.scene.decoys) {
      rect(d.x0Mm / p, scan.height - d.z1Mm / p, (d.x1Mm - d.x0Mm) / p, (d.z1Mm - d.z0Mm) / p, [240, 200, 0]);
    }
    for (const person of scan.truth.people) rect(person.box.x, person.box.y, person.box.w, person.box.h, [230, 30, 30]);
  }
  return { width: W, height: H, rgb };
}
