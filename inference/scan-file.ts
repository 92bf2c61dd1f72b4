import type { ScanImage } from '../core/domain.js';
import { DEFAULT_EXPORT, type ExportDecoding, type ExportEstimate } from '../core/export-chain.js';
import { DEFAULT_LOW_ENERGY_SCALE, type LowEnergyScaleOption, normaliseLowEnergy } from '../core/dual-energy-scale.js';
import { DEFAULT_OPEN_BEAM, type OpenBeamOption } from '../core/open-beam.js';
import { type DecodedScanImage, decodeScanImage, ScanImageError } from '../core/scan-image-file.js';

/** Pixel pitch assumed when the caller gives none. */
const DEFAULT_PIXEL_MM = 5;

export interface ScanFile {
  /** Intensities, 65535 = open beam (8-bit files decoded through their export chain). */
  image: Uint16Array;
  width: number;
  height: number;
  bitDepth: 8 | 16;
  /** Things the caller should tell the user (8-bit input, colour input). */
  warnings: string[];
  /** The chain estimated from an 8-bit image whose chain was not named. */
  estimate?: ExportEstimate;
  /** The level a 16-bit file's open beam was read at, when the file was rescaled to it. */
  openBeamLevel?: number;
}

/** Why a scan file cannot be analysed; the message names the file. */
export class ScanFileError extends Error {}

/**
 * Decodes a scan image with core/scan-image-file.ts: 16-bit greyscale PNG or TIFF (pixel = detected
 * intensity, 65535 = open beam, rows = detector channels, columns = lines), or an 8-bit PNG/JPEG
 * export, decoded back to intensity through `exportChain` (default DEFAULT_EXPORT, 'auto': the chain
 * estimated from the image, said in a warning; an estimate made on the pair's other file;
 * core/export-chain.ts). A 16-bit file whose open beam reads below 65535 is rescaled as `openBeam`
 * says (default 'auto': the air plateau at the border; core/open-beam.ts), with a warning. An image
 * over MAX_SCAN_PIXELS (core/domain.ts) is refused from its header, before any pixel is decoded.
 */
export async function readScanFile(
  path: string,
  exportChain: ExportDecoding = DEFAULT_EXPORT,
  openBeam: OpenBeamOption = DEFAULT_OPEN_BEAM,
): Promise<ScanFile> {
  let d: DecodedScanImage;
  try {
    d = await decodeScanImage(path, exportChain, openBeam);
  } catch (err) {
    // The core decoder's messages name the file already.
    throw new ScanFileError(
      err instanceof ScanImageError ? err.message : `${path}: cannot be decoded (${firstLine(err)})`,
      { cause: err },
    );
  }
  return {
    image: d.pixels,
    width: d.width,
    height: d.height,
    bitDepth: d.fileBits,
    warnings: d.notes.map((n) => `${path}: ${n}`),
    ...(d.estimate ? { estimate: d.estimate } : {}),
    ...(d.openBeamLevel !== undefined ? { openBeamLevel: d.openBeamLevel } : {}),
  };
}

/**
 * A scan image from a high-energy file and optional low-energy file of the same size. A 16-bit pair
 * whose low/high attenuation ratio lies outside the training scanner's has its low energy rescaled as
 * `lowEnergyScale` says (default 'auto'; core/dual-energy-scale.ts), with a warning; a named factor
 * applies to 8-bit pairs too.
 */
export async function readScan(
  highPath: string,
  lowPath: string | undefined,
  /** The scan's pitches (the caller reads any sidecar); default pixelMm 5 mm and square pixels. */
  pitch: { pixelMm?: number; lineMm?: number } = {},
  exportChain: ExportDecoding = DEFAULT_EXPORT,
  openBeam: OpenBeamOption = DEFAULT_OPEN_BEAM,
  lowEnergyScale: LowEnergyScaleOption = DEFAULT_LOW_ENERGY_SCALE,
): Promise<{
  image: ScanImage;
  warnings: string[];
  bitDepth: 8 | 16;
  estimate?: ExportEstimate;
  /** What reading changed: the open-beam levels files were rescaled from, the low-energy factor applied. */
  adjusted?: { openBeam?: { high?: number; low?: number }; lowScale?: number };
}> {
  const high = await readScanFile(highPath, exportChain, openBeam);
  const warnings = [...high.warnings];
  let low: ScanFile | undefined;
  if (lowPath) {
    // One scanner exported both energies: the high-energy file's estimate decodes the low-energy one.
    low = await readScanFile(lowPath, high.estimate ?? exportChain, openBeam);
    warnings.push(...low.warnings);
    if (low.width !== high.width || low.height !== high.height) {
      throw new ScanFileError(
        `${lowPath}: low-energy image is ${low.width}x${low.height}, the high-energy image ${highPath} is ${high.width}x${high.height}; they must match`,
      );
    }
  }
  const mm = pitch.pixelMm ?? DEFAULT_PIXEL_MM;
  const lineMm = pitch.lineMm;
  const image: ScanImage = {
    width: high.width,
    height: high.height,
    pixelMm: mm,
    ...(lineMm !== undefined && lineMm !== mm ? { lineMm } : {}),
    high: high.image,
  };
  let lowScale = 1;
  if (low) {
    const eightBit = high.bitDepth === 8 || low.bitDepth === 8;
    const scaled = normaliseLowEnergy(high.image, low.image, lowEnergyScale, eightBit);
    if (scaled.note) warnings.push(`${lowPath}: ${scaled.note}`);
    image.low = scaled.low;
    lowScale = scaled.scale;
  }
  const levels = {
    ...(high.openBeamLevel !== undefined ? { high: high.openBeamLevel } : {}),
    ...(low?.openBeamLevel !== undefined ? { low: low.openBeamLevel } : {}),
  };
  const adjusted = {
    ...(Object.keys(levels).length ? { openBeam: levels } : {}),
    ...(lowScale !== 1 ? { lowScale: Math.round(lowScale * 1e4) / 1e4 } : {}),
  };
  return {
    ...(Object.keys(adjusted).length ? { adjusted } : {}),
    image,
    warnings,
    bitDepth: low && low.bitDepth === 8 ? 8 : high.bitDepth,
    ...(high.estimate ? { estimate: high.estimate } : {}),
  };
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
