import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { iso6346CheckDigit } from '../core/watchlist/iso6346.js';
import { signedListMessage } from '../core/watchlist/list-binary.js';
import { LIST_FORMAT, parseWatchlistVersion, type WatchlistEntryInput } from '../core/watchlist/list-format.js';
import { ed25519PrivateKey, generateSigningKeys } from '../core/watchlist/signing.js';
import { plateFor } from './scanner/plates.js';
import { watchlistTopic } from '../core/mqtt-topics.js';

export const DEMO_KEY_ID = 'demo-central';
export const DEMO_LIST_ID = 'demo';

/**
 * The demo's stand-in for central command's signing key: made once and kept in the demo's data
 * folder, so that the list a previous run left on disk still verifies.
 */
export function demoCentralKey(dataDir: string): { privatePem: string; publicPem: string } {
  const dir = join(dataDir, 'demo-central');
  const priv = join(dir, `${DEMO_KEY_ID}.key`);
  const pub = join(dir, `${DEMO_KEY_ID}.pub`);
  if (!existsSync(priv) || !existsSync(pub)) {
    mkdirSync(dir, { recursive: true });
    const k = generateSigningKeys();
    writeFileSync(priv, k.privatePem, { mode: 0o600 });
    writeFileSync(pub, k.publicPem);
  }
  return { privatePem: readFileSync(priv, 'utf8'), publicPem: readFileSync(pub, 'utf8') };
}

/**
 * A small list on which some of the demo's vehicles are: the 3rd (stolen, stop and search), the
 * 6th (written with B for 8 or O for 0, as a reader might: a confusable match) and the 9th
 * (covert: central command sees the hit, the lane console does not). Vehicle i of the scanner
 * simulator carries the plate of seed + i. Also an expired entry and a container code.
 */
export function demoWatchlistEntries(seed: number): WatchlistEntryInput[] {
  const confusable = (p: string) =>
    /8/.test(p) ? p.replace('8', 'B') : /0/.test(p) ? p.replace('0', 'O') : p.replace('B', '8');
  const code = 'DEMU001234';
  return [
    {
      id: 'demo-stolen',
      plate: plateFor(seed + 2),
      country: 'DE',
      category: 'stolen-vehicle',
      action: 'stop and search',
      priority: 1,
      source: 'demo national police',
      note: 'reported stolen yesterday',
    },
    {
      id: 'demo-wanted',
      plate: confusable(plateFor(seed + 5)),
      country: 'DE',
      category: 'wanted-person',
      action: 'inform central, let pass',
      priority: 2,
      source: 'demo national police',
    },
    {
      id: 'demo-covert',
      plate: plateFor(seed + 8),
      country: 'DE',
      category: 'surveillance',
      action: 'discreet check - do not stop',
      priority: 1,
      source: 'demo intelligence',
      covert: true,
    },
    {
      id: 'demo-expired',
      plate: plateFor(seed + 1),
      country: 'DE',
      category: 'stolen-vehicle',
      action: 'stop and search',
      priority: 1,
      source: 'demo national police',
      expiresAt: '2020-01-01T00:00:00Z',
    },
    {
      id: 'demo-container',
      containerCode: `${code}${iso6346CheckDigit(code)}`,
      category: 'smuggling',
      action: 'stop and search',
      priority: 2,
      source: 'demo customs',
    },
  ];
}

/** Signs the demo list as central would and publishes it retained on the demo's broker. */
export async function publishDemoWatchlist(o: {
  mqttUrl: string;
  prefix: string;
  seed: number;
  privatePem: string;
}): Promise<{ version: number; topic: string; entries: number }> {
  const version = Math.floor(Date.now() / 1000); // above what an earlier run left on disk
  const entries = demoWatchlistEntries(o.seed);
  const checked = parseWatchlistVersion({
    format: LIST_FORMAT,
    listId: DEMO_LIST_ID,
    version,
    issuedAt: new Date().toISOString(),
    kind: 'snapshot',
    entries,
  });
  if (!checked.ok) throw new Error(`the demo watchlist is invalid: ${checked.problems.join('; ')}`);
  const message = signedListMessage(
    checked.version,
    DEMO_KEY_ID,
    ed25519PrivateKey(o.privatePem, 'the demo central key'),
  );
  const topic = watchlistTopic(o.prefix, DEMO_LIST_ID, 'snapshot');
  const client = connect(o.mqttUrl, {
    clientId: `demo-central-${process.pid}`,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  try {
    await new Promise<void>((res, rej) => {
      client.once('connect', () => res());
      client.once('error', rej);
    });
    await client.publishAsync(topic, message, { qos: 1, retain: true });
  } finally {
    await client.endAsync(true).catch(() => {});
  }
  return { version, topic, entries: entries.length };
}
