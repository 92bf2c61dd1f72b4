import type { AlertPayload, CommandResponse, EventPayload, ScanPayload, StatusPayload } from './payloads.js';
import type { ParsedTopic } from './topics.js';

/**
 * Readable one-line renderings of what central command receives, for `checkpoint-edge central`.
 * Pure functions: the client decides what to print (de-duplication, unchanged status).
 */

function clock(iso?: string): string {
  const d = iso ? new Date(iso) : new Date();
  return Number.isNaN(d.getTime()) ? '??:??:??' : d.toISOString().slice(11, 19);
}

const where = (t: ParsedTopic) => `${t.siteId}/${t.laneId}`;

export function availabilityLine(t: ParsedTopic, payload: string): string {
  const p = payload.trim();
  if (p === 'online') return `${clock()} ${where(t)} ONLINE`;
  if (p === 'offline') return `${clock()} ${where(t)} OFFLINE (lane stopped, or its link died: last will)`;
  return `${clock()} ${where(t)} availability "${p.slice(0, 40)}" (not in the contract)`;
}

/** What a status line shows apart from counters: a new line is printed when this changes. */
export function statusKey(s: StatusPayload): string {
  return `${s.overall}|${s.devices.map((d) => `${d.device}=${d.state}${d.state !== 'ok' ? `:${d.detail ?? ''}` : ''}`).join('|')}|${s.versions.edge}|${s.versions.model}`;
}

export function statusLine(t: ParsedTopic, s: StatusPayload): string {
  const devices = s.devices.map((d) => `${d.device} ${d.state}${d.state !== 'ok' && d.detail ? ` (${d.detail})` : ''}`).join(', ');
  return `${clock(s.at)} ${where(t)} HEALTH ${s.overall}: ${devices || 'no devices reported'}; outbox ${s.outbox.depth} queued${s.outbox.evicted ? `, ${s.outbox.evicted} evicted` : ''}; edge ${s.versions.edge}, model ${s.versions.model ?? 'none'}`;
}

export function alertLine(t: ParsedTopic, a: AlertPayload): string {
  const score = a.score === null ? '' : ` score ${a.score.toFixed(2)}`;
  const regions = a.regions.length ? ` ${a.regions.length} region(s)` : '';
  const evidence = a.evidence.length ? ` evidence: ${a.evidence.map((e) => e.url ?? e.path).join(' ')}` : '';
  return `${clock(a.raisedAt)} ${where(t)} ALERT ${a.severity.toUpperCase()} ${a.kind} ${a.alertId}${a.scanId ? ` scan ${a.scanId}` : ''}${score}${regions}: ${a.message}${evidence}`;
}

export function eventLine(t: ParsedTopic, e: EventPayload): string {
  return `${clock(e.at)} ${where(t)} EVENT ${e.alertId} ${e.type} by ${e.operator}${e.onBehalfOf ? ` for ${e.onBehalfOf}` : ''} (${e.origin})${e.note ? `: ${e.note}` : ''}`;
}

export function scanLine(t: ParsedTopic, s: ScanPayload): string {
  const score = s.score === null ? '-' : s.score.toFixed(2);
  const why = s.verdict === 'unavailable' && s.unavailableReason ? ` (${s.unavailableReason})` : '';
  return `${clock(s.decidedAt)} ${where(t)} scan ${s.scanId} ${s.outcome} verdict ${s.verdict}${why} score ${score} plate ${s.vehicle?.plate ?? '-'}`;
}

export function responseLine(t: ParsedTopic, command: string, r: CommandResponse): string {
  const tx = r.transaction ? ` [${r.transaction}]` : '';
  return r.status === 'ok' ? `${clock(r.at)} ${where(t)} RESPONSE ${command}${tx} ok` : `${clock(r.at)} ${where(t)} RESPONSE ${command}${tx} ERROR: ${r.error}`;
}
