import sharp, { type Metadata } from 'sharp';
import { MAX_SCAN_PIXELS } from './domain.js';
import {
  DEFAULT_EXPORT,
  type ExportDecoding,
  type ExportEstimate,
  decodeExportWith,
  describeEstimate,
} from './export-chain.js';
import { DEFAULT_OPEN_BEAM, type OpenBeamOption, normaliseOpenBeam } from './open-beam.js';

/**
 * The one decoder of scan image files, used by the file drop (firmware-bridge/scanner/file-drop),
 * `checkpoint-edge analyze` (inference/scan-file.ts) and the simulators; and the encoders the
 * simulators and tests write them with.
 */

export interface DecodedScanImage {
  width: number;
  height: number;
  /** Row-major grey values, 65535 = open beam. */
  pixels: Uint16Array;
  /** Bits per sample in the file: 16 kept as is (open beam rescaled to 65535 when it reads lower: core/open-beam.ts), 8 decoded through the export chain (core/export-chain.ts). */
  fileBits: 8 | 16;
  format: string;
  /** Things the caller should warn about (8-bit source, colour source, open beam rescaled); they do not name the file. */
  notes: string[];
  /** The chain estimated from an 8-bit image whose chain was not named (decode the pair's low energy with it). */
  estimate?: ExportEstimate;
  /** The level a 16-bit file's open beam was read at, when the file was rescaled to it. */
  openBeamLevel?: number;
}

/** Why a scan image was not decoded; the message names the file (or "image buffer"). */
export class ScanImageError extends Error {}

/** Largest image accepted (channels x lines): the same cap as the line stream's. */
const MAX_PIXELS = MAX_SCAN_PIXELS;

const EXPECTED = 'expected a 16-bit greyscale PNG or TIFF, or an 8-bit PNG or JPEG';

/**
 * Decodes a scan image file (16-bit grey PNG or TIFF: pixel = detected intensity, 65535 = open
 * beam, rows = detector channels, columns = lines; or an 8-bit PNG/JPEG export, or any format
 * sharp reads) to 16-bit grey. An image over MAX_SCAN_PIXELS is refused from its header, before
 * any pixel is decoded. 16-bit sources keep every bit; one whose open beam reads below 65535 is
 * rescaled as `openBeam` says (default 'auto': the air plateau at the border; core/open-beam.ts),
 * with a note. 8-bit sources are exports of a display chain and are decoded back to intensity by
 * `exportChain` (default DEFAULT_EXPORT; 'auto': the chain estimated from the image, said in the
 * note with how sure it is; or an estimate made on the pair's high-energy file;
 * core/export-chain.ts), with a note, since 8 bits lose most of the dense-cargo range.
 * Throws ScanImageError naming the file.
 */
export async function decodeScanImage(
  input: string | Buffer,
  exportChain: ExportDecoding = DEFAULT_EXPORT,
  openBeam: OpenBeamOption = DEFAULT_OPEN_BEAM,
  /** How errors name a buffer (its file), default "image buffer"; a path names itself. */
  name?: string,
): Promise<DecodedScanImage> {
  const where = typeof input === 'string' ? input : (name ?? 'image buffer');
  // The header only (no pixel decoded), so that a too large image is refused by name below.
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ScanImageError(`${where}: cannot be read as an image (${firstLine(err)}); ${EXPECTED}`, {
      cause: err,
    });
  }
  if (!meta.width || !meta.height)
    throw new ScanImageError(`${where}: cannot be read as an image (no size in its header); ${EXPECTED}`);
  // From the header, before any pixel is decoded: a small compressed file can hold a huge image.
  if (meta.width * meta.height > MAX_PIXELS) {
    throw new ScanImageError(
      `${where}: ${meta.width} x ${meta.height} pixels is more than the largest scan a lane takes (${MAX_PIXELS.toLocaleString('en')} pixels); not decoded: crop or split the image`,
    );
  }
  const format = meta.format ?? 'unknown';
  const notes: string[] = [];
  if ((meta.channels ?? 1) >= 3 && meta.space !== 'b-w' && meta.space !== 'grey16')
    notes.push(`colour image (${meta.channels}-channel ${meta.space ?? 'unknown space'}); converted to greyscale`);
  if (meta.hasAlpha) notes.push('alpha channel ignored');
  if ((meta.pages ?? 1) > 1) notes.push(`${meta.pages} pages; the first is read`);
  if (meta.depth === 'short' || meta.depth === 'char')
    throw new ScanImageError(
      `${where}: ${format} with signed ${meta.depth === 'short' ? '16' : '8'}-bit samples is not supported (a scan is unsigned: 0 = no signal, ${meta.depth === 'short' ? '65535' : '255'} = open beam); ${EXPECTED}`,
    );
  const sixteen = meta.depth === 'ushort';
  const eight = meta.depth === 'uchar';
  if (!sixteen && !eight)
    throw new ScanImageError(
      `${where}: ${format} with ${meta.depth ?? 'unknown'} samples is not supported; ${EXPECTED}`,
    );
  try {
    if (sixteen) {
      const { data, info } = await sharp(input, { limitInputPixels: MAX_PIXELS })
        .removeAlpha()
        .toColourspace('grey16')
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
      const depth = (info as { depth?: string }).depth;
      if (info.channels !== 1 || depth !== 'ushort' || data.length !== info.width * info.height * 2) {
        throw new ScanImageError(
          `${where}: 16-bit ${format} decoded to ${info.channels} channel(s) of ${depth}, expected 1 of ushort; the image was not taken`,
        );
      }
      // Copy into an aligned array we own (the decoder's buffer may be pooled or unaligned).
      const own = new Uint16Array(info.width * info.height);
      new Uint8Array(own.buffer).set(data);
      const beam = normaliseOpenBeam(own, info.width, info.height, openBeam);
      if (beam.note) notes.push(beam.note);
      return {
        width: info.width,
        height: info.height,
        pixels: beam.pixels,
        fileBits: 16,
        format,
        notes,
        ...(beam.level !== undefined ? { openBeamLevel: beam.level } : {}),
      };
    }
    const { data, info } = await sharp(input, { limitInputPixels: MAX_PIXELS })
      .removeAlpha()
      .toColourspace('b-w')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1)
      throw new ScanImageError(`${where}: 8-bit ${format} decoded to ${info.channels} channels, expected 1 (grey)`);
    const grey = new Uint8Array(data.buffer, data.byteOffset, info.width * info.height);
    const { intensity: pixels, estimate } = decodeExportWith(grey, info.width, info.height, exportChain);
    const how =
      exportChain === 'auto' && estimate
        ? `the export chain estimated from the image: ${describeEstimate(estimate)}`
        : estimate
          ? 'the export chain estimated from the high-energy file of the pair'
          : `the named ${(exportChain as { scaling: string }).scaling} export chain`;
    notes.push(`8-bit image (${format}); decoded to intensity by ${how}; fine detail in dense regions is lost`);
    return {
      width: info.width,
      height: info.height,
      pixels,
      fileBits: 8,
      format,
      notes,
      ...(estimate ? { estimate } : {}),
    };
  } catch (err) {
    if (err instanceof ScanImageError) throw err;
    throw new ScanImageError(`${where}: cannot be decoded (${firstLine(err)})`, { cause: err });
  }
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

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
