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

export type Role = 'analyst' | 'supervisor' | 'admin';
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
export interface Lane {
  siteId: string;
  laneId: string;
  name: string | null;
  availability: string;
  overall: string | null;
  state: string;
  lastScanAt: string | null;
  lastScanId: string | null;
  modelVersion: string | null;
  edgeVersion: string | null;
  outboxDepth: number | null;
  downSince: string | null;
  downReason: string | null;
}
export interface Alert {
  siteId: string;
  laneId: string;
  alertId: string;
  scanId: string | null;
  raisedAt: string;
  kind: string;
  severity: string;
  score: number | null;
  message: string;
  acknowledgedBy: string | null;
  disposition: string | null;
  dispositionBy: string | null;
  payload: { regions: Region[]; evidence: Evidence[] };
}
export interface Review {
  siteId: string;
  laneId: string;
  scanId: string;
  reason: string;
  queuedAt: string;
  takenBy: string | null;
  takenAt: string | null;
  decidedAt: string | null;
  decision: string | null;
  note: string | null;
  escalatedAt: string | null;
  scan?: Scan;
}

export const time = (iso: string | null | undefined) =>
  iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '—';
export const evidenceUrl = (siteId: string, laneId: string, scanId: string, name: string) =>
  `/api/evidence/${[siteId, laneId, scanId, name].map(encodeURIComponent).join('/')}`;
