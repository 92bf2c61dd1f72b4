import type {
  Alert,
  AlertEvent,
  AuditRecord,
  CompletedScan,
  DeviceStatus,
  LineBatch,
  ScanMeta,
  ScanResult,
  AbortReason,
  ScanImage,
} from './domain.js';
import type { SensorReading } from './senses.js';

/** A camera picture tied to a scan (JPEG bytes as the camera sent them). */
export interface CameraSnapshot {
  cameraId: string;
  role: string;
  scanId: string | null;
  moment: 'scan-begin' | 'scan-end' | 'pre-roll' | 'manual';
  at: string;
  jpeg: Buffer;
}

export interface ReviewDecisionEvent {
  laneId: string;
  scanId: string;
  /** clear: release the vehicle; search: search it. */
  decision: 'clear' | 'search';
  analyst: string;
  note?: string;
  at: string;
}

/**
 * Every event of a lane, by name. Producers and consumers import this map only, never each other.
 * Flow: scanner.* -> scan.* -> (inference) -> scan.decided -> alert.* -> outputs.
 */
export interface LaneEvents {
  /** A scanner transport began a scan (first frame of a new scan id). */
  'scan.begin': ScanMeta;
  /** Lines as they arrive, for streaming inference and the live console view. */
  'scan.lines': LineBatch;
  /** The scanner closed the scan normally. */
  'scan.end': CompletedScan;
  /** The scan could not be completed. The partial image, where there is one, comes with it. */
  'scan.aborted': {
    scanId: string;
    laneId: string;
    reason: AbortReason;
    detail: string;
    at: string;
    partial?: ScanImage;
    meta?: ScanMeta;
  };
  /** The lane's decision on a scan: published, stored, shown. */
  /**
   * `again`: handed on once more at start, as it was decided just before the edge stopped (same
   * ids); a store that has it already keeps what it has.
   */
  'scan.decided': { result: ScanResult; image?: ScanImage; again?: boolean };
  'alert.raised': Alert;
  'alert.event': AlertEvent;
  /** A command from central command, done or refused: kept in the audit log like a console action. */
  audit: AuditRecord;
  'device.status': DeviceStatus;
  /** A CO2 probe's or heartbeat detector's reading, as polled (firmware-bridge/sensors/). */
  'sensor.reading': SensorReading;
  'camera.snapshot': CameraSnapshot;
  /** A remote analyst's decision on a scan the lane sent to central command's review. */
  'review.decision': ReviewDecisionEvent;
  /** Plate or container code read by an ANPR camera. */
  'vehicle.plate': {
    laneId: string;
    plate?: string;
    containerCode?: string;
    at: string;
    cameraId?: string;
    confidence?: number;
  };
  /**
   * A hit on a covert watchlist entry: for central command only. Only the MQTT publisher listens;
   * it never goes on 'alert.raised', so the lane console never sees it.
   */
  'watchlist.covert': Alert;
}
