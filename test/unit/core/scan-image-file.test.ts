import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeScanImage, encodeGrey8Jpeg, encodeGrey16Png, ScanImageError } from '../../../core/scan-image-file.js';
import { scanImage } from '../../helpers/inference.js';

describe('scan image files: 16-bit decoding', () => {
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

describe('scan image files: 8-bit decoding, the pixel cap, errors', () => {
  const img = scanImage(240, 80, 5, [{ x: 100, y: 30, w: 40, h: 25, a: 3 }]);

  it('decodes an 8-bit export through the named chain and says so', async () => {
    const jpg = await encodeGrey8Jpeg(img.high, img.width, img.height, 95);
    const d = await decodeScanImage(jpg, { scaling: 'linear' });
    expect(d).toMatchObject({ width: 240, height: 80, fileBits: 8, format: 'jpeg' });
    expect(d.pixels.every((v) => v % 257 === 0)).toBe(true); // linear: grey g is g x 257 exactly
    expect(d.notes).toEqual([
      '8-bit image (jpeg); decoded to intensity by the named linear export chain; fine detail in dense regions is lost',
    ]);
  });

  it('refuses an image over the pixel cap from its header alone, before decoding any pixel', async () => {
    const big = await sharp(Buffer.alloc(6000 * 6000), { raw: { width: 6000, height: 6000, channels: 1 } })
      .png()
      .toBuffer();
    // The header without pixel data: decoding would fail ("cannot be decoded"); the cap refuses it first.
    const header = big.subarray(0, 2000);
    await expect(decodeScanImage(header)).rejects.toThrow(
      /^image buffer: 6000 x 6000 pixels is more than the largest scan accepted \(33554432 pixels.*not decoded$/,
    );
    await expect(decodeScanImage(header)).rejects.toBeInstanceOf(ScanImageError);
  });

  it('names the file, or "image buffer", when it cannot read or decode it', async () => {
    await expect(decodeScanImage(Buffer.from('not an image'))).rejects.toThrow(
      /^image buffer: cannot be read as an image \(.*\); expected a 16-bit greyscale PNG or TIFF, or an 8-bit PNG or JPEG$/,
    );
    await expect(decodeScanImage('/nonexistent/scan.png')).rejects.toThrow(
      /^\/nonexistent\/scan\.png: cannot be read as an image/,
    );
    const png = await encodeGrey16Png(img.high, img.width, img.height);
    await expect(decodeScanImage(png.subarray(0, 200))).rejects.toThrow(/^image buffer: cannot be decoded \(/);
  });
});
