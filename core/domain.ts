import type { FusedDecision } from './senses.js';
import type { WatchlistEntry } from './watchlist/list-format.js';

/**
 * Domain types shared by every part of a lane. Devices produce them (firmware-bridge/),
 * inference/ consumes scans and produces detections, outputs (MQTT, console) consume results.
 */

/**
 * Why a scan ended without a complete image. edge-restarted: the edge process stopped (crash,
 * kill, power) while the scan was open or being decided; found in the open-scan journal at the
 * next start.
 */
export type AbortReason = 'scanner-fault' | 'link-lost' | 'timeout' | 'operator-abort' | 'edge-restarted';
export const ABORT_REASONS: readonly AbortReason[] = [
  'scanner-fault',
  'link-lost',
  'timeout',
  'operator-abort',
  'edge-restarted',
];

/**
 * The largest scan image the edge takes, in pixels (channels x lines) per energy, whatever the
 * path (line stream or file drop): 32 Mi pixels, e.g. 1,024 channels x 32,768 lines, 64 MiB per
 * energy. The file drop checks it from the image header, before decoding.
 */
export const MAX_SCAN_PIXELS = 1 << 25;

/** person: the model flags at least one concealed person; clear: it flags none;
 * unavailable: no detection could be made (no model, inference error), never to be read as clear. */
export type Verdict = 'person' | 'clear' | 'unavailable';

export interface VehicleInfo {
  plate?: string;
  containerCode?: string;
  class?: string;
  speedKmh?: number;
}

/** Known at the start of a scan. */
export interface ScanMeta {
  /** Minted by the edge (a UUIDv7, runtime/ids.ts): unique, sorts by time. Every store keys on it. */
  scanId: string;
  /**
   * The scanner's own id for the scan (line-stream scan-begin, file-drop sidecar or file stem),
   * when it gave one. Kept for people and for the scanner's own records; never assumed unique.
   */
  scannerScanId?: string;
  laneId: string;
  startedAt: string;
  /** Detector channels: rows of the image. */
  channels: number;
  /** 1 = single energy (high only), 2 = dual energy (high + low). */
  energies: 1 | 2;
  /** Pixel pitch in millimetres at the vehicle: of the detector channels, and of the lines unless lineMm says otherwise. */
  pixelMm: number;
  /**
   * Pitch between lines along the scan (mm at the vehicle) where it differs from pixelMm: the
   * vehicle's speed divided by the line rate, when the scanner does not resample to square pixels
   * (scanner.lineMm). Absent: pixelMm.
   */
  lineMm?: number;
  lineRateHz?: number;
  vehicle?: VehicleInfo;
  source: 'stream' | 'file';
  /**
   * The scanner sent this scan again because its scan-end went unacknowledged on an earlier link,
   * and this lane had not begun it before (a resend of a scan begun here is not opened again).
   */
  resent?: boolean;
}

/**
 * A batch of consecutive lines as they arrive. Samples are line-major: line i, channel c is at
 * `i * channels + c`. 65535 = open beam.
 */
export interface LineBatch {
  scanId: string;
  firstIndex: number;
  count: number;
  channels: number;
  high: Uint16Array;
  low?: Uint16Array;
}

/**
 * A whole scan image. Row-major with rows = detector channels (top of vehicle first) and
 * columns = lines: pixel (row r, line x) is at `r * width + x`.
 */
export interface ScanImage {
  width: number;
  height: number;
  /** Pitch of the rows (detector channels), mm at the vehicle; of the columns too unless lineMm is given. */
  pixelMm: number;
  /** Pitch of the columns (lines along the scan), mm at the vehicle, where it differs from pixelMm. */
  lineMm?: number;
  high: Uint16Array;
  low?: Uint16Array;
  /** One byte per line (column): 1 where the line never arrived and was filled by interpolation. */
  missing?: Uint8Array;
}

export interface CompletedScan {
  meta: ScanMeta;
  endedAt: string;
  image: ScanImage;
  /**
   * Lines the scanner declared in its scan-end when that is more than the image holds (the
   * declared count was too far beyond the lines received to be filled in): the lines between
   * image.width and this count are missing too.
   */
  declaredLines?: number;
}

/** A flagged region, in scan image pixels (x = line, y = channel). */
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
  /** What the region shows in the dual-energy image (absent for single-energy scans); inference/material.ts. */
  evidence?: RegionEvidence;
}

/** Material evidence of a region from both energies: what it adds to its surroundings. */
export interface RegionEvidence {
  /** From the low/high attenuation ratio of what the region adds: organic (water, tissue, plastics), mixed, inorganic, metal; unknown when it adds too little. */
  material: 'organic' | 'mixed' | 'inorganic' | 'metal' | 'unknown';
  /** Water-equivalent thickness of what the region adds, mm. */
  waterEquivalentMm: number;
  /** Low- over high-energy attenuation of what the region adds (water 1.23, iron 1.07). */
  ratio: number;
  /** Organic or mixed, with a water-equivalent thickness a human body can have (40..1,300 mm). */
  bodyPlausible: boolean;
}

export interface ModelIdentity {
  name: string;
  version: string;
  sha256?: string;
}

export interface Detection {
  score: number;
  regions: Region[];
  model: ModelIdentity;
  /**
   * The alert threshold the model names for lanes that set none (its manifest's operating point, or its held-out
   * point where operatingPoint.laneDefault says so), when it has one.
   */
  operatingThreshold?: number;
  /** The model's operating point chosen on families it was never trained on, when it names one. */
  heldOutThreshold?: number;
  /** Wall time from the scan's last line to the detection being ready. */
  msAfterEnd: number;
  /** Total inference time spent on this scan. */
  msInference: number;
}

export interface EvidenceRef {
  name: string;
  kind: 'scan' | 'camera';
  contentType: string;
  /** Path under the lane's HTTP server, e.g. /evidence/<scanId>/scan.jpg */
  url: string;
}

/** What a lane decided about one scan: complete, aborted, or without detection. */
export interface ScanResult {
  /** The edge's id of the scan (ScanMeta.scanId). */
  scanId: string;
  /** The scanner's id of the scan, when it gave one (ScanMeta.scannerScanId). */
  scannerScanId?: string;
  laneId: string;
  siteId: string;
  startedAt: string;
  endedAt: string;
  decidedAt: string;
  outcome: 'completed' | 'aborted';
  abortReason?: AbortReason;
  abortDetail?: string;
  verdict: Verdict;
  /** Why the verdict is 'unavailable'. */
  unavailableReason?: string;
  score: number | null;
  /** The alert threshold the verdict was decided at (absent when the model gave no score). */
  threshold?: number;
  regions: Region[];
  model: ModelIdentity | null;
  vehicle?: VehicleInfo;
  lines: number;
  channels: number;
  /** Pitch the lines were read at (mm), where it differs from the channels' (scanner.lineMm). */
  lineMm?: number;
  missingLines: number;
  evidence: EvidenceRef[];
  /** Watchlist hits on this vehicle's reads (never covert ones), shown beside the verdict. */
  watchlist?: WatchlistHit[];
  /** The decision fused from the X-ray verdict and the lane's CO2 and heartbeat senses (lanes with sensors). */
  fusion?: FusedDecision;
}

/** A plate or container-code read that matched a watchlist entry (docs/watchlists.md). */
export interface WatchlistHit {
  listId: string;
  listVersion: number;
  entry: WatchlistEntry;
  read: {
    /** As the reader gave it. */
    value: string;
    kind: 'plate' | 'container';
    /** The reader's confidence 0-1, where it gives one. */
    confidence: number | null;
    cameraId?: string;
    at: string;
    /** Which input brought the read: anpr, scan (sidecar, vendor XML, line stream). */
    via: string;
  };
  /** 1: exact; below 1: within one confusable character (O/0, I/1, B/8). */
  score: number;
}

/** person-suspected-by-sensors: the X-ray did not flag the vehicle, the CO2 and heartbeat evidence did. */
export type AlertKind =
  | 'person-suspected'
  | 'person-suspected-by-sensors'
  | 'detection-unavailable'
  | 'scan-aborted'
  | 'watchlist'
  | 'test';
export type AlertSeverity = 'critical' | 'warning' | 'info';

export interface Alert {
  /** Minted by the edge (a UUIDv7), one per alert. */
  alertId: string;
  scanId: string | null;
  /** The scanner's id of the scan, when it gave one. */
  scannerScanId?: string;
  laneId: string;
  siteId: string;
  raisedAt: string;
  kind: AlertKind;
  severity: AlertSeverity;
  score: number | null;
  regions: Region[];
  message: string;
  evidence: EvidenceRef[];
  /** The listed entry and the read, for kind 'watchlist'. */
  watchlist?: WatchlistHit;
  /** For a person alert on a lane with sensors: whether CO2 and heartbeat back it. */
  support?: FusedDecision['xraySupport'];
}

export type Disposition = 'person-found' | 'cleared-after-search' | 'false-alarm';
export const DISPOSITIONS: readonly Disposition[] = ['person-found', 'cleared-after-search', 'false-alarm'];

export interface AlertEvent {
  eventId: string;
  alertId: string;
  laneId: string;
  siteId: string;
  at: string;
  type: 'acknowledged' | Disposition;
  /**
   * Who acted: the console user, or the central identity (mqtt.commands.identities) a command
   * came in under. Never a name taken from a command's payload.
   */
  operator: string;
  /** Central command only: the person central named in the command (as central claims it). */
  onBehalfOf?: string;
  note?: string;
  /** Where it was done: the lane console or central command. */
  origin: 'console' | 'central';
}

/** An action that is audited (the console keeps these in its audit log). */
export interface AuditRecord {
  laneId: string;
  at: string;
  /** The console user or central identity that acted; null when central named none. */
  user: string | null;
  role: 'central';
  action: string;
  target: string | null;
  ok: boolean;
  detail?: Record<string, unknown>;
}

/** Every health state of a device or link (the MQTT status payload's schema takes them from here). */
export const DEVICE_STATES = [
  'ok',
  'degraded',
  'stalled',
  'offline',
  'disconnected',
  'fault',
  'unavailable',
  'not-configured',
  'starting',
] as const;

/** Health of one device or link as the lane sees it. */
export type DeviceState = (typeof DEVICE_STATES)[number];

export interface DeviceStatus {
  /** e.g. 'scanner', 'scanner.opcua', 'scanner.filedrop', 'camera.front', 'model', 'mqtt' */
  device: string;
  state: DeviceState;
  detail?: string;
  since: string;
  /** Extra figures a device reports (counters, interlocks, speed). */
  info?: Record<string, string | number | boolean | null>;
}

/** Where a lane's scan session stands: idle → scanning → analysing → decided, or aborted. */
export type ScanState = 'idle' | 'scanning' | 'analysing' | 'decided' | 'aborted';
