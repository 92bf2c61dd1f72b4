import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

/** scrypt cost N=2^15, r=8, p=1: ~50-100 ms and 32 MiB per check, as on the lane console. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, keyLen: 64 } as const;

function scrypt(
  password: string,
  salt: Buffer,
  keyLen: number,
  o: { N: number; r: number; p: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFKC'), salt, keyLen, { ...o, maxmem: 256 * o.N * o.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$<salt>$<hash>` with a fresh 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keyLen, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const expected = Buffer.from(parts[5]!, 'base64');
  const key = await scrypt(password, Buffer.from(parts[4]!, 'base64'), expected.length, {
    N: Number(parts[1]),
    r: Number(parts[2]),
    p: Number(parts[3]),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash made once, checked for unknown names, so that a log-in takes as long either way. */
let dummyHash: Promise<string> | null = null;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(12).toString('hex'));
  return dummyHash;
}

export function newSessionToken(): { token: string; digest: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, digest: tokenDigest(token) };
}

/** Only digests of session tokens are stored: a copy of the database logs nobody in. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
