/**
 * What the console server sends the browser (JSON API answers and event-stream messages).
 * Types only, shared by console/server and console/web.
 */
import type { Alert, AlertEvent, Disposition, ScanMeta, ScanResult } from '../../core/domain.js';
import type { LaneHealthSnapshot } from '../../core/health.js';

/** An alert with what the operators (at the lane or at central) did about it. */
export interface AlertRecord {
  alert: Alert;
  state: 'new' | 'acknowledged' | 'closed';
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  acknowledgedOrigin: AlertEvent['origin'] | null;
  disposition: Disposition | null;
  dispositionAt: string | null;
  dispositionBy: string | null;
  dispositionOrigin: AlertEvent['origin'] | null;
  note: string | null;
  events: AlertEvent[];
}

export interface ScanRow {
  result: ScanResult;
  /** Alert raised by this scan, with its state, if any. */
  alertId: string | null;
  alertState: AlertRecord['state'] | null;
  disposition: Disposition | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  user: string | null;
  role: string | null;
  action: string;
  target: string | null;
  ok: boolean;
  detail: Record<string, unknown> | null;
  ip: string | null;
}

/** 'scan.begin': a scan began on a lane. */
export interface LiveBeginMessage {
  laneId: string;
  scanId: string;
  meta: ScanMeta;
  /** Scan pixels per live pixel, both ways. */
  factor: number;
  /** Rows of the live view. */
  height: number;
}

/** 'scan.lines': lines of the live view, display bytes (255 = open beam), line-major, base64. */
export interface LiveLinesMessage {
  laneId: string;
  scanId: string;
  firstIndex: number;
  count: number;
  height: number;
  high: string;
  low?: string;
}

export interface LaneView {
  id: string;
  name: string;
  health: LaneHealthSnapshot;
  scanState: string;
  /** The scan in progress or last received, as the live view has it. */
  live: { begin: LiveBeginMessage; lines: LiveLinesMessage | null } | null;
  lastDecided: ScanResult | null;
  /** Full-resolution views of lastDecided on disk now; [] while they are being rendered. */
  lastViews: ('high' | 'low' | 'material')[];
}

/** 'hello': the first event of a stream, and the whole state the page needs. */
export interface HelloMessage {
  user: string;
  role: 'operator' | 'supervisor';
  expiresAt: string;
  site: { id: string; name: string };
  version: string;
  lanes: LaneView[];
  alerts: AlertRecord[];
}

export interface ScanEndMessage {
  laneId: string;
  scanId: string;
  lines: number;
}

export interface ScanAbortedMessage {
  laneId: string;
  scanId: string;
  reason: string;
  detail: string;
}

export interface ScanDecidedMessage {
  laneId: string;
  result: ScanResult;
}

/** 'scan.image': the full-resolution pictures of a decided scan are ready. */
export interface ScanImageMessage {
  laneId: string;
  scanId: string;
  views: ('high' | 'low' | 'material')[];
}

export interface ScanDetail {
  result: ScanResult;
  views: ('high' | 'low' | 'material')[];
  alert: AlertRecord | null;
}

export interface SessionInfo {
  user: string;
  role: 'operator' | 'supervisor';
  expiresAt: string;
}
