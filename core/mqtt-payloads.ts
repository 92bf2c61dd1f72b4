import { z } from 'zod';
import {
  ABORT_REASONS,
  DEVICE_STATES,
  DISPOSITIONS,
  type Alert,
  type AlertEvent,
  type EvidenceRef,
  type ScanResult,
} from './domain.js';
import type { LaneHealthSnapshot } from './health.js';

/**
 * Every MQTT payload of the contract as a zod schema: the single source of the JSON Schemas in
 * docs/schemas/mqtt/ (written by outputs/mqtt/json-schemas.ts) and of the command validation.
 * Bump SCHEMA_VERSION on any change a consumer could trip over; additions of optional fields
 * keep it.
 */
export const SCHEMA_VERSION = 1;

/** Why a lane sends a scan to central command's remote review. */
export const REVIEW_REASONS = ['person', 'unavailable', 'quality-control'] as const;
export type ReviewReason = (typeof REVIEW_REASONS)[number];

const schemaVersion = z.literal(SCHEMA_VERSION).describe("Version of this payload's schema.");
const isoTime = z.string().describe('ISO 8601 time, UTC.');
const id = z.string().min(1).max(200);

const regionSchema = z
  .object({
    x: z.number().describe('Left edge, in scan lines.'),
    y: z.number().describe('Top edge, in detector channels.'),
    w: z.number(),
    h: z.number(),
    score: z.number().min(0).max(1),
  })
  .describe('A flagged region in scan image pixels (x = line, y = channel).');

const modelSchema = z.object({ name: z.string(), version: z.string(), sha256: z.string().optional() });

const vehicleSchema = z.object({
  plate: z.string().optional(),
  containerCode: z.string().optional(),
  class: z.string().optional(),
  speedKmh: z.number().optional(),
});

const evidenceSchema = z.object({
  name: z.string(),
  kind: z.enum(['scan', 'camera']),
  contentType: z.string(),
  path: z.string().describe("Path on the lane's HTTP server, e.g. /evidence/<scanId>/scan.jpg."),
  url: z
    .string()
    .optional()
    .describe(
      'Signed link to the picture, path?exp=<unix s>&sig=<HMAC>: absolute (mqtt.evidenceBaseUrl + signed path) when a base URL is known, else the signed path. Valid until exp (evidence.linkTtlHours); the file itself goes with evidence retention.',
    ),
});

export const watchlistHitSchema = z
  .object({
    listId: z.string(),
    listVersion: z.number().int().describe('The list version the lane matched against.'),
    entry: z.object({
      id: z.string(),
      plate: z.string().optional(),
      country: z.string().optional(),
      containerCode: z.string().optional(),
      category: z.string(),
      action: z.string().describe('What the officer does: e.g. "stop and search".'),
      priority: z.number().int().min(1).max(5),
      source: z.string(),
      covert: z.boolean().describe('A covert hit is sent to central command only; the lane console never shows it.'),
      note: z.string().optional(),
      effectiveFrom: isoTime.optional(),
      expiresAt: isoTime.optional(),
    }),
    read: z.object({
      value: z.string().describe('The read as the reader gave it.'),
      kind: z.enum(['plate', 'container']),
      confidence: z.number().min(0).max(1).nullable().describe("The reader's confidence, where it gives one."),
      cameraId: z.string().optional(),
      at: isoTime,
      via: z.string().describe('anpr, or scan (file, stream) for reads that came with the scan.'),
    }),
    score: z.number().min(0).max(1).describe('1: exact; 0.8: within one confusable character (O/0, I/1, B/8).'),
  })
  .describe('A read that matched a watchlist entry; to be verified against the picture before acting.');
const senseEnum = z.enum(['xray', 'co2', 'heartbeat']);
const supportEnum = z.enum(['supported', 'not-supported', 'no-evidence']);

export const senseEvidenceSchema = z
  .object({
    sense: senseEnum,
    state: z
      .enum(['evidence', 'missing', 'unusable'])
      .describe(
        'evidence: a usable reading of this vehicle; missing: none (no device, device down, no reading in the time window); unusable: readings that say nothing (engine running, sensor fault, poor signal, value out of range).',
      ),
    llr: z.number().optional().describe("Log-likelihood ratio person : no person from this sense's calibrated model."),
    value: z
      .number()
      .optional()
      .describe('The figure the model read: X-ray score, CO2 rise over outdoor air (ppm), heartbeat score (0-1).'),
    device: z.string().optional().describe('Sensor id that gave the reading.'),
    at: isoTime.optional().describe('When the reading used was taken.'),
    reading: z
      .record(z.string(), z.union([z.number(), z.boolean(), z.string()]))
      .optional()
      .describe('The raw reading: CO2 ppm, temperature, humidity; heartbeat score, signal quality, engine off.'),
    detail: z.string().describe('Why missing or unusable, or what the value means, in words.'),
  })
  .describe('What one sense contributed to the lane decision.');

export const fusionSchema = z
  .object({
    verdict: z
      .enum(['person', 'clear', 'unavailable'])
      .describe('The fused decision. A person verdict from the X-ray always stands.'),
    posterior: z
      .number()
      .min(0)
      .max(1)
      .describe("Probability of people from every sense with evidence, at the lane's prior."),
    threshold: z.number().describe('Posterior at or above which a vehicle the X-ray cleared raises a person alert.'),
    xraySupport: supportEnum.optional().describe('For an X-ray person verdict: whether CO2 and heartbeat back it.'),
    addedAlert: z.boolean().describe('The fused decision raised a person alert the X-ray alone did not.'),
    senses: z.array(senseEvidenceSchema),
    missing: z.array(senseEnum).describe('Senses without usable evidence for this vehicle.'),
  })
  .describe('The lane decision fused from the X-ray and the CO2 and heartbeat sensors (lanes with sensors).');

export const scanPayloadSchema = z
  .object({
    schemaVersion,
    messageId: id.describe('Stable id for de-duplication: the scan id.'),
    siteId: z.string(),
    laneId: z.string(),
    scanId: id.describe("The edge's id of the scan: a UUIDv7 minted by the edge, unique, sorting by time."),
    scannerScanId: z
      .string()
      .optional()
      .describe(
        "The scanner's own id of the scan (line-stream scan-begin, file-drop sidecar or file stem), when it gave one. Not unique: a scanner restart may repeat it.",
      ),
    startedAt: isoTime,
    endedAt: isoTime,
    decidedAt: isoTime,
    outcome: z.enum(['completed', 'aborted']),
    abortReason: z.enum(ABORT_REASONS as [string, ...string[]]).optional(),
    abortDetail: z.string().optional(),
    verdict: z
      .enum(['person', 'clear', 'unavailable'])
      .describe('unavailable: not screened by the model; never to be read as clear.'),
    unavailableReason: z.string().optional(),
    score: z.number().nullable(),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'Alert threshold the verdict was decided at: score >= threshold is "person". Absent when there is no score.',
      ),
    regions: z.array(regionSchema),
    model: modelSchema.nullable(),
    vehicle: vehicleSchema.optional(),
    lines: z.number().int(),
    channels: z.number().int(),
    lineMm: z
      .number()
      .positive()
      .optional()
      .describe(
        "Pitch the lines were read at, mm at the vehicle, where it differs from the channels' (scanner.lineMm); absent: square pixels.",
      ),
    missingLines: z.number().int(),
    evidence: z.array(evidenceSchema),
    watchlist: z
      .array(watchlistHitSchema)
      .optional()
      .describe('Watchlist hits on this vehicle (not covert ones, which come only as alerts).'),
    fusion: fusionSchema.optional().describe('Present on lanes with CO2 or heartbeat sensors.'),
    review: z
      .object({
        reason: z
          .enum(REVIEW_REASONS)
          .describe(
            'person or unavailable: the verdict asks for a second look; quality-control: a share of clear scans.',
          ),
      })
      .optional()
      .describe(
        'Present when the lane sends this scan to central command for remote review; the decision comes back as cmd/review-decision.',
      ),
  })
  .describe('One decided scan, completed or aborted. Topic <prefix>/<site>/<lane>/scan, QoS 1, not retained.');

export const alertPayloadSchema = z
  .object({
    schemaVersion,
    messageId: id.describe('Stable id for de-duplication: the alert id.'),
    alertId: id.describe("The edge's id of the alert: a UUIDv7, one per alert."),
    scanId: z.string().nullable().describe("The edge's id of the scan that raised it (null for a test alert)."),
    scannerScanId: z.string().optional().describe("The scanner's own id of that scan, when it gave one."),
    siteId: z.string(),
    laneId: z.string(),
    raisedAt: isoTime,
    kind: z
      .enum([
        'person-suspected',
        'person-suspected-by-sensors',
        'detection-unavailable',
        'scan-aborted',
        'watchlist',
        'test',
      ])
      .describe('person-suspected-by-sensors: the X-ray cleared the vehicle, CO2 and heartbeat evidence did not.'),
    severity: z.enum(['critical', 'warning', 'info']),
    score: z.number().nullable(),
    regions: z.array(regionSchema),
    message: z.string(),
    evidence: z.array(evidenceSchema),
    watchlist: watchlistHitSchema
      .optional()
      .describe('For kind watchlist: the listed entry, the read and the match score.'),
    support: supportEnum
      .optional()
      .describe('Person alerts on lanes with sensors: whether CO2 and heartbeat back the X-ray.'),
  })
  .describe('An alert. Topic <prefix>/<site>/<lane>/alert, QoS 1, not retained.');

export const eventPayloadSchema = z
  .object({
    schemaVersion,
    messageId: id.describe('Stable id for de-duplication: the event id.'),
    eventId: id,
    alertId: id,
    siteId: z.string(),
    laneId: z.string(),
    at: isoTime,
    type: z.enum(['acknowledged', ...(DISPOSITIONS as [string, ...string[]])]),
    operator: z
      .string()
      .describe(
        'Who acted: the console user, or the central identity the command came in under (mqtt.commands.identities).',
      ),
    onBehalfOf: z
      .string()
      .optional()
      .describe('origin central: the person central command named in the command, as central claims it.'),
    note: z.string().optional(),
    origin: z.enum(['console', 'central']),
  })
  .describe('An acknowledgement or disposition of an alert. Topic <prefix>/<site>/<lane>/event, QoS 1, not retained.');

const deviceStateSchema = z.enum(DEVICE_STATES);

export const statusPayloadSchema = z
  .object({
    schemaVersion,
    siteId: z.string(),
    laneId: z.string(),
    at: isoTime,
    overall: z.enum(['ok', 'degraded', 'detection-unavailable']),
    devices: z.array(
      z.object({
        device: z.string().describe('scanner, scanner.opcua, camera.<id>, model, mqtt ...'),
        state: deviceStateSchema,
        detail: z.string().optional(),
        since: isoTime,
        info: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
      }),
    ),
    outbox: z.object({
      depth: z.number().int(),
      alerts: z.number().int(),
      scans: z.number().int(),
      events: z.number().int(),
      evicted: z.number().int().describe('Messages evicted since start because the outbox was full.'),
    }),
    versions: z.object({
      edge: z.string(),
      model: z.string().nullable(),
      watchlists: z
        .record(z.string(), z.number().int())
        .optional()
        .describe(
          'The version of each watchlist the lane holds, by list id, so that central command sees lanes that are behind.',
        ),
    }),
  })
  .describe('Health of the lane. Topic <prefix>/<site>/<lane>/status, QoS 1, retained.');

export const availabilityPayloadSchema = z
  .enum(['online', 'offline'])
  .describe(
    'Plain text (not JSON). Topic <prefix>/<site>/<lane>/availability, QoS 1, retained; offline is the last will.',
  );

const transaction = z.string().min(1).max(200).optional().describe('Chosen by the sender; echoed in the response.');
const operator = z
  .string()
  .min(1)
  .max(100)
  .describe(
    'Name of the person at central command: recorded as onBehalfOf; the acting identity is the central identity the command comes in under.',
  );
const note = z.string().max(2000).optional();

export const ackCommandSchema = z
  .strictObject({ transaction, alertId: id, operator, note })
  .describe('Topic <prefix>/<site>/<lane>/cmd/ack.');
export const dispositionCommandSchema = z
  .strictObject({
    transaction,
    alertId: id,
    disposition: z.enum(DISPOSITIONS as [string, ...string[]]),
    operator,
    note,
  })
  .describe('Topic <prefix>/<site>/<lane>/cmd/disposition.');
export const statusCommandSchema = z
  .strictObject({ transaction })
  .describe('Topic <prefix>/<site>/<lane>/cmd/status. The response data is the status payload.');
export const testAlertCommandSchema = z
  .strictObject({ transaction, operator, message: z.string().max(500).optional() })
  .describe('Topic <prefix>/<site>/<lane>/cmd/test-alert: raises an alert of kind test on the lane.');

export const reviewDecisionCommandSchema = z
  .strictObject({
    transaction,
    scanId: id.describe('The scan the lane sent for review.'),
    decision: z.enum(['clear', 'search']).describe('clear: release the vehicle; search: search it.'),
    analyst: operator,
    note,
  })
  .describe(
    "Topic <prefix>/<site>/<lane>/cmd/review-decision: the remote analyst's decision on a scan the lane sent for review; shown on the lane console.",
  );

export const commandResponseSchema = z
  .object({
    schemaVersion,
    status: z.enum(['ok', 'error']),
    data: z
      .unknown()
      .describe(
        'ack/disposition: the recorded event; status: the status payload; test-alert: {alertId}. null on error.',
      ),
    error: z.string().nullable().describe('What was wrong and what to do; null when ok.'),
    transaction: z.string().nullable(),
    command: z.string(),
    siteId: z.string(),
    laneId: z.string(),
    at: isoTime,
  })
  .describe(
    'Answer to a command. Topic <prefix>/<site>/<lane>/cmd/<name>/response (or the MQTT 5 response topic), QoS 1.',
  );

export const receiptPayloadSchema = z
  .object({
    schemaVersion,
    stored: z
      .array(z.object({ kind: z.enum(['scan', 'alert', 'event']), id }))
      .max(1000)
      .describe('Messages of this lane now stored at central command (or found there already), by kind and messageId.'),
    at: isoTime,
  })
  .describe(
    "Central command's end-to-end receipt: the messages it has stored. Topic <prefix>/<site>/<lane>/receipt, QoS 0, not retained. A lane with mqtt.delivery.confirmBy central keeps a message in its outbox until a receipt names it.",
  );

export type ScanPayload = z.infer<typeof scanPayloadSchema>;
export type AlertPayload = z.infer<typeof alertPayloadSchema>;
export type EventPayload = z.infer<typeof eventPayloadSchema>;
export type StatusPayload = z.infer<typeof statusPayloadSchema>;
export type CommandResponse = z.infer<typeof commandResponseSchema>;
export type ReceiptPayload = z.infer<typeof receiptPayloadSchema>;
export type ReviewDecisionCommand = z.infer<typeof reviewDecisionCommandSchema>;

/** The payloads of the contract by file name in docs/schemas/mqtt/. */
export const PAYLOAD_SCHEMAS: Record<string, z.ZodType> = {
  availability: availabilityPayloadSchema,
  status: statusPayloadSchema,
  scan: scanPayloadSchema,
  alert: alertPayloadSchema,
  event: eventPayloadSchema,
  'cmd-ack': ackCommandSchema,
  'cmd-disposition': dispositionCommandSchema,
  'cmd-status': statusCommandSchema,
  'cmd-test-alert': testAlertCommandSchema,
  'cmd-review-decision': reviewDecisionCommandSchema,
  'cmd-response': commandResponseSchema,
  receipt: receiptPayloadSchema,
};

/** Turns an evidence path into a signed link: the path with ?exp=&sig= (outputs/evidence/evidence-urls.ts). */
export type EvidenceLinkSigner = (path: string) => string;

/**
 * Turns evidence paths into the payload form: url is the signed link, absolute when a base is
 * known. Without a signer (tests, tools) the url is the plain one, and absent without a base.
 */
export function evidenceRefs(
  refs: EvidenceRef[],
  baseUrl: string | null,
  sign?: EvidenceLinkSigner,
): ScanPayload['evidence'] {
  const base = baseUrl?.replace(/\/+$/, '') ?? null;
  return refs.map((r) => {
    const absolute = /^https?:\/\//.test(r.url);
    const path = absolute ? new URL(r.url).pathname : r.url.startsWith('/') ? r.url : `/${r.url}`;
    const signed = sign ? sign(path) : null;
    const url = absolute
      ? signed
        ? new URL(signed, r.url).href
        : r.url
      : base
        ? `${base}${signed ?? path}`
        : (signed ?? undefined);
    return { name: r.name, kind: r.kind, contentType: r.contentType, path, ...(url ? { url } : {}) };
  });
}

export function scanPayload(r: ScanResult, evidenceBaseUrl: string | null, sign?: EvidenceLinkSigner): ScanPayload {
  return {
    schemaVersion: SCHEMA_VERSION,
    messageId: r.scanId,
    siteId: r.siteId,
    laneId: r.laneId,
    scanId: r.scanId,
    ...(r.scannerScanId !== undefined ? { scannerScanId: r.scannerScanId } : {}),
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    decidedAt: r.decidedAt,
    outcome: r.outcome,
    ...(r.abortReason ? { abortReason: r.abortReason } : {}),
    ...(r.abortDetail !== undefined ? { abortDetail: r.abortDetail } : {}),
    verdict: r.verdict,
    ...(r.unavailableReason !== undefined ? { unavailableReason: r.unavailableReason } : {}),
    score: r.score,
    ...(r.threshold !== undefined ? { threshold: r.threshold } : {}),
    regions: r.regions.map(({ x, y, w, h, score }) => ({ x, y, w, h, score })),
    model: r.model,
    ...(r.vehicle ? { vehicle: r.vehicle } : {}),
    lines: r.lines,
    channels: r.channels,
    ...(r.lineMm !== undefined ? { lineMm: r.lineMm } : {}),
    missingLines: r.missingLines,
    evidence: evidenceRefs(r.evidence, evidenceBaseUrl, sign),
    ...(r.watchlist?.length ? { watchlist: r.watchlist } : {}),
    ...(r.fusion ? { fusion: r.fusion } : {}),
  };
}

/** Why this scan goes to remote review under the lane's mqtt.review settings, or null. */
export function reviewReason(
  r: ScanResult,
  o: { verdicts: readonly string[]; clearShare: number },
  random: () => number = Math.random,
): ReviewReason | null {
  if (r.verdict !== 'clear') return o.verdicts.includes(r.verdict) ? r.verdict : null;
  return o.clearShare > 0 && random() < o.clearShare ? 'quality-control' : null;
}

export function alertPayload(a: Alert, evidenceBaseUrl: string | null, sign?: EvidenceLinkSigner): AlertPayload {
  return {
    schemaVersion: SCHEMA_VERSION,
    messageId: a.alertId,
    alertId: a.alertId,
    scanId: a.scanId,
    ...(a.scannerScanId !== undefined ? { scannerScanId: a.scannerScanId } : {}),
    siteId: a.siteId,
    laneId: a.laneId,
    raisedAt: a.raisedAt,
    kind: a.kind,
    severity: a.severity,
    score: a.score,
    regions: a.regions.map(({ x, y, w, h, score }) => ({ x, y, w, h, score })),
    message: a.message,
    evidence: evidenceRefs(a.evidence, evidenceBaseUrl, sign),
    ...(a.watchlist ? { watchlist: a.watchlist } : {}),
    ...(a.support ? { support: a.support } : {}),
  };
}

export function eventPayload(e: AlertEvent): EventPayload {
  return {
    schemaVersion: SCHEMA_VERSION,
    messageId: e.eventId,
    eventId: e.eventId,
    alertId: e.alertId,
    siteId: e.siteId,
    laneId: e.laneId,
    at: e.at,
    type: e.type,
    operator: e.operator,
    ...(e.onBehalfOf !== undefined ? { onBehalfOf: e.onBehalfOf } : {}),
    ...(e.note !== undefined ? { note: e.note } : {}),
    origin: e.origin,
  };
}

export function statusPayload(o: {
  siteId: string;
  health: LaneHealthSnapshot;
  outbox: StatusPayload['outbox'];
  edgeVersion: string;
  modelVersion: string | null;
}): StatusPayload {
  return {
    schemaVersion: SCHEMA_VERSION,
    siteId: o.siteId,
    laneId: o.health.laneId,
    at: new Date().toISOString(),
    overall: o.health.overall,
    devices: o.health.devices.map((d) => ({ ...d, ...(d.info ? { info: { ...d.info } } : {}) })),
    outbox: o.outbox,
    versions: { edge: o.edgeVersion, model: o.modelVersion, ...watchlistVersions(o.health) },
  };
}

/** The list versions the lane's watchlist reports in its device status ('version.<list>' figures). */
function watchlistVersions(h: LaneHealthSnapshot): { watchlists?: Record<string, number> } {
  const info = h.devices.find((d) => d.device === 'watchlist')?.info;
  if (!info) return {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(info))
    if (k.startsWith('version.') && typeof v === 'number') out[k.slice('version.'.length)] = v;
  return { watchlists: out };
}
