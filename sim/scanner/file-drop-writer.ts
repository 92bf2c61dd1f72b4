import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeGrey16Png, encodeGrey8Jpeg } from '../../firmware-bridge/scanner/file-drop/image-decode.js';
import type { SimScan } from './scan-source.js';

/** png16: 16-bit grey PNG(s) + our JSON sidecar. jpeg-xml: 8-bit grey JPEG + a vendor-style XML sidecar. */
export type FileDropFormat = 'png16' | 'jpeg-xml';

export interface DroppedScan {
  scanId: string;
  files: string[];
}

/** The element paths of the XML the writer produces, as scanner.fileDrop.xmlFields would map them. */
export const SIM_XML_FIELDS = {
  scanId: 'ScanResult/Header/ScanNumber',
  time: 'ScanResult/Header/ScanTime',
  pixelMm: 'ScanResult/Image/@pixelSizeMm',
  plate: 'ScanResult/Vehicle/LicensePlate',
  vehicle: 'ScanResult/Vehicle/Category',
} as const;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Writes one scan into a drop folder the way a scanner does: images first (each through a
 * temporary name and a rename, so no half image is ever visible), the sidecar last.
 */
export async function writeFileDropScan(dir: string, scan: SimScan, o: { scanId: string; format: FileDropFormat; time?: Date }): Promise<DroppedScan> {
  const time = (o.time ?? new Date()).toISOString();
  const put = async (name: string, data: Buffer | string) => {
    const tmp = join(dir, `.${name}.tmp`);
    await writeFile(tmp, data);
    await rename(tmp, join(dir, name));
    return name;
  };
  const files: string[] = [];
  if (o.format === 'png16') {
    files.push(await put(`${o.scanId}.png`, await encodeGrey16Png(scan.high, scan.width, scan.height)));
    if (scan.low) files.push(await put(`${o.scanId}.low.png`, await encodeGrey16Png(scan.low, scan.width, scan.height)));
    const sidecar = { scanId: o.scanId, time, pixelMm: scan.pixelMm, ...(scan.plate ? { plate: scan.plate } : {}), ...(scan.vehicleClass ? { vehicle: { class: scan.vehicleClass } } : {}) };
    files.push(await put(`${o.scanId}.json`, `${JSON.stringify(sidecar, null, 2)}\n`));
  } else {
    files.push(await put(`${o.scanId}.jpg`, await encodeGrey8Jpeg(scan.high, scan.width, scan.height)));
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ScanResult xmlns="urn:example:scanner">
  <Header>
    <ScanNumber>${esc(o.scanId)}</ScanNumber>
    <ScanTime>${time}</ScanTime>
  </Header>
  <Image pixelSizeMm="${scan.pixelMm}" lines="${scan.width}" channels="${scan.height}"/>
  <Vehicle>
    <LicensePlate>${esc(scan.plate ?? '')}</LicensePlate>
    <Category>${esc(scan.vehicleClass ?? '')}</Category>
  </Vehicle>
</ScanResult>
`;
    files.push(await put(`${o.scanId}.xml`, xml));
  }
  return { scanId: o.scanId, files };
}
