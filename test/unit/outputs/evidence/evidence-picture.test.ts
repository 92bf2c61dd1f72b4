import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { percentileWindow } from '../../../../core/scan-picture.js';
import { renderScanJpeg } from '../../../../outputs/evidence/evidence-picture.js';
import type { ScanImage } from '../../../../core/domain.js';

/** Open beam everywhere but a dense block at lines 100-299, channels 20-59. */
function image(width: number, height: number): ScanImage {
  const high = new Uint16Array(width * height).fill(65535);
  for (let y = 20; y < 60; y++) for (let x = 100; x < 300; x++) high[y * width + x] = 2000;
  return { width, height, pixelMm: 5, high };
}

async function pixel(jpeg: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i], data[i + 1], data[i + 2]];
}

describe('scan picture', () => {
  it('shows open beam white, cargo dark, and flagged regions boxed in red', async () => {
    const img = image(400, 80);
    const r = await renderScanJpeg(img, [{ x: 150, y: 25, w: 50, h: 30, score: 0.9 }]);
    expect([r.width, r.height]).toEqual([400, 80]);
    const meta = await sharp(r.jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 400, 80]);
    const [wr, wg, wb] = await pixel(r.jpeg, 10, 10);
    expect(Math.min(wr, wg, wb)).toBeGreaterThan(230);
    const [dr] = await pixel(r.jpeg, 250, 40);
    expect(dr).toBeLessThan(40);
    const [rr, rg, rb] = await pixel(r.jpeg, 150, 40); // left edge of the box
    expect(rr).toBeGreaterThan(200);
    expect(Math.max(rg, rb)).toBeLessThan(80);
  });

  it('scales a long scan down to maxWidth and keeps the box at scale', async () => {
    const img = image(6000, 300);
    const r = await renderScanJpeg(img, [{ x: 3000, y: 100, w: 600, h: 100, score: 0.8 }], { maxWidth: 2000 });
    expect([r.width, r.height]).toEqual([2000, 100]);
    const [rr, rg] = await pixel(r.jpeg, 1000, 50); // x 3000/3, left edge
    expect(rr).toBeGreaterThan(200);
    expect(rg).toBeLessThan(80);
  });

  it('shows a scan whose lines are farther apart than its channels at its true proportions', async () => {
    // 400 lines 10 mm apart, channels 5 mm apart: the vehicle is 800 channel-pitches long.
    const img = { ...image(400, 80), lineMm: 10 };
    const r = await renderScanJpeg(img, [{ x: 150, y: 25, w: 50, h: 30, score: 0.9 }]);
    expect([r.width, r.height]).toEqual([800, 80]);
    const [rr, rg] = await pixel(r.jpeg, 300, 40); // the box's left edge, at line 150 x 2
    expect(rr).toBeGreaterThan(200);
    expect(rg).toBeLessThan(80);
    const [dr] = await pixel(r.jpeg, 500, 40); // the dense block, lines 100-299 -> 200-599
    expect(dr).toBeLessThan(40);
    // Lines closer than the channels, and too wide even so: squeezed, then fitted to maxWidth.
    const close = await renderScanJpeg({ ...image(6000, 300), lineMm: 2.5 }, [], { maxWidth: 2000 });
    expect([close.width, close.height]).toEqual([2000, 200]);
  });

  it('tints lines that never arrived', async () => {
    const img = image(400, 80);
    img.missing = new Uint8Array(400);
    img.missing.fill(1, 350, 360);
    const r = await renderScanJpeg(img, []);
    const [pr, pg, pb] = await pixel(r.jpeg, 355, 10);
    expect(pg).toBeLessThan(Math.min(pr, pb) - 40);
  });

  it('windows attenuation between robust percentiles and refuses a malformed image', async () => {
    const w = percentileWindow(image(400, 80).high);
    expect(w.low).toBe(0);
    expect(w.high).toBeCloseTo(-Math.log(2000 / 65535), 5);
    await expect(renderScanJpeg({ width: 10, height: 10, pixelMm: 5, high: new Uint16Array(5) }, [])).rejects.toThrow(
      /10x10 has 5 samples/,
    );
  });
});
