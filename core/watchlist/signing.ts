import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Signed list versions: central signs the version's JSON text with Ed25519 and sends it in an
 * envelope; the lane verifies the signature over exactly that text before reading it.
 */

export const ENVELOPE_FORMAT = 'checkpoint-edge.signed/1';

export interface SignedEnvelope {
  format: typeof ENVELOPE_FORMAT;
  /** Names the central key that signed it, so that keys can be rotated. */
  keyId: string;
  /** The list version as JSON text: the signed bytes are its UTF-8 encoding. */
  body: string;
  /** Ed25519 signature of body, base64. */
  signature: string;
}

export function generateSigningKeys(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** An Ed25519 private key from PEM; the error says what the PEM is instead. */
export function ed25519PrivateKey(pem: string, where: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`${where}: expected an Ed25519 private key, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
  return key;
}

/** An Ed25519 public key from PEM; the error says what the PEM is instead. */
export function ed25519PublicKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new Error(`${where}: not a public key in PEM form (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`${where}: expected an Ed25519 public key, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
  return key;
}

export function signEnvelope(body: string, keyId: string, privateKey: KeyObject): SignedEnvelope {
  return {
    format: ENVELOPE_FORMAT,
    keyId,
    body,
    signature: sign(null, Buffer.from(body, 'utf8'), privateKey).toString('base64'),
  };
}

export type OpenedEnvelope =
  | { ok: true; body: unknown; keyId: string }
  | { ok: false; reason: 'malformed' | 'unsigned' | 'forged'; detail: string };

/**
 * Checks an envelope's form and signature with the trusted keys (by key id), and parses the body
 * only once the signature holds. A truncated message fails as malformed.
 */
export function openEnvelope(bytes: Buffer | string, keys: ReadonlyMap<string, KeyObject>): OpenedEnvelope {
  let env: unknown;
  try {
    env = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: `not JSON, e.g. truncated (${(err as Error).message})` };
  }
  if (!env || typeof env !== 'object' || Array.isArray(env))
    return { ok: false, reason: 'malformed', detail: 'expected a signed envelope object' };
  const e = env as Partial<Record<keyof SignedEnvelope, unknown>>;
  if (e.format !== ENVELOPE_FORMAT)
    return {
      ok: false,
      reason: 'malformed',
      detail: `envelope format must be "${ENVELOPE_FORMAT}", got ${JSON.stringify(e.format)}`,
    };
  if (typeof e.body !== 'string') return { ok: false, reason: 'malformed', detail: 'envelope has no body text' };
  if (typeof e.signature !== 'string' || e.signature === '' || typeof e.keyId !== 'string')
    return { ok: false, reason: 'unsigned', detail: 'envelope has no signature or no keyId' };
  const key = keys.get(e.keyId);
  if (!key)
    return {
      ok: false,
      reason: 'forged',
      detail: `signed with key "${e.keyId}", which this lane does not trust (trusted: ${[...keys.keys()].join(', ') || 'none'})`,
    };
  const signature = Buffer.from(e.signature, 'base64');
  if (signature.length !== 64 || !verify(null, Buffer.from(e.body, 'utf8'), key, signature)) {
    return {
      ok: false,
      reason: 'forged',
      detail: `signature does not verify with key "${e.keyId}": the list was altered or not signed by central command`,
    };
  }
  try {
    return { ok: true, body: JSON.parse(e.body), keyId: e.keyId };
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: `signed body is not JSON (${(err as Error).message})` };
  }
}

/** The message central publishes for a list version: the signed envelope as JSON text. */
export function signedMessage(version: unknown, keyId: string, privateKey: KeyObject): string {
  return JSON.stringify(signEnvelope(JSON.stringify(version), keyId, privateKey));
}
