import type { DeviceState, DeviceStatus } from '../../../core/domain.js';

/** The scanner's control states, whatever the vendor calls them (mapped by scanner.opcua.stateValues). */
export type ScannerState = 'Off' | 'Ready' | 'Armed' | 'Scanning' | 'Fault';
const SCANNER_STATES: readonly ScannerState[] = ['Off', 'Ready', 'Armed', 'Scanning', 'Fault'];

/** The monitored values the client reads from the scanner, keyed as in scanner.opcua.nodes. */
export type ScannerValueField = 'state' | 'interlocks' | 'fault' | 'speed' | 'radiation';
export const SCANNER_VALUE_FIELDS: readonly ScannerValueField[] = [
  'state',
  'interlocks',
  'fault',
  'speed',
  'radiation',
];

/** What the lane knows of the scanner's control side; null = not known (not read yet, or unreadable). */
export interface ScannerSnapshot {
  state: ScannerState | null;
  /** The value as the server sent it, for messages about unmapped values. */
  stateRaw: string | null;
  /** Bit mask of open interlocks (0 = all closed), or the Boolean "all closed" of servers that give one. */
  interlocks: number | boolean | null;
  /** Names of the open interlocks. */
  interlocksOpen: string[];
  speedKmh: number | null;
  radiationOn: boolean | null;
  /** Active fault text; '' when none. */
  fault: string | null;
}

export function emptySnapshot(): ScannerSnapshot {
  return {
    state: null,
    stateRaw: null,
    interlocks: null,
    interlocksOpen: [],
    speedKmh: null,
    radiationOn: null,
    fault: null,
  };
}

/** A value as it came off the wire: the Variant's value and the DataValue's status. */
export interface RawValue {
  value: unknown;
  /** Name of the OPC UA status code, e.g. "Good", "BadNodeIdUnknown". */
  status: string;
}

export interface ValueDecoding {
  stateValues?: Record<string, ScannerState>;
  interlockNames?: readonly string[];
}

/** Decodes one monitored value into the snapshot. Returns a problem sentence, or null when the value is usable. */
export function applyValue(
  snap: ScannerSnapshot,
  field: ScannerValueField,
  raw: RawValue,
  nodeId: string,
  dec: ValueDecoding = {},
): string | null {
  if (!raw.status.startsWith('Good')) {
    clearField(snap, field);
    return `${field} (${nodeId}) cannot be read: ${raw.status}; check scanner.opcua.nodes.${field}`;
  }
  const v = unwrap(raw.value);
  switch (field) {
    case 'state': {
      if (v === null || v === undefined) {
        snap.state = null;
        snap.stateRaw = null;
        return `state (${nodeId}) has no value`;
      }
      const text = String(v);
      snap.stateRaw = text;
      snap.state = decodeState(v, dec.stateValues);
      return snap.state
        ? null
        : `state value ${JSON.stringify(text)} (${nodeId}) is not one of Off, Ready, Armed, Scanning, Fault; map it in scanner.opcua.stateValues`;
    }
    case 'interlocks': {
      if (typeof v === 'boolean') {
        snap.interlocks = v;
        snap.interlocksOpen = v ? [] : ['interlocks'];
        return null;
      }
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
        snap.interlocks = v >>> 0;
        snap.interlocksOpen = openInterlocks(v >>> 0, dec.interlockNames);
        return null;
      }
      clearField(snap, field);
      return `interlocks (${nodeId}) is ${describe(v)}, expected a UInt32 bit mask or a Boolean`;
    }
    case 'fault': {
      if (v === null || v === undefined) {
        snap.fault = '';
        return null;
      }
      if (typeof v === 'string') {
        snap.fault = v.trim();
        return null;
      }
      clearField(snap, field);
      return `fault (${nodeId}) is ${describe(v)}, expected a text`;
    }
    case 'speed': {
      if (typeof v === 'number' && Number.isFinite(v)) {
        snap.speedKmh = v;
        return null;
      }
      clearField(snap, field);
      return `speed (${nodeId}) is ${describe(v)}, expected a number in km/h`;
    }
    case 'radiation': {
      if (typeof v === 'boolean') {
        snap.radiationOn = v;
        return null;
      }
      if (typeof v === 'number') {
        snap.radiationOn = v !== 0;
        return null;
      }
      clearField(snap, field);
      return `radiation (${nodeId}) is ${describe(v)}, expected a Boolean`;
    }
  }
}

/** Maps a vendor state value to a ScannerState: the configured map first, then the names (any case), then 0-4. */
export function decodeState(v: unknown, map?: Record<string, ScannerState>): ScannerState | null {
  const key = String(unwrap(v)).trim();
  if (map && Object.hasOwn(map, key)) return map[key];
  const byName = SCANNER_STATES.find((s) => s.toLowerCase() === key.toLowerCase());
  if (byName) return byName;
  if (!map && /^\d+$/.test(key)) return SCANNER_STATES[Number(key)] ?? null;
  return null;
}

export function openInterlocks(mask: number, names?: readonly string[]): string[] {
  const open: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if ((mask >>> bit) & 1) open.push(names?.[bit] ?? `bit${bit}`);
  }
  return open;
}

/** Whether the lane's link to the scanner's OPC UA server is up. */
export type OpcuaLink = { up: false; starting: boolean; reason: string } | { up: true };

/**
 * The device status of the scanner's OPC UA side. The contract with the rest of the lane:
 * 'fault' exactly when the scanner reports a fault (fault text non-empty, or state Fault), with
 * the fault text as detail; 'disconnected' while the link is down; 'degraded' when a configured
 * value cannot be read or decoded; else 'ok'.
 */
export function scannerOpcuaStatus(
  link: OpcuaLink,
  snap: ScannerSnapshot,
  problems: readonly string[],
): Pick<DeviceStatus, 'state' | 'detail' | 'info'> {
  const info: NonNullable<DeviceStatus['info']> = {
    scannerState: snap.state ?? (snap.stateRaw === null ? null : `unmapped:${snap.stateRaw}`),
    interlocks: snap.interlocks,
    interlocksOpen: snap.interlocksOpen.join(','),
    speedKmh: snap.speedKmh,
    radiationOn: snap.radiationOn,
    fault: snap.fault ? snap.fault : null,
  };
  // With the link down, the last values read are no longer known to be true: each is sent as null (unknown).
  if (!link.up)
    return {
      state: link.starting ? 'starting' : 'disconnected',
      detail: link.reason,
      info: Object.fromEntries(Object.keys(info).map((k) => [k, null])),
    };
  let state: DeviceState = 'ok';
  let detail: string;
  if (snap.fault || snap.state === 'Fault') {
    state = 'fault';
    detail = snap.fault || 'the scanner reports state Fault without a fault text';
  } else if (problems.length > 0) {
    state = 'degraded';
    detail = problems.join('; ');
  } else {
    detail = `scanner ${snap.state ?? 'state unknown'}${snap.interlocksOpen.length ? `; interlocks open: ${snap.interlocksOpen.join(', ')}` : ''}`;
  }
  return { state, detail, info };
}

function clearField(snap: ScannerSnapshot, field: ScannerValueField): void {
  if (field === 'state') {
    snap.state = null;
    snap.stateRaw = null;
  } else if (field === 'interlocks') {
    snap.interlocks = null;
    snap.interlocksOpen = [];
  } else if (field === 'fault') snap.fault = null;
  else if (field === 'speed') snap.speedKmh = null;
  else snap.radiationOn = null;
}

/** LocalizedText and similar wrappers carry their text in `.text`. */
function unwrap(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && 'text' in v) return (v as { text: unknown }).text ?? null;
  return v;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'an array';
  return `${typeof v} ${JSON.stringify(v)}`;
}
