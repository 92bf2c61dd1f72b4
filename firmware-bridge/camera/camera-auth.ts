import { createHash, randomBytes } from 'node:crypto';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  opaque?: string;
  algorithm: 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';
}

/** Parses `Digest realm="…", nonce="…", qop="auth,auth-int", …`; null if it is not a Digest challenge we can answer. */
export function parseDigestChallenge(header: string): DigestChallenge | null {
  const m = /^\s*Digest\s+(.*)$/i.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const p of m[1].matchAll(/([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g))
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  if (!params.realm || !params.nonce) return null;
  const algorithm = (params.algorithm ?? 'MD5').toUpperCase();
  const known = { MD5: 'MD5', 'MD5-SESS': 'MD5-sess', 'SHA-256': 'SHA-256', 'SHA-256-SESS': 'SHA-256-sess' } as const;
  if (!(algorithm in known)) return null;
  const qops = params.qop?.split(',').map((q) => q.trim().toLowerCase());
  return {
    realm: params.realm,
    nonce: params.nonce,
    ...(qops ? (qops.includes('auth') ? { qop: 'auth' } : {}) : {}),
    ...(params.opaque !== undefined ? { opaque: params.opaque } : {}),
    algorithm: known[algorithm as keyof typeof known],
  };
}

/** The Authorization header value answering a Digest challenge (RFC 7616; qop auth or none). */
export function digestAuthorization(o: {
  user: string;
  pass: string;
  method: string;
  uri: string;
  challenge: DigestChallenge;
  nc: number;
  cnonce: string;
}): string {
  const { challenge: c } = o;
  const h = (s: string) =>
    createHash(c.algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
      .update(s)
      .digest('hex');
  let ha1 = h(`${o.user}:${c.realm}:${o.pass}`);
  if (c.algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${c.nonce}:${o.cnonce}`);
  const ha2 = h(`${o.method}:${o.uri}`);
  const nc = o.nc.toString(16).padStart(8, '0');
  const response = c.qop ? h(`${ha1}:${c.nonce}:${nc}:${o.cnonce}:${c.qop}:${ha2}`) : h(`${ha1}:${c.nonce}:${ha2}`);
  const q = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;
  const parts = [
    `username=${q(o.user)}`,
    `realm=${q(c.realm)}`,
    `nonce=${q(c.nonce)}`,
    `uri=${q(o.uri)}`,
    `algorithm=${c.algorithm}`,
    `response=${q(response)}`,
  ];
  if (c.qop) parts.push(`qop=${c.qop}`, `nc=${nc}`, `cnonce=${q(o.cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${q(c.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

/**
 * A camera's credentials and what the camera asked for: nothing is sent until the camera answers
 * 401, then Basic or Digest as its challenge says, and from then on with every request
 * (Digest with the camera's nonce and a growing nonce count).
 */
export class CameraAuth {
  #scheme: 'none' | 'basic' | 'digest' = 'none';
  #challenge: DigestChallenge | null = null;
  #nc = 0;

  constructor(
    readonly user: string,
    readonly pass: string,
  ) {}

  get scheme(): 'none' | 'basic' | 'digest' {
    return this.#scheme;
  }

  /** The Authorization header for a request, or undefined before any challenge. */
  header(method: string, uri: string): string | undefined {
    if (this.#scheme === 'basic') return `Basic ${Buffer.from(`${this.user}:${this.pass}`).toString('base64')}`;
    if (this.#scheme === 'digest' && this.#challenge) {
      return digestAuthorization({
        user: this.user,
        pass: this.pass,
        method,
        uri,
        challenge: this.#challenge,
        nc: ++this.#nc,
        cnonce: randomBytes(8).toString('hex'),
      });
    }
    return undefined;
  }

  /** Takes a 401's WWW-Authenticate headers; false if none can be answered. */
  challenged(wwwAuthenticate: string | string[] | undefined): boolean {
    const all = Array.isArray(wwwAuthenticate) ? wwwAuthenticate : wwwAuthenticate ? [wwwAuthenticate] : [];
    for (const h of all) {
      const d = parseDigestChallenge(h);
      if (d) {
        this.#scheme = 'digest';
        this.#challenge = d;
        this.#nc = 0;
        return true;
      }
    }
    if (all.some((h) => /^\s*Basic\b/i.test(h))) {
      this.#scheme = 'basic';
      return true;
    }
    return false;
  }
}
