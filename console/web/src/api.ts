/** Calls to the console's JSON API. Every POST carries the CSRF header the server requires. */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Window event sent when an API call finds the session gone; detail: the server's reason. */
export const SESSION_ENDED = 'console-session-ended';

export async function api<T>(path: string, opts: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: method === 'POST' ? { 'content-type': 'application/json', 'x-console-request': '1' } : {},
    ...(method === 'POST' ? { body: JSON.stringify(opts.body ?? {}) } : {}),
  });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const msg = (data as { error?: string } | null)?.error ?? `${method} ${path} failed: HTTP ${res.status}`;
    // The session ran out while the page was open: back to the log-in, saying why.
    if (res.status === 401 && path !== '/api/login' && path !== '/api/session')
      window.dispatchEvent(new CustomEvent(SESSION_ENDED, { detail: msg }));
    throw new HttpError(res.status, msg);
  }
  return data as T;
}

export function scanImageUrl(laneId: string, scanId: string, view: string): string {
  return `/api/scans/${encodeURIComponent(laneId)}/${encodeURIComponent(scanId)}/image/${view}.png`;
}
