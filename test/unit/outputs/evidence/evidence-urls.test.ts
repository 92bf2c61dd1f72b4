import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EvidenceUrlSigner,
  evidenceKeyFile,
  evidenceUrlSigner,
  loadOrCreateEvidenceKey,
} from '../../../../outputs/evidence/evidence-urls.js';

const KEY = Buffer.alloc(32, 7);
const T0 = Date.UTC(2026, 0, 31, 10, 0, 0);

function signer(key = KEY, at = T0): { s: EvidenceUrlSigner; clock: { now: number } } {
  const clock = { now: at };
  return { s: new EvidenceUrlSigner({ keyFile: '/nonexistent', ttlS: 3600, now: () => clock.now }).useKey(key), clock };
}

/** Splits a signed link into its path and query, as the server sees them. */
function parts(link: string): [string, URLSearchParams] {
  const u = new URL(link, 'http://x');
  return [u.pathname, u.searchParams];
}

describe('EvidenceUrlSigner', () => {
  it('signs a path with exp (Unix seconds, now + ttl) and a base64url HMAC, and accepts it until exp', () => {
    const { s, clock } = signer();
    const link = s.sign('/evidence/scan-1/scan.jpg');
    expect(link).toMatch(/^\/evidence\/scan-1\/scan\.jpg\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
    const [path, q] = parts(link);
    expect(Number(q.get('exp'))).toBe(T0 / 1000 + 3600);
    expect(s.verify(path, q)).toEqual({ ok: true, expiresAt: T0 + 3_600_000 });
    clock.now = T0 + 3_599_000;
    expect(s.verify(path, q).ok).toBe(true);
  });

  it('refuses an expired link with 403, saying it expired', () => {
    const { s, clock } = signer();
    const [path, q] = parts(s.sign('/evidence/scan-1/scan.jpg'));
    clock.now = T0 + 3_600_000;
    const r = s.verify(path, q);
    expect(r).toMatchObject({ ok: false, status: 403 });
    expect(!r.ok && r.reason).toMatch(/expired at 2026-01-31T11:00:00.000Z/);
  });

  it('refuses a tampered exp, signature or path with 403', () => {
    const { s } = signer();
    const [path, q] = parts(s.sign('/evidence/scan-1/scan.jpg'));
    const later = new URLSearchParams(q);
    later.set('exp', String(Number(q.get('exp')) + 86_400));
    expect(s.verify(path, later)).toMatchObject({
      ok: false,
      status: 403,
      reason: 'signature does not match this path',
    });
    const sig = q.get('sig')!;
    const flipped = new URLSearchParams(q);
    flipped.set('sig', `${sig.slice(0, -2)}${sig.at(-2) === 'A' ? 'B' : 'A'}${sig.at(-1)}`);
    expect(s.verify(path, flipped)).toMatchObject({ ok: false, status: 403 });
    expect(s.verify('/evidence/scan-2/scan.jpg', q)).toMatchObject({ ok: false, status: 403 });
    expect(s.verify('/evidence/scan-1/front-scan-begin.jpg', q)).toMatchObject({ ok: false, status: 403 });
    const short = new URLSearchParams(q);
    short.set('sig', sig.slice(0, 20));
    expect(s.verify(path, short)).toMatchObject({
      ok: false,
      status: 403,
      reason: 'sig is not a base64url HMAC-SHA256',
    });
    const badExp = new URLSearchParams(q);
    badExp.set('exp', '1e12');
    expect(s.verify(path, badExp)).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses a link signed with another key', () => {
    const { s: other } = signer(Buffer.alloc(32, 8));
    const { s } = signer();
    const [path, q] = parts(other.sign('/evidence/scan-1/scan.jpg'));
    expect(s.verify(path, q)).toMatchObject({ ok: false, status: 403, reason: 'signature does not match this path' });
  });

  it('answers 401 without exp and sig, 403 with only one of them', () => {
    const { s } = signer();
    expect(s.verify('/evidence/a/b.jpg', new URLSearchParams())).toMatchObject({ ok: false, status: 401 });
    expect(s.verify('/evidence/a/b.jpg', new URLSearchParams('exp=99999999999'))).toMatchObject({
      ok: false,
      status: 403,
      reason: 'signed link is incomplete: sig is missing',
    });
    expect(s.verify('/evidence/a/b.jpg', new URLSearchParams(`sig=${'A'.repeat(43)}`))).toMatchObject({
      ok: false,
      status: 403,
    });
  });

  it('never accepts a traversal path, even with the signature of a valid one or a signature made for it', () => {
    const { s } = signer();
    const [, q] = parts(s.sign('/evidence/scan-1/scan.jpg'));
    for (const p of [
      '/evidence/scan-1/../scan-1/scan.jpg',
      '/evidence/../evidence/scan-1/scan.jpg',
      '/evidence/scan-1/scan.jpg/',
      '/evidence/scan-1/..',
      '/evidence/scan-1/.hidden',
      '/evidence/scan-1/a/b.jpg',
      '/evidence/scan-1/..%2fx',
    ]) {
      expect(s.verify(p, q), p).toMatchObject({ ok: false, status: 403 });
    }
    expect(() => s.sign('/evidence/../etc/passwd')).toThrow(/not an evidence path/);
    expect(() => s.sign('/evidence/scan-1/..')).toThrow(/not an evidence path/);
    expect(() => s.sign('/console.sqlite')).toThrow(/not an evidence path/);
  });

  it('does not sign or check without a key, and says so', () => {
    const s = new EvidenceUrlSigner({ keyFile: '/x/evidence.key', ttlS: 60 });
    expect(() => s.sign('/evidence/a/b.jpg')).toThrow(/\/x\/evidence.key is not loaded/);
    expect(s.verify('/evidence/a/b.jpg', new URLSearchParams(`exp=1&sig=${'A'.repeat(43)}`))).toMatchObject({
      ok: false,
      status: 503,
    });
  });
});

describe('evidence key file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'evidence-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is created on first load with 32 random bytes and mode 0600, then read back unchanged', async () => {
    const file = evidenceKeyFile(dir);
    const first = await loadOrCreateEvidenceKey(file);
    expect(first.created).toBe(true);
    expect(first.key.length).toBe(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateEvidenceKey(file);
    expect(again).toEqual({ key: first.key, created: false });
    expect(readFileSync(file)).toEqual(first.key);
    // A data folder not made yet is made.
    const nested = evidenceKeyFile(join(dir, 'site', 'data'));
    expect((await loadOrCreateEvidenceKey(nested)).created).toBe(true);
    expect(statSync(nested).mode & 0o777).toBe(0o600);
  });

  it('is the same for parts that load it at the same time (lanes, MQTT)', async () => {
    const file = evidenceKeyFile(dir);
    const keys = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateEvidenceKey(file)));
    expect(keys.filter((k) => k.created)).toHaveLength(1);
    for (const k of keys) expect(k.key).toEqual(keys[0].key);
  });

  it('links signed by one signer of the site are accepted by another (MQTT signs, the lane checks)', async () => {
    const config = { dataDir: dir, evidence: { retentionDays: 2 } };
    const a = evidenceUrlSigner(config);
    const b = evidenceUrlSigner(config);
    expect(a.ttlS).toBe(2 * 86_400);
    expect(evidenceUrlSigner({ dataDir: dir, evidence: { retentionDays: 2, linkTtlHours: 5 } }).ttlS).toBe(5 * 3600);
    await Promise.all([a.load(), b.load()]);
    const [path, q] = parts(a.sign('/evidence/s/scan.jpg'));
    expect(b.verify(path, q).ok).toBe(true);
  });

  it('is refused when of the wrong size or readable by others, naming the file and what to do', async () => {
    const file = evidenceKeyFile(dir);
    writeFileSync(file, randomBytes(16), { mode: 0o600 });
    await expect(loadOrCreateEvidenceKey(file)).rejects.toThrow(
      `${file}: the evidence signing key must be 32 bytes, found 16`,
    );
    writeFileSync(file, randomBytes(32));
    chmodSync(file, 0o644);
    await expect(loadOrCreateEvidenceKey(file)).rejects.toThrow(`run 'chmod 600 ${file}'`);
  });
});
