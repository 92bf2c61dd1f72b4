import type {
  AlertPayload,
  CommandResponse,
  EventPayload,
  ScanPayload,
  StatusPayload,
} from '../../core/mqtt-payloads.js';
import type { ParsedTopic } from '../../core/mqtt-topics.js';

/**
 * Readable one-line renderings of what central command receives, for `checkpoint-edge central`.
 * Pure functions: the client decides what to print (de-duplication, unchanged status).
 *
 * One clock: every line starts with the time it was received (`now`), so lines are printed in
 * the order of their first column. When the message's own time (raised, decided, sent) differs
 * from it by a second or more (a queued alert delivered after a reconnect, a skewed lane clock),
 * the line ends with that time in brackets.
 */

/** HH:MM:SS (UTC) of a time. */
export function clock(d: Date = new Date()): string {
  return Number.isNaN(d.getTime()) ? '??:??:??' : d.toISOString().slice(11, 19);
}

/** " (raised 10:00:05)" when the message's time is a second or more from the receive time; the date too when another day. */
function own(label: string, iso: string | undefined, now: Date): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return ` (${label} time unreadable: ${iso.slice(0, 40)})`;
  if (Math.abs(d.getTime() - now.getTime()) < 1000) return '';
  const day = d.toISOString().slice(0, 10) === now.toISOString().slice(0, 10) ? '' : `${d.toISOString().slice(0, 10)} `;
  return ` (${label} ${day}${clock(d)})`;
}

const where = (t: ParsedTopic) => `${t.siteId}/${t.laneId}`;

export function availabilityLine(t: ParsedTopic, payload: string, now = new Date()): string {
  const p = payload.trim();
  if (p === 'online') return `${clock(now)} ${where(t)} ONLINE`;
  if (p === 'offline') return `${clock(now)} ${where(t)} OFFLINE (lane stopped, or its link died: last will)`;
  return `${clock(now)} ${where(t)} availability "${p.slice(0, 40)}" (not in the contract)`;
}

/** What a status line shows apart from counters: a new line is printed when this changes. */
export function statusKey(s: StatusPayload): string {
  return `${s.overall}|${s.devices.map((d) => `${d.device}=${d.state}${d.state !== 'ok' ? `:${d.detail ?? ''}` : ''}`).join('|')}|${s.versions.edge}|${s.versions.model}`;
}

export function statusLine(t: ParsedTopic, s: StatusPayload, now = new Date()): string {
  const devices = s.devices
    .map((d) => `${d.device} ${d.state}${d.state !== 'ok' && d.detail ? ` (${d.detail})` : ''}`)
    .join(', ');
  return `${clock(now)} ${where(t)} HEALTH ${s.overall}: ${devices || 'no devices reported'}; outbox ${s.outbox.depth} queued${s.outbox.evicted ? `, ${s.outbox.evicted} evicted` : ''}; edge ${s.versions.edge}, model ${s.versions.model ?? 'none'}${own('reported', s.at, now)}`;
}

export function alertLine(t: ParsedTopic, a: AlertPayload, now = new Date()): string {
  const score = a.score === null ? '' : ` score ${a.score.toFixed(2)}`;
  const regions = a.regions.length ? ` ${a.regions.length} region(s)` : '';
  const evidence = a.evidence.length ? ` evidence: ${a.evidence.map((e) => e.url ?? e.path).join(' ')}` : '';
  return `${clock(now)} ${where(t)} ALERT ${a.severity.toUpperCase()} ${a.kind} ${a.alertId}${a.scanId ? ` scan ${a.scanId}` : ''}${score}${regions}: ${a.message}${evidence}${own('raised', a.raisedAt, now)}`;
}

export function eventLine(t: ParsedTopic, e: EventPayload, now = new Date()): string {
  return `${clock(now)} ${where(t)} EVENT ${e.alertId} ${e.type} by ${e.operator}${e.onBehalfOf ? ` for ${e.onBehalfOf}` : ''} (${e.origin})${e.note ? `: ${e.note}` : ''}${own('at', e.at, now)}`;
}

export function scanLine(t: ParsedTopic, s: ScanPayload, now = new Date()): string {
  const score = s.score === null ? '-' : s.score.toFixed(2);
  const why = s.verdict === 'unavailable' && s.unavailableReason ? ` (${s.unavailableReason})` : '';
  return `${clock(now)} ${where(t)} scan ${s.scanId} ${s.outcome} verdict ${s.verdict}${why} score ${score} plate ${s.vehicle?.plate ?? '-'}${own('decided', s.decidedAt, now)}`;
}

export function responseLine(t: ParsedTopic, command: string, r: CommandResponse, now = new Date()): string {
  const tx = r.transaction ? ` [${r.transaction}]` : '';
  return r.status === 'ok'
    ? `${clock(now)} ${where(t)} RESPONSE ${command}${tx} ok${own('answered', r.at, now)}`
    : `${clock(now)} ${where(t)} RESPONSE ${command}${tx} ERROR: ${r.error}${own('answered', r.at, now)}`;
}
