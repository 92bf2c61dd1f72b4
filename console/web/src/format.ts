import type { Disposition, Verdict } from '../../../core/domain.js';
import type { AlertRecord } from '../../server/messages.js';

export function time(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** Today: the time; another day: the date (year-month-day) and time to the minute. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (d.toDateString() === new Date().toDateString()) return time(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function score(s: number | null | undefined): string {
  return s === null || s === undefined ? '-' : s.toFixed(2);
}

export const DISPOSITION_LABEL: Record<Disposition, string> = {
  'person-found': 'Person found',
  'cleared-after-search': 'Cleared after search',
  'false-alarm': 'False alarm',
};

export const VERDICT_LABEL: Record<Verdict, string> = {
  person: 'Person suspected',
  clear: 'Clear',
  unavailable: 'Not screened',
};

/** A device name as operators say it: camera.front -> Camera front. */
export function deviceLabel(device: string): string {
  const known: Record<string, string> = {
    model: 'Detection model',
    mqtt: 'Central link (MQTT)',
    scanner: 'Scanner',
    outbox: 'Outbox',
    'anpr.mqtt': 'Plate reads (MQTT)',
  };
  if (known[device]) return known[device]!;
  const [head, ...rest] = device.split('.');
  const h =
    head === 'camera' ? 'Camera' : head === 'scanner' ? 'Scanner' : head!.charAt(0).toUpperCase() + head!.slice(1);
  const sub: Record<string, string> = { opcua: 'OPC UA', filedrop: 'file drop', anpr: 'ANPR' };
  return rest.length ? `${h} ${rest.map((r) => sub[r] ?? r).join(' ')}` : h;
}

/** Who did something about an alert, as the live banner and the history both say it: "bob at central command". */
export function actor(by: string | null, origin: string | null): string {
  return `${by ?? '?'}${origin === 'central' ? ' at central command' : ''}`;
}

/**
 * An alert's record in one line for the history, with the same words as the live banner:
 * "Alert A: closed — acknowledged by bob at central command 10:02:01 — False alarm by bob at central command 10:05:12 — “two adults”".
 */
export function alertSummary(
  r: Pick<
    AlertRecord,
    | 'alert'
    | 'state'
    | 'acknowledgedAt'
    | 'acknowledgedBy'
    | 'acknowledgedOrigin'
    | 'disposition'
    | 'dispositionAt'
    | 'dispositionBy'
    | 'dispositionOrigin'
    | 'note'
  >,
): string {
  const parts = [`Alert ${r.alert.alertId}: ${r.state}`];
  if (r.acknowledgedAt)
    parts.push(`acknowledged by ${actor(r.acknowledgedBy, r.acknowledgedOrigin)} ${dateTime(r.acknowledgedAt)}`);
  if (r.disposition)
    parts.push(
      `${DISPOSITION_LABEL[r.disposition]} by ${actor(r.dispositionBy, r.dispositionOrigin)} ${dateTime(r.dispositionAt)}`,
    );
  if (r.note) parts.push(`“${r.note}”`);
  return parts.join(' — ');
}
