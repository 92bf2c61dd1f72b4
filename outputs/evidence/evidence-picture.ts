import sharp from 'sharp';
import type { Region, ScanImage } from '../../core/domain.js';
import { greyLut, percentileWindow, type AttenuationWindow } from '../../core/scan-picture.js';

export interface ScanRenderOptions {
  /** Wider scans are scaled down to this width (aspect kept). */
  maxWidth?: number;
  /** JPEG quality 1-100. */
  quality?: number;
}

export interface RenderedScan {
  jpeg: Buffer;
  width: number;
  height: number;
  /** The attenuation window used: -ln(I/I0) mapped to white..black. */
  window: AttenuationWindow;
}

/**
 * Square root of the window fraction: spreads the thin materials (car body, people, cargo) that a
 * linear ramp leaves near white when the per-scan window also has to hold axles and engine blocks.
 */
const EVIDENCE_GAMMA = 0.5;

/**
 * A JPEG of a scan for operators and central command: high-energy channel as log-attenuation
 * greyscale, lines that never arrived tinted magenta, flagged regions boxed in red. A scan whose
 * lines are not as far apart as its channels (lineMm) is stretched or squeezed along the scan so the
 * vehicle shows at its true proportions. Pictures wider than maxWidth are scaled down first
 * (detector values, before the log), and the boxes drawn at the output scale so they stay sharp.
 */
export async function renderScanJpeg(
  image: ScanImage,
  regions: readonly Region[],
  opts: ScanRenderOptions = {},
): Promise<RenderedScan> {
  const { width: w, height: h } = image;
  if (w <= 0 || h <= 0 || image.high.length < w * h)
    throw new Error(`scan image ${w}x${h} has ${image.high.length} samples; cannot render it`);
  const maxWidth = opts.maxWidth ?? 2000;
  // Width at the channels' pitch: the vehicle's true length over its height.
  const trueWidth = Math.max(1, Math.round((w * (image.lineMm ?? image.pixelMm)) / image.pixelMm));
  const ow = Math.min(trueWidth, maxWidth);
  const oh = trueWidth > maxWidth ? Math.max(1, Math.round((h * maxWidth) / trueWidth)) : h;
  let src = image.high.length === w * h ? image.high : image.high.subarray(0, w * h);
  if (ow !== w || oh !== h) {
    // Scale the detector values first (16-bit, in libvips), so the per-pixel work below runs
    // on the output size only.
    const { data } = await sharp(src, { raw: { width: w, height: h, channels: 1 } })
      // Stretched lines are interpolated linearly: lanczos would ring at dense edges, and its
      // undershoot read as attenuation would set the window.
      .resize(ow, oh, { fit: 'fill', kernel: ow > w ? 'linear' : 'lanczos3' })
      .toColourspace('grey16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    src = new Uint16Array(data.buffer, data.byteOffset, data.length >> 1);
  }
  const win = percentileWindow(src);
  const lut = greyLut(win, EVIDENCE_GAMMA);
  const pixels = Buffer.allocUnsafe(ow * oh);
  for (let i = 0; i < ow * oh; i++) pixels[i] = lut[src[i]];
  const rgb = Buffer.allocUnsafe(ow * oh * 3);
  for (let i = 0, j = 0; i < ow * oh; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = pixels[i];

  const sx = ow / w;
  const sy = oh / h;
  if (image.missing) {
    for (let x = 0; x < ow; x++) {
      const a = Math.floor(x / sx);
      const b = Math.min(w, Math.max(a + 1, Math.floor((x + 1) / sx)));
      let miss = false;
      for (let k = a; k < b && !miss; k++) miss = image.missing[k] === 1;
      if (!miss) continue;
      for (let y = 0; y < oh; y++) {
        const j = (y * ow + x) * 3;
        rgb[j] = Math.min(255, rgb[j] + 80);
        rgb[j + 1] = rgb[j + 1] >> 1;
        rgb[j + 2] = Math.min(255, rgb[j + 2] + 80);
      }
    }
  }

  const t = Math.max(2, Math.round(Math.min(ow, oh) / 250));
  for (const r of regions) {
    const x0 = clamp(Math.round(r.x * sx), 0, ow - 1);
    const y0 = clamp(Math.round(r.y * sy), 0, oh - 1);
    const x1 = clamp(Math.round((r.x + r.w) * sx) - 1, x0, ow - 1);
    const y1 = clamp(Math.round((r.y + r.h) * sy) - 1, y0, oh - 1);
    fillRed(rgb, ow, x0, y0, x1, Math.min(y1, y0 + t - 1));
    fillRed(rgb, ow, x0, Math.max(y0, y1 - t + 1), x1, y1);
    fillRed(rgb, ow, x0, y0, Math.min(x1, x0 + t - 1), y1);
    fillRed(rgb, ow, Math.max(x0, x1 - t + 1), y0, x1, y1);
  }
  const jpeg = await sharp(rgb, { raw: { width: ow, height: oh, channels: 3 } })
    .jpeg({ quality: opts.quality ?? 85, mozjpeg: false })
    .toBuffer();
  return { jpeg, width: ow, height: oh, window: win };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function fillRed(rgb: Buffer, width: number, x0: number, y0: number, x1: number, y1: number): void {
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const j = (y * width + x) * 3;
      rgb[j] = 255;
      rgb[j + 1] = 0;
      rgb[j + 2] = 0;
    }
  }
}
