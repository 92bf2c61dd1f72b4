import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { signedListMessage } from '../../core/watchlist/list-binary.js';
import {
  LIST_FORMAT,
  type WatchlistEntry,
  type WatchlistEntryInput,
  type WatchlistVersion,
} from '../../core/watchlist/list-format.js';
import { normaliseRead } from '../../core/watchlist/plate.js';

/** A central key pair for tests, with its PEM forms. */
export function centralKeys(keyId = 'central-test'): {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
  privatePem: string;
  trusted: Map<string, KeyObject>;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    keyId,
    privateKey: createPrivateKey(privatePem),
    publicKey: createPublicKey(publicPem),
    publicPem,
    privatePem,
    trusted: new Map([[keyId, publicKey]]),
  };
}

export function entry(over: Partial<WatchlistEntryInput> & { id: string }): WatchlistEntryInput {
  return {
    category: 'stolen-vehicle',
    action: 'stop and search',
    priority: 1,
    source: 'national-police',
    ...(over.containerCode ? {} : { plate: 'B AB 1234', country: 'DE' }),
    ...over,
  };
}

export function snapshot(listId: string, version: number, entries: WatchlistEntryInput[]) {
  return {
    format: LIST_FORMAT as typeof LIST_FORMAT,
    listId,
    version,
    issuedAt: new Date().toISOString(),
    kind: 'snapshot' as const,
    entries,
  };
}

export function delta(
  listId: string,
  version: number,
  baseVersion: number,
  upsert: WatchlistEntryInput[],
  remove: string[] = [],
) {
  return {
    format: LIST_FORMAT as typeof LIST_FORMAT,
    listId,
    version,
    baseVersion,
    issuedAt: new Date().toISOString(),
    kind: 'delta' as const,
    upsert,
    remove,
  };
}

/** An entry as central sends it: plate normalised, covert given; NOT validated, so that tests can send wrong ones. */
const asSent = (e: WatchlistEntryInput): WatchlistEntry => ({
  ...e,
  ...(e.plate !== undefined ? { plate: normaliseRead(e.plate) } : {}),
  covert: e.covert ?? false,
});

/** The signed message central publishes for a version (entries not validated: see asSent). */
export function signed(
  version: ReturnType<typeof snapshot> | ReturnType<typeof delta>,
  keys: { keyId: string; privateKey: KeyObject },
): Buffer {
  const v: WatchlistVersion =
    version.kind === 'snapshot'
      ? { ...version, entries: version.entries.map(asSent) }
      : { ...version, upsert: version.upsert.map(asSent) };
  return signedListMessage(v, keys.keyId, keys.privateKey);
}
