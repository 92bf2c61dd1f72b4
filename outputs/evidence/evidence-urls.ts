import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** A scan folder or file name under /evidence: no separators, no leading dot, at most 128 characters. */
export const EVIDENCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const EVIDENCE_PATH = /^\/evidence\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;
const KEY_BYTES = 32;
const SIG = /^[A-Za-z0-9_-]{43}$/; // base64url of 32 bytes, unpadded

/** <dataDir>/evidence.key: the site's key for signing evidence URLs. */
export function evidenceKeyFile(dataDir: string): string {
  return join(resolve(dataDir), 'evidence.key');
}

/** The canonical path of one evidence file, or null if the scan folder or name is not a plain evidence name. */
function canonicalEvidencePath(path: string): string | null {
  const m = EVIDENCE_PATH.exec(path);
  if (!m || m[1].includes('..') || m[2].includes('..')) return null;
  return path;
}

export type SignatureCheck = { ok: true; expiresAt: number } | { ok: false; status: 401 | 403 | 503; reason: string };

/**
 * Reads the site's evidence key, creating it (32 random bytes, mode 0600) when absent. Creation
 * goes through a temporary file linked into place, so that two parts starting at once end up
 * with the same key and neither ever reads a half-written one.
 */
export async function loadOrCreateEvidenceKey(file: string): Promise<{ key: Buffer; created: boolean }> {
  try {
    return { key: await readKey(file), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = join(dirname(file), `.evidence.key.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(tmp, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600); // the umask may have taken bits away, never added: this is for clarity
    try {
      await link(tmp, file);
      return { key: await readKey(file), created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return { key: await readKey(file), created: false };
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.message.startsWith(file)) throw err;
    throw new Error(
      `cannot create the evidence signing key ${file}: ${e.code ?? e.message}; check that the data folder is writable by this user`,
      { cause: err },
    );
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function readKey(file: string): Promise<Buffer> {
  const s = await stat(file);
  const key = await readFile(file);
  if (key.length !== KEY_BYTES) {
    throw new Error(
      `${file}: the evidence signing key must be ${KEY_BYTES} bytes, found ${key.length}; delete the file to have a new key made at the next start (links already sent stop working)`,
    );
  }
  if ((s.mode & 0o077) !== 0) {
    throw new Error(
      `${file}: the evidence signing key is readable by other users (mode ${(s.mode & 0o777).toString(8)}); run 'chmod 600 ${file}'`,
    );
  }
  return key;
}

export interface EvidenceUrlSignerOptions {
  keyFile: string;
  /** Lifetime of a signed URL, in seconds. */
  ttlS: number;
  now?: () => number;
}

/**
 * Signs and checks evidence URLs: /evidence/<scanId>/<name>?exp=<unix s>&sig=<base64url>, where
 * sig is HMAC-SHA256 over "<exp>\n<path>" with the site's key. Whoever holds such a URL may read
 * that one file until exp, and nothing else.
 */
export class EvidenceUrlSigner {
  readonly keyFile: string;
  readonly ttlS: number;
  readonly #now: () => number;
  #key: Buffer | null = null;
  #loading: Promise<{ created: boolean }> | null = null;
  #error: string | null = null;

  constructor(o: EvidenceUrlSignerOptions) {
    this.keyFile = o.keyFile;
    this.ttlS = o.ttlS;
    this.#now = o.now ?? (() => Date.now());
  }

  /** Reads (or creates) the key; idempotent. Rejects with a message naming the file. */
  load(): Promise<{ created: boolean }> {
    this.#loading ??= loadOrCreateEvidenceKey(this.keyFile).then(
      ({ key, created }) => {
        this.#key = key;
        return { created };
      },
      (err: Error) => {
        this.#error = err.message;
        throw err;
      },
    );
    return this.#loading;
  }

  /** Uses a key given directly (tests, tools), not the key file. */
  useKey(key: Buffer): this {
    if (key.length !== KEY_BYTES) throw new Error(`evidence signing key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.#key = key;
    this.#loading = Promise.resolve({ created: false });
    return this;
  }

  get ready(): boolean {
    return this.#key !== null;
  }

  /** The path with exp and sig added; throws when the path is not one evidence file or the key is not loaded. */
  sign(path: string, ttlS = this.ttlS): string {
    const key = this.#requireKey();
    if (canonicalEvidencePath(path) === null)
      throw new Error(`not an evidence path: ${path} (expected /evidence/<scanId>/<name>)`);
    const exp = Math.floor(this.#now() / 1000) + Math.max(1, Math.floor(ttlS));
    return `${path}?exp=${exp}&sig=${mac(key, exp, path)}`;
  }

  /**
   * Checks a request for one evidence file: path is the decoded /evidence/<scanId>/<name>,
   * query the request's parameters. Without exp and sig: 401; anything wrong with them: 403.
   */
  verify(path: string, query: URLSearchParams): SignatureCheck {
    const expText = query.get('exp');
    const sig = query.get('sig');
    if (expText === null && sig === null)
      return {
        ok: false,
        status: 401,
        reason: 'no credentials: a signed link (?exp=&sig=) or a console session is needed',
      };
    if (expText === null || sig === null)
      return {
        ok: false,
        status: 403,
        reason: `signed link is incomplete: ${expText === null ? 'exp' : 'sig'} is missing`,
      };
    if (!this.#key)
      return {
        ok: false,
        status: 503,
        reason: `signed links cannot be checked: the evidence signing key is not loaded${this.#error ? ` (${this.#error})` : ''}`,
      };
    if (canonicalEvidencePath(path) === null)
      return { ok: false, status: 403, reason: 'signature does not match this path' };
    if (!/^\d{1,12}$/.test(expText)) return { ok: false, status: 403, reason: 'exp is not a time in Unix seconds' };
    if (!SIG.test(sig)) return { ok: false, status: 403, reason: 'sig is not a base64url HMAC-SHA256' };
    const exp = Number(expText);
    const expected = Buffer.from(mac(this.#key, exp, path), 'base64url');
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, status: 403, reason: 'signature does not match this path' };
    if (exp * 1000 <= this.#now())
      return {
        ok: false,
        status: 403,
        reason: `signed link expired at ${new Date(exp * 1000).toISOString()}: ask for a new one`,
      };
    return { ok: true, expiresAt: exp * 1000 };
  }

  #requireKey(): Buffer {
    if (!this.#key)
      throw new Error(
        `evidence links cannot be signed: the key ${this.keyFile} is not loaded${this.#error ? ` (${this.#error})` : ''}`,
      );
    return this.#key;
  }
}

function mac(key: Buffer, exp: number, path: string): string {
  return createHmac('sha256', key).update(`${exp}\n${path}`).digest('base64url');
}

/** The signer for a site's config: key in <dataDir>/evidence.key, links valid for evidence.linkTtlHours (default: retentionDays). */
export function evidenceUrlSigner(config: {
  dataDir: string;
  evidence: { retentionDays: number; linkTtlHours?: number | undefined };
}): EvidenceUrlSigner {
  const hours = config.evidence.linkTtlHours ?? config.evidence.retentionDays * 24;
  return new EvidenceUrlSigner({ keyFile: evidenceKeyFile(config.dataDir), ttlS: hours * 3600 });
}
