import { vehicleSpeedKmh } from './line-stream-sim.js';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeGrey16Png, encodeGrey8Jpeg } from '../../core/scan-image-file.js';
import type { SimScan } from './scan-source.js';

/** png16 / tiff16: 16-bit grey PNG or TIFF image(s) + our JSON sidecar. jpeg-xml: 8-bit grey JPEG + a vendor-style XML sidecar. */
export type FileDropFormat = 'png16' | 'tiff16' | 'jpeg-xml';

/**
 * A baseline TIFF: little-endian, uncompressed, one strip, 16-bit grey (BlackIsZero), the form
 * scanners export. Written by hand because sharp writes TIFF at 8 bits only.
 */
export function encodeGrey16Tiff(pixels: Uint16Array, width: number, height: number): Buffer {
  const SHORT = 3;
  const LONG = 4;
  const tags: [number, number, number][] = [
    [256, LONG, width],
    [257, LONG, height],
    [258, SHORT, 16],
    [259, SHORT, 1],
    [262, SHORT, 1],
    [273, LONG, 0],
    [277, SHORT, 1],
    [278, LONG, height],
    [279, LONG, width * height * 2],
    [284, SHORT, 1],
  ];
  const ifdBytes = 2 + tags.length * 12 + 4;
  const dataOffset = 8 + ifdBytes;
  const out = Buffer.alloc(dataOffset + width * height * 2);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(tags.length, 8);
  tags.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(1, at + 4);
    const v = tag === 273 ? dataOffset : value;
    if (type === SHORT) out.writeUInt16LE(v, at + 8);
    else out.writeUInt32LE(v, at + 8);
  });
  for (let i = 0; i < pixels.length; i++) out.writeUInt16LE(pixels[i], dataOffset + i * 2);
  return out;
}

export interface DroppedScan {
  scanId: string;
  files: string[];
}

/** The element paths of the XML the writer produces, as scanner.fileDrop.xmlFields would map them. */
export const SIM_XML_FIELDS = {
  scanId: 'ScanResult/Header/ScanNumber',
  time: 'ScanResult/Header/ScanTime',
  pixelMm: 'ScanResult/Image/@pixelSizeMm',
  lineRateHz: 'ScanResult/Image/@lineRate',
  speedKmh: 'ScanResult/Vehicle/Speed',
  plate: 'ScanResult/Vehicle/LicensePlate',
  vehicle: 'ScanResult/Vehicle/Category',
} as const;

/** Line rate a simulated fixed-line-rate scanner writes in its sidecars. */
const SIDECAR_LINE_RATE_HZ = 300;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Writes one scan into a drop folder the way a scanner does: images first (each through a
 * temporary name and a rename, so no half image is ever visible), the sidecar last.
 */
export async function writeFileDropScan(
  dir: string,
  scan: SimScan,
  o: { scanId: string; format: FileDropFormat; time?: Date },
): Promise<DroppedScan> {
  const time = (o.time ?? new Date()).toISOString();
  // A scan whose lines are not as far apart as its channels comes from a scanner with a fixed line rate,
  // which says its speed and line rate (scanner.lineMm: speed reads the line pitch from them).
  const motion =
    scan.lineMm !== undefined
      ? { lineRateHz: SIDECAR_LINE_RATE_HZ, speedKmh: vehicleSpeedKmh(scan.lineMm, SIDECAR_LINE_RATE_HZ) }
      : null;
  const put = async (name: string, data: Buffer | string) => {
    const tmp = join(dir, `.${name}.tmp`);
    await writeFile(tmp, data);
    await rename(tmp, join(dir, name));
    return name;
  };
  const files: string[] = [];
  if (o.format === 'png16' || o.format === 'tiff16') {
    const ext = o.format === 'png16' ? 'png' : 'tif';
    const encode = (px: Uint16Array) =>
      o.format === 'png16'
        ? encodeGrey16Png(px, scan.width, scan.height)
        : Promise.resolve(encodeGrey16Tiff(px, scan.width, scan.height));
    files.push(await put(`${o.scanId}.${ext}`, await encode(scan.high)));
    if (scan.low) files.push(await put(`${o.scanId}.low.${ext}`, await encode(scan.low)));
    const sidecar = {
      scanId: o.scanId,
      time,
      pixelMm: scan.pixelMm,
      ...(motion ? { lineRateHz: motion.lineRateHz } : {}),
      ...(scan.plate ? { plate: scan.plate } : {}),
      ...(scan.vehicleClass || motion
        ? {
            vehicle: {
              ...(scan.vehicleClass ? { class: scan.vehicleClass } : {}),
              ...(motion ? { speedKmh: motion.speedKmh } : {}),
            },
          }
        : {}),
    };
    files.push(await put(`${o.scanId}.json`, `${JSON.stringify(sidecar, null, 2)}\n`));
  } else {
    files.push(await put(`${o.scanId}.jpg`, await encodeGrey8Jpeg(scan.high, scan.width, scan.height)));
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ScanResult xmlns="urn:example:scanner">
  <Header>
    <ScanNumber>${esc(o.scanId)}</ScanNumber>
    <ScanTime>${time}</ScanTime>
  </Header>
  <Image pixelSizeMm="${scan.pixelMm}" lines="${scan.width}" channels="${scan.height}"${motion ? ` lineRate="${motion.lineRateHz}"` : ''}/>
  <Vehicle>
    <LicensePlate>${esc(scan.plate ?? '')}</LicensePlate>
    <Category>${esc(scan.vehicleClass ?? '')}</Category>${motion ? `\n    <Speed>${motion.speedKmh}</Speed>` : ''}
  </Vehicle>
</ScanResult>
`;
    files.push(await put(`${o.scanId}.xml`, xml));
  }
  return { scanId: o.scanId, files };
}
