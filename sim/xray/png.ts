import { deflateSync, inflateSync } from 'node:zlib';

/**
 * Minimal PNG writer and reader for greyscale (8 or 16 bit) and RGB (8 bit) images, so that data
 * sets do not depend on an image library's handling of 16-bit samples. 16-bit samples are stored
 * big-endian as the PNG specification requires.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** colorType 0 = grey, 2 = RGB. */
function encode(
  width: number,
  height: number,
  bitDepth: 8 | 16,
  colorType: 0 | 2,
  rows: (r: number, line: Buffer) => void,
  bytesPerRow: number,
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  const raw = Buffer.alloc((bytesPerRow + 1) * height);
  for (let r = 0; r < height; r++) {
    const off = r * (bytesPerRow + 1);
    raw[off] = 0; // filter: none (fast; zlib does the work)
    rows(r, raw.subarray(off + 1, off + 1 + bytesPerRow));
  }
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 3 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** 16-bit greyscale PNG from row-major uint16 samples. */
export function encodeGrey16(width: number, height: number, data: Uint16Array): Buffer {
  if (data.length !== width * height) throw new RangeError(`png: ${data.length} samples for ${width} x ${height}`);
  return encode(
    width,
    height,
    16,
    0,
    (r, line) => {
      const base = r * width;
      for (let i = 0; i < width; i++) line.writeUInt16BE(data[base + i], 2 * i);
    },
    2 * width,
  );
}

/** 8-bit greyscale PNG. */
export function encodeGrey8(width: number, height: number, data: Uint8Array): Buffer {
  if (data.length !== width * height) throw new RangeError(`png: ${data.length} samples for ${width} x ${height}`);
  return encode(width, height, 8, 0, (r, line) => line.set(data.subarray(r * width, (r + 1) * width)), width);
}

/** 8-bit RGB PNG from interleaved RGB bytes. */
export function encodeRgb8(width: number, height: number, rgb: Uint8Array): Buffer {
  if (rgb.length !== width * height * 3) throw new RangeError(`png: ${rgb.length} bytes for ${width} x ${height} RGB`);
  return encode(
    width,
    height,
    8,
    2,
    (r, line) => line.set(rgb.subarray(r * width * 3, (r + 1) * width * 3)),
    width * 3,
  );
}

/** Reads a non-interlaced 8/16-bit greyscale PNG written by encodeGrey16/encodeGrey8 (filter type 0 only). */
export function decodeGrey(png: Uint8Array): { width: number; height: number; bitDepth: 8 | 16; data: Uint16Array } {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('png: not a PNG file (bad signature)');
  let off = 8;
  let width = 0,
    height = 0,
    bitDepth = 0,
    colorType = -1;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bitDepth = data[8];
      colorType = data[9];
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  if (colorType !== 0 || (bitDepth !== 8 && bitDepth !== 16))
    throw new Error(`png: only 8/16-bit greyscale is read here (colour type ${colorType}, depth ${bitDepth})`);
  const raw = inflateSync(Buffer.concat(idat));
  const bpp = bitDepth / 8;
  const out = new Uint16Array(width * height);
  for (let r = 0; r < height; r++) {
    const o = r * (width * bpp + 1);
    if (raw[o] !== 0) throw new Error(`png: row ${r} uses filter ${raw[o]}; only filter 0 is supported by this reader`);
    for (let i = 0; i < width; i++) out[r * width + i] = bpp === 2 ? raw.readUInt16BE(o + 1 + 2 * i) : raw[o + 1 + i];
  }
  return { width, height, bitDepth: bitDepth as 8 | 16, data: out };
}
