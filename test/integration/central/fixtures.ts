import type { AlertPayload, EventPayload, ScanPayload, StatusPayload } from '../../../core/mqtt-payloads.js';

/** Lane payloads as a lane publishes them (core/mqtt-payloads.ts), for central's tests. */
export function scanMsg(o: {
  siteId?: string;
  laneId?: string;
  scanId: string;
  at?: Date;
  verdict?: ScanPayload['verdict'];
  plate?: string;
  container?: string;
  review?: ScanPayload['review'];
  model?: string;
}): ScanPayload {
  const at = (o.at ?? new Date()).toISOString();
  return {
    schemaVersion: 1,
    messageId: o.scanId,
    siteId: o.siteId ?? 'site-a',
    laneId: o.laneId ?? 'lane-1',
    scanId: o.scanId,
    startedAt: at,
    endedAt: at,
    decidedAt: at,
    outcome: 'completed',
    verdict: o.verdict ?? 'clear',
    score: o.verdict === 'unavailable' ? null : o.verdict === 'person' ? 0.9 : 0.05,
    threshold: 0.5,
    regions: o.verdict === 'person' ? [{ x: 10, y: 20, w: 30, h: 40, score: 0.9 }] : [],
    model: { name: 'person-fcn', version: o.model ?? '1.2.0' },
    ...(o.plate || o.container
      ? { vehicle: { ...(o.plate ? { plate: o.plate } : {}), ...(o.container ? { containerCode: o.container } : {}) } }
      : {}),
    lines: 640,
    channels: 400,
    missingLines: 0,
    evidence: [{ name: 'scan.jpg', kind: 'scan', contentType: 'image/jpeg', path: `/evidence/${o.scanId}/scan.jpg` }],
    ...(o.review ? { review: o.review } : {}),
  };
}

export function alertMsg(o: {
  siteId?: string;
  laneId?: string;
  scanId: string;
  at?: Date;
  severity?: AlertPayload['severity'];
}): AlertPayload {
  const severity = o.severity ?? 'critical';
  return {
    schemaVersion: 1,
    messageId: `${o.scanId}-person`,
    alertId: `${o.scanId}-person`,
    scanId: o.scanId,
    siteId: o.siteId ?? 'site-a',
    laneId: o.laneId ?? 'lane-1',
    raisedAt: (o.at ?? new Date()).toISOString(),
    kind: severity === 'critical' ? 'person-suspected' : severity === 'warning' ? 'detection-unavailable' : 'test',
    severity,
    score: 0.9,
    regions: [{ x: 10, y: 20, w: 30, h: 40, score: 0.9 }],
    message: `Person suspected in scan ${o.scanId}`,
    evidence: [],
  };
}

export function eventMsg(o: {
  siteId?: string;
  laneId?: string;
  alertId: string;
  eventId: string;
  type: EventPayload['type'];
  at?: Date;
  operator?: string;
}): EventPayload {
  return {
    schemaVersion: 1,
    messageId: o.eventId,
    eventId: o.eventId,
    alertId: o.alertId,
    siteId: o.siteId ?? 'site-a',
    laneId: o.laneId ?? 'lane-1',
    at: (o.at ?? new Date()).toISOString(),
    type: o.type,
    operator: o.operator ?? 'olga',
    origin: 'console',
  };
}

export function statusMsg(o: {
  siteId?: string;
  laneId?: string;
  at: Date;
  overall: StatusPayload['overall'];
  detail?: string;
}): StatusPayload {
  return {
    schemaVersion: 1,
    siteId: o.siteId ?? 'site-a',
    laneId: o.laneId ?? 'lane-1',
    at: o.at.toISOString(),
    overall: o.overall,
    devices: [
      {
        device: 'scanner',
        state: o.overall === 'ok' ? 'ok' : 'fault',
        ...(o.detail ? { detail: o.detail } : {}),
        since: o.at.toISOString(),
      },
    ],
    outbox: { depth: 3, alerts: 0, scans: 3, events: 0, evicted: 0 },
    versions: { edge: '0.1.0', model: '1.2.0' },
  };
}
