import { LINE_RATE_HZ_RANGE, PIXEL_MM_RANGE } from '../../../config/schema/scanner.js';
import type { VehicleInfo } from '../../../core/domain.js';
import { parseXml, selectPath } from './xml.js';

/** What a sidecar may say about a dropped scan. Every field is optional. */
export interface FileScanInfo {
  scanId?: string;
  /** ISO 8601 time of the scan. */
  time?: string;
  pixelMm?: number;
  /** Pitch of the lines along the scan, where it differs from pixelMm. */
  lineMm?: number;
  /** Lines per second (with vehicle.speedKmh, the line pitch under scanner.lineMm: speed). */
  lineRateHz?: number;
  vehicle?: VehicleInfo;
}

/** Sidecar fields that config scanner.fileDrop.xmlFields can map to vendor XML paths. */
export const XML_FIELDS = [
  'scanId',
  'time',
  'pixelMm',
  'lineMm',
  'lineRateHz',
  'speedKmh',
  'plate',
  'vehicle',
  'containerCode',
] as const;
export type XmlField = (typeof XML_FIELDS)[number];

export class SidecarError extends Error {}

function checkTime(v: unknown, file: string, field: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const t = typeof v === 'number' ? new Date(v) : typeof v === 'string' ? new Date(v) : null;
  if (!t || Number.isNaN(t.getTime()))
    throw new SidecarError(
      `${file}: ${field} ${JSON.stringify(v)} is not a date/time (use ISO 8601, e.g. 2026-01-31T12:00:00Z)`,
    );
  return t.toISOString();
}

function checkPitch(v: unknown, file: string, field: string, what: 'pixel' | 'line' = 'pixel'): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < PIXEL_MM_RANGE.min || n > PIXEL_MM_RANGE.max)
    throw new SidecarError(
      `${file}: ${field} ${JSON.stringify(v)} is not a ${what} pitch in mm (${PIXEL_MM_RANGE.min}-${PIXEL_MM_RANGE.max})`,
    );
  return n;
}

const str = (v: unknown) =>
  typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : undefined;

function checkLineRate(v: unknown, file: string, field: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' ? Number(v.trim()) : v;
  if (!(typeof n === 'number' && Number.isFinite(n) && n >= LINE_RATE_HZ_RANGE.min && n <= LINE_RATE_HZ_RANGE.max))
    throw new SidecarError(
      `${file}: ${field} ${JSON.stringify(v)} is not a line rate in lines/s (${LINE_RATE_HZ_RANGE.min}-${LINE_RATE_HZ_RANGE.max})`,
    );
  return n;
}

/** A vehicle speed in km/h (a number or a numeric string, 0 or more); anything else is refused, naming the field. */
function checkSpeed(v: unknown, file: string, field: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' ? Number(v.trim()) : v;
  if (!(typeof n === 'number' && Number.isFinite(n) && n >= 0))
    throw new SidecarError(`${file}: ${field} ${JSON.stringify(v)} is not a speed in km/h`);
  return n;
}

function jsonObject(text: string, file: string): Record<string, unknown> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (err) {
    throw new SidecarError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new SidecarError(`${file}: expected a JSON object`);
  return j as Record<string, unknown>;
}

/** What a scan's pitches are read from. */
export type SidecarPitch = Pick<FileScanInfo, 'pixelMm' | 'lineMm' | 'lineRateHz'> & { speedKmh?: number };

/**
 * The pitch fields of our JSON sidecar (pixelMm, lineMm, lineRateHz, vehicle.speedKmh), checked as
 * parseJsonSidecar checks them; the other keys are not read (offline analysis of files whose sidecars
 * may carry other things).
 */
export function jsonSidecarPitch(text: string, file: string): SidecarPitch {
  return pitchFields(jsonObject(text, file), file);
}

function pitchFields(o: Record<string, unknown>, file: string): SidecarPitch {
  const v = o.vehicle;
  const speed =
    v && typeof v === 'object' && !Array.isArray(v)
      ? checkSpeed((v as Record<string, unknown>).speedKmh, file, 'vehicle.speedKmh')
      : undefined;
  const px = checkPitch(o.pixelMm, file, 'pixelMm');
  const line = checkPitch(o.lineMm, file, 'lineMm', 'line');
  const rate = checkLineRate(o.lineRateHz, file, 'lineRateHz');
  return {
    ...(px !== undefined ? { pixelMm: px } : {}),
    ...(line !== undefined ? { lineMm: line } : {}),
    ...(rate !== undefined ? { lineRateHz: rate } : {}),
    ...(speed !== undefined ? { speedKmh: speed } : {}),
  };
}

/**
 * Our JSON sidecar: { scanId, time, pixelMm, lineMm, lineRateHz, plate, vehicle: { plate, class,
 * containerCode, speedKmh } | "<class>" }. Unknown keys are ignored, so vendors can add their own.
 */
export function parseJsonSidecar(text: string, file: string): FileScanInfo {
  const o = jsonObject(text, file);
  const { speedKmh, ...pitch } = pitchFields(o, file);
  const vehicle: VehicleInfo = {};
  const v = o.vehicle;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const vo = v as Record<string, unknown>;
    if (str(vo.plate)) vehicle.plate = str(vo.plate);
    if (str(vo.class)) vehicle.class = str(vo.class);
    if (str(vo.containerCode)) vehicle.containerCode = str(vo.containerCode);
    if (speedKmh !== undefined) vehicle.speedKmh = speedKmh;
  } else if (str(v)) vehicle.class = str(v);
  if (str(o.plate)) vehicle.plate = str(o.plate);
  if (str(o.containerCode)) vehicle.containerCode = str(o.containerCode);
  const info: FileScanInfo = {};
  if (str(o.scanId)) info.scanId = str(o.scanId);
  const time = checkTime(o.time, file, 'time');
  if (time) info.time = time;
  Object.assign(info, pitch);
  if (Object.keys(vehicle).length) info.vehicle = vehicle;
  return info;
}

/** A vendor XML sidecar, read through the configured field -> element path map. */
export function parseXmlSidecar(text: string, file: string, fields: Partial<Record<XmlField, string>>): FileScanInfo {
  let root: ReturnType<typeof parseXml>;
  try {
    root = parseXml(text);
  } catch (err) {
    throw new SidecarError(`${file}: not well-formed XML: ${(err as Error).message}`);
  }
  const get = (f: XmlField) => {
    const path = fields[f];
    return path ? str(selectPath(root, path)) : undefined;
  };
  const info: FileScanInfo = {};
  const vehicle: VehicleInfo = {};
  const scanId = get('scanId');
  if (scanId) info.scanId = scanId;
  const time = checkTime(get('time'), file, `time (${fields.time})`);
  if (time) info.time = time;
  const px = checkPitch(get('pixelMm'), file, `pixelMm (${fields.pixelMm})`);
  if (px !== undefined) info.pixelMm = px;
  const line = checkPitch(get('lineMm'), file, `lineMm (${fields.lineMm})`, 'line');
  if (line !== undefined) info.lineMm = line;
  const rate = checkLineRate(get('lineRateHz'), file, `lineRateHz (${fields.lineRateHz})`);
  if (rate !== undefined) info.lineRateHz = rate;
  const speed = checkSpeed(get('speedKmh'), file, `speedKmh (${fields.speedKmh})`);
  if (speed !== undefined) vehicle.speedKmh = speed;
  const plate = get('plate');
  if (plate) vehicle.plate = plate;
  const cls = get('vehicle');
  if (cls) vehicle.class = cls;
  const cc = get('containerCode');
  if (cc) vehicle.containerCode = cc;
  if (Object.keys(vehicle).length) info.vehicle = vehicle;
  return info;
}
