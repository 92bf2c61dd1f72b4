import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * Central's Ed25519 keys: made, and read from PEM. What is signed and how: list-binary.ts.
 */

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
