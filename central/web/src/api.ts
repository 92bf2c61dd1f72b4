import type { AlertRow, FigureRow, LaneRow, MovementRow, ReviewRow, Role } from '../../store/central-store.js';
/** Calls to central's JSON API (same origin, session cookie). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(
  path: string,
  opts: { method?: 'GET' | 'POST' | 'DELETE'; body?: unknown } = {},
): Promise<T> {
  const method = opts.method ?? 'GET';
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    ...(method === 'GET' ? {} : { body: JSON.stringify(opts.body ?? {}) }),
  });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok)
    throw new ApiError(
      res.status,
      (data as { error?: string } | null)?.error ?? `${method} ${path}: HTTP ${res.status}`,
    );
  return data as T;
}

export type { Role };
/** A store row as the JSON API sends it: its dates as ISO strings. */
type Json<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};
export type Lane = Json<LaneRow>;
export type Alert = Json<AlertRow>;
export type Review = Omit<Json<ReviewRow>, 'scan'> & { scan?: Scan };
export type Movement = Json<MovementRow>;
export type Figure = FigureRow;
export interface Me {
  name: string;
  role: Role;
}

export interface Evidence {
  name: string;
  kind: string;
  contentType: string;
  path: string;
  url?: string;
}
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
}
export interface Scan {
  siteId: string;
  laneId: string;
  scanId: string;
  decidedAt: string;
  verdict: string;
  score: number | null;
  threshold?: number;
  regions: Region[];
  model: { name: string; version: string } | null;
  vehicle?: { plate?: string; containerCode?: string };
  evidence: Evidence[];
  review?: { reason: string };
}

export const time = (iso: string | null | undefined) =>
  iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '—';
export const evidenceUrl = (siteId: string, laneId: string, scanId: string, name: string) =>
  `/api/evidence/${[siteId, laneId, scanId, name].map(encodeURIComponent).join('/')}`;
