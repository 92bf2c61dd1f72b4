import type { DeviceState, DeviceStatus } from '../../../core/domain.js';
import type { LaneHealthSnapshot } from '../../../core/health.js';
import { deviceLabel } from './format.js';

/**
 * What the operator reads first about a lane (the headline) and the figures on each device's
 * tile. Pure functions of the lane's health; docs/console.md lists the headlines.
 */

/** The page's own link to the lane (live-state.ts Connection). */
export type Connection = 'connecting' | 'live' | 'lost';

const BAD: ReadonlySet<DeviceState> = new Set([
  'offline',
  'disconnected',
  'fault',
  'unavailable',
  'stalled',
  'degraded',
]);
/** The device's link is down: nothing it reported can still be trusted. */
const LINK_DOWN: ReadonlySet<DeviceState> = new Set(['offline', 'disconnected', 'stalled']);

export interface Banner {
  level: 'ok' | 'warn' | 'bad';
  title: string;
  lines: string[];
}

/** The scanner's OPC UA side: state, interlocks, faults, Arm/Abort. No images. */
const isControl = (d: DeviceStatus) => d.device.startsWith('scanner') && d.device.endsWith('.opcua');
/** A way scan images arrive: the line stream (`scanner`) or the file drop (`scanner.filedrop`). */
const isImages = (d: DeviceStatus) => d.device.startsWith('scanner') && !isControl(d) && d.state !== 'not-configured';

function line(d: DeviceStatus): string {
  return `${deviceLabel(d.device)}: ${d.state}${d.detail ? ` — ${d.detail}` : ''}`;
}

/**
 * The one line an operator must read first about a lane, from the worst to the best:
 * no connection to the lane; detection unavailable; no scanner images; scanner fault; scanner
 * control lost while images still come; degraded; screening active. Each says what is lost and
 * whether screening goes on.
 */
export function laneBanner(h: LaneHealthSnapshot, connection: Connection): Banner {
  if (connection === 'lost')
    return {
      level: 'bad',
      title: 'NO CONNECTION TO THE LANE',
      lines: ['This page is not receiving updates: scans and alerts may be missing. Reconnecting…'],
    };
  const bad = h.devices.filter((d) => BAD.has(d.state));
  const lines = bad.map(line);
  const images = h.devices.filter(isImages);
  // A line stream in 'fault' is up and says the scanner reported a fault; a file drop in 'fault' cannot take files.
  const imagesUp = images.filter(
    (d) => !LINK_DOWN.has(d.state) && !(d.state === 'fault' && d.device.endsWith('.filedrop')),
  );
  const control = h.devices.filter(isControl);
  const controlDown = control.filter((d) => LINK_DOWN.has(d.state));
  const scannerFault = h.devices.find(
    (d) => d.device.startsWith('scanner') && !d.device.endsWith('.filedrop') && d.state === 'fault',
  );

  if (h.overall === 'detection-unavailable') {
    const model = h.devices.find((d) => d.device === 'model');
    return {
      level: 'bad',
      title: 'DETECTION UNAVAILABLE — SCANS ARE NOT SCREENED FOR PEOPLE',
      lines: model ? lines : ['No detection model has reported: inspect every scan by eye.', ...lines],
    };
  }
  if (images.length > 0 && imagesUp.length === 0 && !(scannerFault && images.includes(scannerFault))) {
    return {
      level: 'bad',
      title: 'NO SCANNER IMAGES — VEHICLES ARE NOT SCREENED',
      lines: [
        `No scan can arrive: ${images.map((d) => `${deviceLabel(d.device)} ${d.state}`).join(', ')}. Stop traffic or inspect by hand until images are back.`,
        ...(control.length
          ? [
              controlDown.length
                ? 'Scanner control and status (OPC UA) are lost too.'
                : 'Scanner control and status (OPC UA) still work.',
            ]
          : []),
        ...lines,
      ],
    };
  }
  if (scannerFault) {
    return {
      level: 'bad',
      title: 'SCANNER FAULT — NO SCANS UNTIL IT IS CLEARED',
      lines: [
        `The scanner reports: ${scannerFault.detail ?? 'a fault'}.`,
        ...lines.filter((l) => !l.startsWith(`${deviceLabel(scannerFault.device)}:`)),
      ],
    };
  }
  if (controlDown.length > 0) {
    return {
      level: 'warn',
      title: 'SCANNER CONTROL LOST — SCREENING GOES ON',
      lines: [
        `Scanner state, interlocks and faults are unknown, and Arm/Abort cannot be sent (${controlDown.map((d) => `${deviceLabel(d.device)} ${d.state}`).join(', ')}). ${images.length ? 'Scan images still arrive and are screened.' : ''}`.trim(),
        ...lines,
      ],
    };
  }
  if (h.overall === 'degraded' || bad.length > 0) {
    return { level: 'warn', title: 'LANE DEGRADED — SCREENING GOES ON', lines };
  }
  return { level: 'ok', title: 'SCREENING ACTIVE', lines: ['Scanner, detection and links normal.'] };
}

export interface Fact {
  text: string;
  tone?: 'warn' | 'bad';
}

/** Keys of values that a scanner device reads from the scanner itself. */
const SCANNER_VALUES = ['scannerState', 'interlocks', 'interlocksOk', 'interlocksOpen', 'radiationOn', 'speedKmh'];

/**
 * The figures of a device worth a glance, in words; every figure is in the tile's tooltip. A
 * device whose link is down shows "unknown" for every value it read from the scanner: the last
 * values seen are no longer true.
 */
export function deviceFacts(d: DeviceStatus): { shown: Fact[]; all: string } {
  const i = d.info ?? {};
  const shown: Fact[] = [];
  const readsScanner = SCANNER_VALUES.some((k) => k in i);
  if (readsScanner && (LINK_DOWN.has(d.state) || d.state === 'starting')) {
    shown.push(
      { text: 'State: unknown', tone: 'warn' },
      { text: 'Interlocks: unknown', tone: 'warn' },
      { text: 'Radiation: unknown', tone: 'warn' },
    );
  } else {
    if (typeof i.scannerState === 'string' && i.scannerState) shown.push({ text: `State: ${i.scannerState}` });
    else if (readsScanner && 'scannerState' in i) shown.push({ text: 'State: unknown' });
    const open = typeof i.interlocksOpen === 'string' ? i.interlocksOpen : '';
    if (open) shown.push({ text: `Interlocks OPEN: ${open.split(',').join(', ')}`, tone: 'bad' });
    else if (i.interlocksOk === false) shown.push({ text: 'Interlocks OPEN', tone: 'bad' });
    else if (
      i.interlocksOk === true ||
      i.interlocks === 0 ||
      i.interlocks === true ||
      (i.interlocksOpen === '' && i.interlocks !== null && i.interlocks !== undefined)
    )
      shown.push({ text: 'Interlocks closed' });
    else if (typeof i.interlocks === 'string') shown.push({ text: `Interlocks: ${i.interlocks}` });
    else if (readsScanner) shown.push({ text: 'Interlocks: unknown' });
    if (i.radiationOn === true) shown.push({ text: 'RADIATION ON', tone: 'warn' });
    if (typeof i.speedKmh === 'number' && i.speedKmh > 0) shown.push({ text: `Vehicle ${i.speedKmh.toFixed(1)} km/h` });
  }
  if (typeof i.outboxDepth === 'number')
    shown.push({ text: `Outbox: ${i.outboxDepth} waiting`, ...(i.outboxDepth > 100 ? { tone: 'warn' as const } : {}) });
  if (typeof i.fps === 'number' && !LINK_DOWN.has(d.state)) shown.push({ text: `${i.fps} frames/s` });
  const all = Object.entries(i)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}`)
    .join('\n');
  return {
    shown,
    all: LINK_DOWN.has(d.state) && readsScanner ? `last values seen before the link went down:\n${all}` : all,
  };
}
