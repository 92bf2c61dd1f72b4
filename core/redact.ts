/**
 * The one place that removes credentials from text before it is logged, put in a device's
 * detail, served on /healthz or published in the MQTT status: the user information of URLs
 * (`rtsp://user:pass@cam/` becomes `rtsp://***@cam/`) and, where the caller knows them, the
 * secret values themselves (a child process may print a password without URL syntax).
 */

export const REDACTED = '***';

/** scheme://userinfo@ ; userinfo ends at the last @ before the next /, whitespace or quote. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]*(?:@[^\s/?#@"'<>]*)*@/gi;

/** The user information (`user:password`, without the @) of every URL in a text. */
export function urlUserinfo(text: string): string[] {
  return [...text.matchAll(URL_USERINFO)].map((m) => m[0].slice(m[1]!.length, -1));
}

/** A URL fit for messages: its user name and password replaced by ***. Not a URL: the text rules apply. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    return redactText(url);
  } catch {
    return redactText(url);
  }
}

/**
 * Text fit for logs and status details: every URL's user information replaced by ***, and every
 * secret given (and its percent-encoded form) replaced by ***. Secrets shorter than 4 characters
 * are not searched for (they would mangle ordinary words).
 */
export function redactText(text: string, secrets: Iterable<string | undefined> = []): string {
  let out = text.replace(URL_USERINFO, `$1${REDACTED}@`);
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join(REDACTED);
  }
  return out;
}

/** A record of figures (a device's info) with every string redacted. */
export function redactInfo<T extends Record<string, string | number | boolean | null>>(info: T): T {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(info)) out[k] = typeof v === 'string' ? redactText(v) : v;
  return out as T;
}
