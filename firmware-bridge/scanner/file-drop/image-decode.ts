import sharp from 'sharp';
import {
  DEFAULT_EXPORT,
  type ExportDecoding,
  type ExportEstimate,
  decodeExportWith,
  describeEstimate,
} from '../../../core/export-chain.js';
import { MAX_SCAN_PIXELS } from '../../../core/domain.js';
import { DEFAULT_OPEN_BEAM, type OpenBeamOption, normaliseOpenBeam } from '../../../core/open-beam.js';

export interface DecodedScanImage {
  width: number;
  height: number;
  /** Row-major grey values, 65535 = open beam. */
  pixels: Uint16Array;
  /** Bits per sample in the file: 16 kept as is (open beam rescaled to 65535 when it reads lower: core/open-beam.ts), 8 decoded through the export chain (core/export-chain.ts). */
  fileBits: 8 | 16;
  format: string;
  /** Things the caller should warn about (8-bit source, colour source). */
  notes: string[];
  /** The chain estimated from an 8-bit image whose chain was not named (decode the pair's low energy with it). */
  estimate?: ExportEstimate;
}

/** Largest image accepted (channels x lines): the same cap as the line stream's. */
const MAX_PIXELS = MAX_SCAN_PIXELS;

/**
 * Decodes a scan image file (16-bit grey PNG or TIFF, 8-bit grey JPEG, or any format sharp
 * reads) to 16-bit grey. 16-bit sources keep every bit; 8-bit sources are exports of a display
 * chain and are decoded back to intensity by `exportChain` (default DEFAULT_EXPORT, 'auto': the
 * chain estimated from the image, said in the note with how sure it is; or an estimate made on the
 * pair's high-energy file), with a note, since 8 bits lose most of the dense-cargo range. A 16-bit
 * source whose open beam reads below 65535 is rescaled as `openBeam` says (default 'auto'), with a note.
 */
export async function decodeScanImage(
  input: string | Buffer,
  exportChain: ExportDecoding = DEFAULT_EXPORT,
  openBeam: OpenBeamOption = DEFAULT_OPEN_BEAM,
): Promise<DecodedScanImage> {
  const where = typeof input === 'string' ? input : 'image buffer';
  // The header only (no pixel decoded), so that a too large image is refused by name below.
  const meta = await sharp(input, { limitInputPixels: false }).metadata();
  if (!meta.width || !meta.height) throw new Error(`${where}: not a readable image (no size in its header)`);
  // From the header, before any pixel is decoded: a small compressed file can hold a huge image.
  if (meta.width * meta.height > MAX_PIXELS) {
    throw new Error(
      `${where}: ${meta.width} x ${meta.height} pixels is more than the largest scan accepted (${MAX_PIXELS} pixels, the line stream's cap too); not decoded`,
    );
  }
  const notes: string[] = [];
  if ((meta.channels ?? 1) >= 3 && meta.space !== 'b-w' && meta.space !== 'grey16')
    notes.push(`${meta.channels}-channel ${meta.space ?? ''} image converted to grey`);
  const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
  if (sixteen) {
    const { data, info } = await sharp(input, { limitInputPixels: MAX_PIXELS })
      .toColourspace('grey16')
      .raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    const depth = (info as { depth?: string }).depth;
    if (info.channels !== 1 || depth !== 'ushort' || data.length !== info.width * info.height * 2) {
      throw new Error(
        `${where}: 16-bit ${meta.format} decoded to ${info.channels} channel(s) of ${depth}, expected 1 of ushort; the image was not taken`,
      );
    }
    // Copy into an aligned array we own (the decoder's buffer may be pooled or unaligned).
    const own = new Uint16Array(info.width * info.height);
    new Uint8Array(own.buffer).set(data);
    const beam = normaliseOpenBeam(own, info.width, info.height, openBeam);
    if (beam.note) notes.push(beam.note);
    const pixels = beam.pixels;
    return { width: info.width, height: info.height, pixels, fileBits: 16, format: meta.format ?? 'unknown', notes };
  }
  if (meta.depth !== 'uchar' && meta.depth !== 'char')
    throw new Error(
      `${where}: ${meta.format} with ${meta.depth} samples is not supported: use 16-bit grey PNG/TIFF or 8-bit grey JPEG`,
    );
  const { data, info } = await sharp(input, { limitInputPixels: MAX_PIXELS })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`${where}: decoded to ${info.channels} channels, expected 1 (grey)`);
  const grey = new Uint8Array(data.buffer, data.byteOffset, info.width * info.height);
  const { intensity: pixels, estimate } = decodeExportWith(grey, info.width, info.height, exportChain);
  const how =
    exportChain === 'auto' && estimate
      ? `export chain estimated from the image, ${describeEstimate(estimate)}`
      : estimate
        ? 'export chain estimated from the high-energy image of the pair'
        : `${(exportChain as { scaling: string }).scaling} export chain from config`;
  notes.push(`8-bit ${meta.format} decoded to intensity (${how}): dense cargo detail is limited`);
  return {
    width: info.width,
    height: info.height,
    pixels,
    fileBits: 8,
    format: meta.format ?? 'unknown',
    notes,
    ...(estimate ? { estimate } : {}),
  };
}

/** Encodes a row-major 16-bit grey image as PNG (simulators, tests, evidence). */
export async function encodeGrey16Png(pixels: Uint16Array, width: number, height: number): Promise<Buffer> {
  return sharp(pixels, { raw: { width, height, channels: 1 } })
    .toColourspace('grey16')
    .png({ compressionLevel: 1 })
    .toBuffer();
}

/** Encodes an 8-bit grey JPEG from 16-bit values (v >> 8), as many fielded scanners export. */
export async function encodeGrey8Jpeg(
  pixels: Uint16Array,
  width: number,
  height: number,
  quality = 90,
): Promise<Buffer> {
  const b = Buffer.allocUnsafe(pixels.length);
  for (let i = 0; i < pixels.length; i++) b[i] = pixels[i] >> 8;
  return sharp(b, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .jpeg({ quality })
    .toBuffer();
}
