import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, type KeyObject } from 'node:crypto';
import { parseWatchlistVersion, type WatchlistDelta, type WatchlistVersion } from '../core/watchlist/list-format.js';
import { openEnvelope } from '../core/watchlist/signing.js';
import { WatchlistIndex } from './watchlist-index.js';

/** Why a list version was refused. */
export type RefusalReason = 'oversized' | 'malformed' | 'unsigned' | 'forged' | 'stale';

export type ReceiveOutcome =
  | { outcome: 'applied'; listId: string; version: number; kind: 'snapshot' | 'delta'; entries: number; ms: number }
  | { outcome: 'already-held'; listId: string; version: number }
  /** A delta on a version this lane does not hold: kept until a snapshot or the missing delta arrives. */
  | { outcome: 'waiting'; listId: string; version: number; baseVersion: number; held: number | null }
  | { outcome: 'refused'; reason: RefusalReason; detail: string; listId?: string; version?: number };

export interface ListKeeperOptions {
  /** Trusted central keys by key id. */
  keys: ReadonlyMap<string, KeyObject>;
  /** Folder of the last good versions: <listId>.snapshot.json and <listId>.deltas.jsonl. */
  dir: string;
  /** Larger messages are refused before they are read. */
  maxBytes: number;
  /** Lists taken; absent: every list central publishes. */
  lists?: readonly string[];
}

export interface HeldList {
  listId: string;
  version: number;
  entries: number;
}

/**
 * Holds the lane's lists: verifies each version central publishes (signature, form, size, order),
 * applies snapshots and deltas, and keeps the last good version on disk, so that a restarted lane
 * that cannot reach central matches against what it last had. A refused version changes nothing.
 */
export class ListKeeper {
  readonly #options: ListKeeperOptions;
  readonly #lists = new Map<string, WatchlistIndex>();
  /** One delta per list that arrived before its base. */
  readonly #waiting = new Map<string, { delta: WatchlistDelta; bytes: Buffer }>();
  /** Disk writes in order, one after the other. */
  #writes: Promise<void> = Promise.resolve();
  #writeError: Error | null = null;
  /** SHA-256 of the messages that built each list's held version (its snapshot and deltas). */
  readonly #digests = new Map<string, Set<string>>();

  constructor(o: ListKeeperOptions) {
    this.#options = o;
  }

  get lists(): ReadonlyMap<string, WatchlistIndex> {
    return this.#lists;
  }

  held(): HeldList[] {
    return [...this.#lists.values()].map((l) => ({ listId: l.listId, version: l.version, entries: l.size }));
  }

  /** The last failed disk write, until one succeeds. */
  get writeError(): Error | null {
    return this.#writeError;
  }

  /** Resolves once every disk write begun so far has ended. */
  flushed(): Promise<void> {
    return this.#writes;
  }

  /**
   * Loads the last good versions from disk, verifying each as if it had just arrived. Returns one
   * line per problem (a file that no longer verifies is not used).
   */
  load(): { loaded: HeldList[]; problems: string[] } {
    mkdirSync(this.#options.dir, { recursive: true });
    const problems: string[] = [];
    for (const listId of this.#options.lists ?? listIdsIn(this.#options.dir)) {
      const snapFile = join(this.#options.dir, `${listId}.snapshot.json`);
      if (!existsSync(snapFile)) continue;
      const snap = this.#open(readFileSync(snapFile));
      if (!snap.ok) {
        problems.push(`${snapFile}: ${snap.refusal.reason}: ${snap.refusal.detail}; not used`);
        continue;
      }
      if (snap.version.kind !== 'snapshot' || snap.version.listId !== listId) {
        problems.push(
          `${snapFile}: holds ${snap.version.kind} ${snap.version.listId} v${snap.version.version}, not a snapshot of ${listId}; not used`,
        );
        continue;
      }
      const index = WatchlistIndex.fromSnapshot(snap.version);
      const digests = new Set([digest(readFileSync(snapFile))]);
      const deltaFile = join(this.#options.dir, `${listId}.deltas.jsonl`);
      if (existsSync(deltaFile)) {
        const lines = readFileSync(deltaFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '');
        for (const [i, line] of lines.entries()) {
          const d = this.#open(Buffer.from(line, 'utf8'));
          if (
            !d.ok ||
            d.version.kind !== 'delta' ||
            d.version.listId !== listId ||
            d.version.baseVersion !== index.version
          ) {
            problems.push(
              `${deltaFile} line ${i + 1}: ${d.ok ? `delta v${d.version.version} does not follow v${index.version}` : `${d.refusal.reason}: ${d.refusal.detail}`}; the deltas from there on are not used`,
            );
            break;
          }
          index.apply(d.version);
          digests.add(digest(Buffer.from(line, 'utf8')));
        }
      }
      this.#lists.set(listId, index);
      this.#digests.set(listId, digests);
    }
    return { loaded: this.held(), problems };
  }

  /** Takes one message from central: verified, applied and written to disk, or refused with the reason. */
  receive(bytes: Buffer): ReceiveOutcome {
    const t0 = performance.now();
    // The retained messages come again at every reconnection: one already applied is known by its
    // digest, without verifying and parsing it again (a million-entry snapshot takes seconds).
    const sum = bytes.length <= this.#options.maxBytes ? digest(bytes) : '';
    for (const [listId, sums] of this.#digests) {
      if (sums.has(sum)) return { outcome: 'already-held', listId, version: this.#lists.get(listId)!.version };
    }
    const opened = this.#open(bytes);
    if (!opened.ok) return { outcome: 'refused', ...opened.refusal };
    const v = opened.version;
    if (this.#options.lists && !this.#options.lists.includes(v.listId)) {
      return {
        outcome: 'refused',
        reason: 'malformed',
        detail: `list ${v.listId} is not one this lane takes (watchlist.lists: ${this.#options.lists.join(', ')})`,
        listId: v.listId,
        version: v.version,
      };
    }
    const held = this.#lists.get(v.listId);
    if (held && v.version === held.version) return { outcome: 'already-held', listId: v.listId, version: v.version };
    if (held && v.version < held.version) {
      return {
        outcome: 'refused',
        reason: 'stale',
        detail: `list ${v.listId} v${v.version} is older than v${held.version}, which this lane holds`,
        listId: v.listId,
        version: v.version,
      };
    }
    if (v.kind === 'snapshot') {
      this.#lists.set(v.listId, WatchlistIndex.fromSnapshot(v));
      this.#digests.set(v.listId, new Set([sum]));
      this.#write(() => this.#saveSnapshot(v.listId, bytes));
      const applied: ReceiveOutcome = {
        outcome: 'applied',
        listId: v.listId,
        version: v.version,
        kind: 'snapshot',
        entries: v.entries.length,
        ms: performance.now() - t0,
      };
      this.#applyWaiting(v.listId);
      return applied;
    }
    if (!held || held.version !== v.baseVersion) {
      this.#waiting.set(v.listId, { delta: v, bytes });
      return {
        outcome: 'waiting',
        listId: v.listId,
        version: v.version,
        baseVersion: v.baseVersion,
        held: held?.version ?? null,
      };
    }
    this.#applyDelta(held, v, bytes);
    return {
      outcome: 'applied',
      listId: v.listId,
      version: v.version,
      kind: 'delta',
      entries: held.size,
      ms: performance.now() - t0,
    };
  }

  #applyDelta(index: WatchlistIndex, d: WatchlistDelta, bytes: Buffer): void {
    index.apply(d);
    this.#digests.get(d.listId)?.add(digest(bytes));
    this.#write(() =>
      appendFile(join(this.#options.dir, `${d.listId}.deltas.jsonl`), `${bytes.toString('utf8').replace(/\n/g, '')}\n`),
    );
  }

  #applyWaiting(listId: string): void {
    const w = this.#waiting.get(listId);
    const index = this.#lists.get(listId);
    if (!w || !index) return;
    if (w.delta.version <= index.version) this.#waiting.delete(listId);
    else if (w.delta.baseVersion === index.version) {
      this.#waiting.delete(listId);
      this.#applyDelta(index, w.delta, w.bytes);
    }
  }

  #open(
    bytes: Buffer,
  ): { ok: true; version: WatchlistVersion } | { ok: false; refusal: { reason: RefusalReason; detail: string } } {
    if (bytes.length > this.#options.maxBytes) {
      return {
        ok: false,
        refusal: {
          reason: 'oversized',
          detail: `${bytes.length} bytes, more than watchlist.maxBytes (${this.#options.maxBytes}); not read`,
        },
      };
    }
    const env = openEnvelope(bytes, this.#options.keys);
    if (!env.ok) return { ok: false, refusal: { reason: env.reason, detail: env.detail } };
    const parsed = parseWatchlistVersion(env.body);
    if (!parsed.ok)
      return {
        ok: false,
        refusal: { reason: 'malformed', detail: `signed, but not a valid list version: ${parsed.problems.join('; ')}` },
      };
    return { ok: true, version: parsed.version };
  }

  async #saveSnapshot(listId: string, bytes: Buffer): Promise<void> {
    const file = join(this.#options.dir, `${listId}.snapshot.json`);
    await writeFile(`${file}.tmp`, bytes);
    await rename(`${file}.tmp`, file);
    // The deltas on disk were on the previous snapshot.
    await writeFile(join(this.#options.dir, `${listId}.deltas.jsonl`), '');
  }

  #write(step: () => Promise<void>): void {
    this.#writes = this.#writes.then(step).then(
      () => {
        this.#writeError = null;
      },
      (err: Error) => {
        this.#writeError = err;
      },
    );
  }
}

function digest(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}

function listIdsIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.snapshot.json'))
      .map((f) => f.slice(0, -'.snapshot.json'.length));
  } catch {
    return [];
  }
}
