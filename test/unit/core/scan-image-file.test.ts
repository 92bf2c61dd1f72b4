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

describe('scan image files: alpha and signed samples', () => {
  const img = scanImage(120, 40, 5, [{ x: 50, y: 10, w: 20, h: 12, a: 3 }]);

  it('ignores an alpha channel, with a note: 16-bit grey + alpha and RGBA, 8-bit grey + alpha', async () => {
    const n = img.width * img.height;
    const greyAlpha = new Uint16Array(2 * n);
    const rgba = new Uint16Array(4 * n);
    for (let i = 0; i < n; i++) {
      // A varying alpha: flattening the image against a background instead of dropping alpha would show.
      const alpha = (i * 4099) & 0xffff;
      greyAlpha.set([img.high[i], alpha], 2 * i);
      rgba.set([img.high[i], img.high[i], img.high[i], alpha], 4 * i);
    }
    const raw = (data: Uint16Array | Uint8Array, channels: 2 | 4) =>
      sharp(data, { raw: { width: img.width, height: img.height, channels } });
    for (const file of [
      await raw(greyAlpha, 2).toColourspace('grey16').png().toBuffer(),
      await raw(rgba, 4).toColourspace('rgb16').png().toBuffer(),
    ]) {
      const d = await decodeScanImage(file, 'auto', 'full');
      expect(d.fileBits).toBe(16);
      expect(d.notes).toContain('alpha channel ignored');
      expect(d.pixels.every((v, i) => Math.abs(v - img.high[i]) <= 1)).toBe(true);
    }
    const grey8 = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) grey8.set([img.high[i] >> 8, (i * 37) & 0xff], 2 * i);
    const d8 = await decodeScanImage(await raw(grey8, 2).png().toBuffer(), { scaling: 'linear' });
    expect(d8.fileBits).toBe(8);
    expect(d8.notes).toContain('alpha channel ignored');
    expect(d8.pixels.every((v, i) => v === (img.high[i] >> 8) * 257)).toBe(true);
  });

  it('reads the first page of a multi-page TIFF, and says so', async () => {
    const tiff = tiffPages([img.high, img.high.map((v) => 65535 - v)], img.width, img.height, 16, false);
    expect((await sharp(tiff).metadata()).pages).toBe(2);
    const d = await decodeScanImage(tiff, 'auto', 'full');
    expect(d.notes).toContain('2 pages; the first is read');
    expect(d).toMatchObject({ fileBits: 16, width: img.width, height: img.height });
    expect(d.pixels).toEqual(img.high);
  });

  it('refuses signed 16- and 8-bit samples (TIFFs of shorts and chars) by name instead of reading them as intensities', async () => {
    const signed = signedTiff(
      img.high.map((v) => v >> 1),
      img.width,
      img.height,
    );
    expect((await sharp(signed).metadata()).depth).toBe('short');
    await expect(decodeScanImage(signed, 'auto', 'auto', 'truck.tif')).rejects.toThrow(
      /^truck\.tif: tiff with signed 16-bit samples is not supported \(a scan is unsigned: 0 = no signal, 65535 = open beam\)/,
    );
    const signed8 = signedTiff(
      img.high.map((v) => v >> 9),
      img.width,
      img.height,
      8,
    );
    expect((await sharp(signed8).metadata()).depth).toBe('char');
    await expect(decodeScanImage(signed8, 'auto', 'auto', 'export.tif')).rejects.toThrow(
      /^export\.tif: tiff with signed 8-bit samples is not supported \(a scan is unsigned: 0 = no signal, 255 = open beam\)/,
    );
  });
});

/** A baseline little-endian TIFF of one strip of signed 16- or 8-bit samples (SampleFormat 2). */
function signedTiff(values: Uint16Array, width: number, height: number, bits: 16 | 8 = 16): Buffer {
  return tiffPages([values], width, height, bits, true);
}

/** A baseline little-endian TIFF, one page (IFD, one strip) per values array, 16- or 8-bit, signed or unsigned. */
function tiffPages(pages: Uint16Array[], width: number, height: number, bits: 16 | 8, signed: boolean): Buffer {
  const bytes = (width * height * bits) / 8;
  const ifdSize = 2 + 10 * 12 + 4;
  const pageSize = ifdSize + bytes;
  const buf = Buffer.alloc(8 + pages.length * pageSize);
  buf.write('II', 0, 'latin1');
  buf.writeUInt16LE(42, 2);
  buf.writeUInt32LE(8, 4);
  pages.forEach((values, p) => {
    const ifdAt = 8 + p * pageSize;
    const dataAt = ifdAt + ifdSize;
    const tags: [number, number, number][] = [
      [256, 3, width],
      [257, 3, height],
      [258, 3, bits],
      [259, 3, 1],
      [262, 3, 1],
      [273, 4, dataAt],
      [277, 3, 1],
      [278, 3, height],
      [279, 4, bytes],
      [339, 3, signed ? 2 : 1],
    ];
    buf.writeUInt16LE(tags.length, ifdAt);
    tags.forEach(([tag, type, value], i) => {
      const o = ifdAt + 2 + i * 12;
      buf.writeUInt16LE(tag, o);
      buf.writeUInt16LE(type, o + 2);
      buf.writeUInt32LE(1, o + 4);
      if (type === 3) buf.writeUInt16LE(value, o + 8);
      else buf.writeUInt32LE(value, o + 8);
    });
    buf.writeUInt32LE(p + 1 < pages.length ? ifdAt + pageSize : 0, ifdAt + 2 + tags.length * 12);
    for (let i = 0; i < values.length; i++) {
      if (bits === 16) {
        if (signed) buf.writeInt16LE(values[i], dataAt + 2 * i);
        else buf.writeUInt16LE(values[i], dataAt + 2 * i);
      } else if (signed) buf.writeInt8(values[i], dataAt + i);
      else buf.writeUInt8(values[i], dataAt + i);
    }
  });
  return buf;
}

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
      /^image buffer: 6000 x 6000 pixels is more than the largest scan a lane takes \(33,554,432 pixels.*not decoded: crop or split the image$/,
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
