import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeScanImage } from '../../../../../firmware-bridge/scanner/file-drop/image-decode.js';
import { scanImage } from '../../../../helpers/inference.js';

describe('file drop: 16-bit image decoding', () => {
  const img = scanImage(240, 80, 5, [{ x: 100, y: 30, w: 40, h: 25, a: 3 }]);
  const png = (data: Uint16Array) =>
    sharp(data, { raw: { width: img.width, height: img.height, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();

  it('keeps a full-scale file bit for bit, without a note', async () => {
    const d = await decodeScanImage(await png(img.high));
    expect(d.fileBits).toBe(16);
    expect(d.pixels).toEqual(img.high);
    expect(d.notes).toEqual([]);
  });

  it("rescales a file whose open beam reads 60 % of full scale, with a note; openBeam 'full' reads it as it is", async () => {
    const dim = await png(img.high.map((v) => Math.round(v * 0.6)));
    const d = await decodeScanImage(dim);
    expect(d.notes.join('\n')).toMatch(/open beam reads 39321 at the border/);
    expect(d.pixels.every((v, i) => Math.abs(v - img.high[i]) <= 1)).toBe(true);
    const asIs = await decodeScanImage(dim, 'auto', 'full');
    expect(asIs.notes).toEqual([]);
    expect(Math.max(...asIs.pixels)).toBe(39321);
  });
});
