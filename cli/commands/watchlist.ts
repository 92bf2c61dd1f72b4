import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect } from 'mqtt';
import { EXIT, parseCommandArgs, UsageError, type CliCommand } from '../../core/command-line.js';
import { entriesFromFile } from '../../core/watchlist/entries-file.js';
import {
  LIST_FORMAT,
  parseWatchlistVersion,
  type WatchlistEntry,
  type WatchlistVersion,
} from '../../core/watchlist/list-format.js';
import {
  columnsFromEntries,
  entryAt,
  listMessageKeyId,
  readListMessage,
  readUnverified,
  signedListMessage,
} from '../../core/watchlist/list-binary.js';
import { ed25519PrivateKey, ed25519PublicKey, generateSigningKeys } from '../../core/watchlist/signing.js';
import { watchlistTopic } from '../../core/mqtt-topics.js';

const usage = `Usage: checkpoint-edge watchlist <keygen|sign|publish|verify> [options]

Signs watchlist versions as central command and publishes them to the lanes (docs/watchlists.md).

  keygen --out-dir <dir> [--key-id <id>]
      writes <id>.key (Ed25519 private key, mode 0600: keep it at central) and <id>.pub (the
      public key: give it to the lanes, watchlist.keys[].publicKey)

  sign <entries.csv|entries.json> --list <id> --version <n> --key <file> --key-id <id> --out <file>
       [--base <signed snapshot file>]
      checks every entry (ISO 6346 check digits, dates, countries) and writes the signed version:
      a snapshot of all entries, or with --base the delta from that earlier snapshot (entries
      added or changed, ids removed)

  publish <signed file> --mqtt-url <url> [--prefix <prefix>] [--username <name>]
      publishes it retained with QoS 1 on <prefix>/watchlist/<list>/snapshot (or /delta); a
      snapshot also clears the retained delta of the list. The password is read from
      MQTT_PASSWORD (or the file named by MQTT_PASSWORD_FILE)

  verify <signed file> --public-key <file> [--key-id <id>]
      checks the signature and the entries, as a lane does

Exit codes: 0 done, 1 failed (invalid list, refused, broker unreachable), 2 bad usage.`;

const cmd: CliCommand = {
  name: 'watchlist',
  summary: 'sign and publish watchlists as central command',
  usage,
  run: (argv) => runWatchlist(argv, (l) => process.stdout.write(`${l}\n`)),
};
export default cmd;

export async function runWatchlist(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseCommandArgs(
    cmd,
    argv,
    {
      'out-dir': { type: 'string' },
      'key-id': { type: 'string' },
      list: { type: 'string' },
      version: { type: 'string' },
      key: { type: 'string' },
      out: { type: 'string' },
      base: { type: 'string' },
      'mqtt-url': { type: 'string' },
      prefix: { type: 'string' },
      username: { type: 'string' },
      'public-key': { type: 'string' },
    },
    true,
  );
  if (!args) return EXIT.ok;
  const [action, file, ...extra] = args.positionals;
  const v = args.values;
  if (extra.length) throw new UsageError(`watchlist: unexpected argument "${extra[0]}"`);
  const need = (name: keyof typeof v): string => {
    const val = v[name];
    if (typeof val !== 'string' || val === '') throw new UsageError(`watchlist ${action}: give --${name}`);
    return val;
  };
  switch (action) {
    case 'keygen': {
      const dir = resolve(need('out-dir'));
      const keyId = v['key-id'] ?? 'central';
      const keys = generateSigningKeys();
      mkdirSync(dir, { recursive: true });
      const priv = join(dir, `${keyId}.key`);
      writeFileSync(priv, keys.privatePem, { mode: 0o600 });
      chmodSync(priv, 0o600);
      writeFileSync(join(dir, `${keyId}.pub`), keys.publicPem);
      out(
        `wrote ${priv} (private: keep it at central) and ${join(dir, `${keyId}.pub`)} (public: watchlist.keys[] of the lanes, keyId ${keyId})`,
      );
      return EXIT.ok;
    }
    case 'sign': {
      if (!file) throw new UsageError('watchlist sign: give the entries file (.csv or .json)');
      const listId = need('list');
      const version = Number(need('version'));
      if (!Number.isInteger(version) || version < 1)
        throw new UsageError(`watchlist sign: --version must be a whole number from 1, got "${v.version}"`);
      const keyFile = resolve(need('key'));
      const key = ed25519PrivateKey(readFileSync(keyFile, 'utf8'), keyFile);
      const entries = entriesFromFile(readFileSync(file, 'utf8'), file);
      const issuedAt = new Date().toISOString();
      const checked = parseWatchlistVersion({
        format: LIST_FORMAT,
        listId,
        version,
        issuedAt,
        kind: 'snapshot',
        entries,
      });
      if (!checked.ok) {
        out(`${file}: not signed, the list is invalid:\n  ${checked.problems.join('\n  ')}`);
        return EXIT.failure;
      }
      let body: WatchlistVersion = checked.version;
      if (v.base) {
        const base = readSigned(v.base);
        if (base.kind !== 'snapshot' || base.listId !== listId)
          throw new UsageError(
            `watchlist sign: --base ${v.base} is ${base.kind} ${base.listId} v${base.version}, not a snapshot of ${listId}`,
          );
        if (base.version >= version)
          throw new UsageError(`watchlist sign: --version ${version} must be above the base's v${base.version}`);
        body = {
          format: LIST_FORMAT,
          listId,
          version,
          issuedAt,
          kind: 'delta',
          baseVersion: base.version,
          ...diff(base.entries, (checked.version as { entries: WatchlistEntry[] }).entries),
        };
      }
      const outFile = need('out');
      writeFileSync(outFile, signedListMessage(body, need('key-id'), key));
      out(
        `signed ${listId} v${version} (${body.kind === 'delta' ? `delta: ${body.upsert.length} added or changed, ${body.remove.length} removed` : `snapshot: ${entries.length} entries`}) to ${outFile}`,
      );
      return EXIT.ok;
    }
    case 'verify': {
      if (!file) throw new UsageError('watchlist verify: give the signed file');
      const pubFile = resolve(need('public-key'));
      const bytes = readFileSync(file);
      const keyId = v['key-id'] ?? listMessageKeyId(bytes) ?? '';
      const opened = readListMessage(
        bytes,
        new Map([[keyId, ed25519PublicKey(readFileSync(pubFile, 'utf8'), pubFile)]]),
      );
      if (!opened.ok) {
        out(`${file}: refused (${opened.reason}): ${opened.detail}`);
        return EXIT.failure;
      }
      out(`${file}: good: ${describe(opened.version)}, signed with ${opened.keyId}`);
      return EXIT.ok;
    }
    case 'publish': {
      if (!file) throw new UsageError('watchlist publish: give the signed file');
      const url = need('mqtt-url');
      const prefix = v.prefix ?? 'checkpoint';
      const bytes = readFileSync(file);
      const version = readSigned(file);
      const topic = watchlistTopic(prefix, version.listId, version.kind);
      const password =
        process.env.MQTT_PASSWORD ??
        (process.env.MQTT_PASSWORD_FILE ? readFileSync(process.env.MQTT_PASSWORD_FILE, 'utf8').trim() : undefined);
      const client = connect(url, {
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        ...(v.username ? { username: v.username } : {}),
        ...(password ? { password } : {}),
      });
      try {
        await new Promise<void>((res, rej) => {
          client.once('connect', () => res());
          client.once('error', rej);
          client.once('close', () => rej(new Error(`no connection to ${url}`)));
        });
        await client.publishAsync(topic, bytes, { qos: 1, retain: true });
        if (version.kind === 'snapshot')
          await client.publishAsync(watchlistTopic(prefix, version.listId, 'delta'), '', { qos: 1, retain: true });
      } catch (err) {
        out(`watchlist publish: ${(err as Error).message}`);
        return EXIT.failure;
      } finally {
        await client.endAsync(true).catch(() => {});
      }
      out(`published ${describe(version)} retained on ${topic}`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`watchlist: give an action: keygen, sign, publish or verify\n\n${usage}`);
  }
}

function describe(v: WatchlistVersion): string {
  return v.kind === 'snapshot'
    ? `${v.listId} v${v.version} snapshot of ${v.entries.length} entries`
    : `${v.listId} v${v.version} delta on v${v.baseVersion} (${v.upsert.length} added or changed, ${v.remove.length} removed)`;
}

/** A signed file's list version, read without checking the signature (the lanes check it). */
function readSigned(file: string): WatchlistVersion {
  const read = readUnverified(readFileSync(file));
  if (!read.ok) throw new UsageError(`${file}: not a signed watchlist version: ${read.detail}`);
  return read.version;
}

/** What changed from one snapshot's entries to the next: entries added or changed, ids removed. */
function diff(before: WatchlistEntry[], checked: WatchlistEntry[]): { upsert: WatchlistEntry[]; remove: string[] } {
  // Both as a signed message carries them (dates in UTC, fields in one order), to compare.
  const columns = columnsFromEntries(checked);
  const after = checked.map((_, i) => entryAt(columns, i));
  const old = new Map(before.map((e) => [e.id, JSON.stringify(e)]));
  const ids = new Set(after.map((e) => e.id));
  return {
    upsert: after.filter((e) => old.get(e.id) !== JSON.stringify(e)),
    remove: before.filter((e) => !ids.has(e.id)).map((e) => e.id),
  };
}
