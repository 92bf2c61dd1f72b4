import { PIXEL_MM_RANGE } from '../../config/schema/scanner.js';

/**
 * How far apart a scan's lines are (config scanner.lineMm): 'pixel', as far apart as the
 * detector channels (a scanner that resamples to square pixels, or whose line rate follows the
 * vehicle); 'speed', the vehicle's speed divided by the line rate, per scan; or a fixed pitch in mm.
 */
export type LinePitchSetting = 'pixel' | 'speed' | number;

/** A pitch within this share of the channels' counts as square (no resampling of its own). */
const SQUARE_TOLERANCE = 0.01;

/**
 * The line pitch of one scan: `lineMm` where it differs from `pixelMm` (absent: square pixels),
 * or `problem` saying why the setting could not be applied (the scan is then read as square).
 */
export function linePitch(
  setting: LinePitchSetting,
  pixelMm: number,
  speedKmh: number | null | undefined,
  lineRateHz: number | undefined,
): { lineMm?: number; problem?: string } {
  if (setting === 'pixel') return {};
  let mm: number;
  if (typeof setting === 'number') mm = setting;
  else {
    if (!(typeof speedKmh === 'number' && speedKmh > 0 && Number.isFinite(speedKmh)))
      return { problem: `no vehicle speed given (${speedKmh ?? 'none'}), so no line pitch from it` };
    if (!(typeof lineRateHz === 'number' && lineRateHz > 0 && Number.isFinite(lineRateHz)))
      return { problem: 'no line rate given, so no line pitch from the speed' };
    mm = Math.round(((speedKmh / 3.6) * 100_000) / lineRateHz) / 100;
    if (!(mm >= PIXEL_MM_RANGE.min && mm <= PIXEL_MM_RANGE.max))
      return {
        problem: `line pitch ${mm} mm from ${round2(speedKmh)} km/h at ${round2(lineRateHz)} lines/s is outside ${PIXEL_MM_RANGE.min}-${PIXEL_MM_RANGE.max} mm`,
      };
  }
  return Math.abs(mm - pixelMm) <= SQUARE_TOLERANCE * pixelMm ? {} : { lineMm: mm };
}

/** What a problem costs, said where the scan is logged. */
export const LINE_PITCH_FALLBACK = 'read with lines as far apart as the channels (scanner.lineMm)';

/** Share by which a speed and line rate must disagree with square pixels before a lane reading them square is told. */
const MISMATCH = 0.25;

/**
 * The line pitch a scan's speed and line rate make when it lies more than 25 % from the channels'
 * pitch (a lane reading it as square pixels may be wrong), else null.
 */
function impliedLineMm(
  pixelMm: number,
  speedKmh: number | null | undefined,
  lineRateHz: number | undefined,
): number | null {
  const p = linePitch('speed', pixelMm, speedKmh, lineRateHz);
  return p.lineMm !== undefined && Math.abs(p.lineMm / pixelMm - 1) > MISMATCH ? p.lineMm : null;
}

/**
 * One scan's line pitch under a setting: the scan's own `lineMm` (a sidecar's) first, then the
 * setting from its speed and line rate. With `implied`, a 'pixel' setting reads square a scan whose
 * speed and line rate put its lines more than 25 % from the channels' pitch (for a hint).
 */
export function scanLinePitch(
  setting: LinePitchSetting,
  pixelMm: number,
  scan: { lineMm?: number | undefined; speedKmh?: number | null | undefined; lineRateHz?: number | undefined },
): { lineMm?: number; problem?: string; implied?: number } {
  if (scan.lineMm !== undefined) return linePitch(scan.lineMm, pixelMm, undefined, undefined);
  const pitch = linePitch(setting, pixelMm, scan.speedKmh, scan.lineRateHz);
  const implied = setting === 'pixel' ? impliedLineMm(pixelMm, scan.speedKmh, scan.lineRateHz) : null;
  return implied === null ? pitch : { ...pitch, implied };
}

/** A figure as a scanner's float32 field reads, to two decimals (10.800000190734863 -> 10.8). */
export function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
