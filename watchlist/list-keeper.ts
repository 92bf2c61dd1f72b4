import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createHash, type KeyObject } from 'node:crypto';
import type { WatchlistDelta } from '../core/watchlist/list-format.js';
import { openListMessage, type OpenedMessage, type RefusalReason } from './list-message.js';
import type { ListJob, ListJobMessage, ListJobReply } from './list-worker.js';
import { WatchlistIndex } from './watchlist-index.js';

export type { RefusalReason } from './list-message.js';

/**
 * Messages at least this large are opened (verified, validated, indexed) in a worker thread, so
 * that the event loop goes on meanwhile; smaller ones, in a few milliseconds, in line.
 */
export const OFF_THREAD_BYTES = 1024 * 1024;

export type ReceiveOutcome =
  | { outcome: 'applied'; listId: string; version: number; kind: 'snapshot' | 'delta'; entries: number; ms: number }
  | { outcome: 'already-held'; listId: string; version: number }
  /** A delta on a version this lane does not hold: kept until a snapshot or the missing delta arrives. */
  | { outcome: 'waiting'; listId: string; version: number; baseVersion: number; held: number | null }
  | { outcome: 'refused'; reason: RefusalReason; detail: string; listId?: string; version?: number };

export interface ListKeeperOptions {
  /** Trusted central keys by key id. */
  keys: ReadonlyMap<string, KeyObject>;
  /** Folder of the last good versions: <listId>.snapshot.bin and <listId>.deltas.bin, as they arrived. */
  dir: string;
  /** Larger messages are refused before they are read. */
  maxBytes: number;
  /** Lists taken; absent: every list central publishes. */
  lists?: readonly string[];
  /** Size from which a message is opened in a worker thread (default OFF_THREAD_BYTES). */
  offThreadBytes?: number;
  /**
   * Start the worker thread at load(), so that a large message does not wait for it (about half a
   * second): true always; 'large-lists' only when a list held on disk is large (a site with small
   * lists does not pay the idle thread's ~30 MiB until a large message comes); absent: at the
   * first large message.
   */
  warmThread?: boolean | 'large-lists';
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
 * Messages are taken one at a time, in order; a large one is opened in a worker thread while
 * lookups go on against the version held, which the new one replaces at once when it is ready.
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
  /** Messages are taken one after the other. */
  #taking: Promise<unknown> = Promise.resolve();
  /** The worker thread for large messages (ended by close()). */
  readonly #thread = new ListThread();
  #closed = false;

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

  /**
   * Ends any worker thread still opening a message (its message is not taken) and takes no more;
   * the lists held stay readable. Resolves once the disk writes begun have ended.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#thread.close();
    await this.#writes;
  }

  /** Whether the worker thread is running (started at load() or by a large message). */
  get threadStarted(): boolean {
    return this.#thread.started;
  }

  /** Whether load() starts the worker thread (options.warmThread), given the lists it loads. */
  #warmAtLoad(listIds: readonly string[]): boolean {
    const warm = this.#options.warmThread;
    if (warm !== 'large-lists') return warm === true;
    const large = this.#options.offThreadBytes ?? OFF_THREAD_BYTES;
    return listIds.some((listId) => {
      try {
        return statSync(join(this.#options.dir, `${listId}.snapshot.bin`)).size >= large;
      } catch {
        return false;
      }
    });
  }

  /** Resolves once the worker thread started by load() (warmThread) is ready for a large message. */
  threadReady(): Promise<void> {
    return this.#thread.ready;
  }

  /** Resolves once every disk write begun so far has ended. */
  flushed(): Promise<void> {
    return this.#writes;
  }

  /**
   * Loads the last good versions from disk, verifying each as if it had just arrived. Returns one
   * line per problem (a file that no longer verifies is not used).
   */
  load(): Promise<{ loaded: HeldList[]; problems: string[] }> {
    return this.#inTurn(() => this.#load());
  }

  async #load(): Promise<{ loaded: HeldList[]; problems: string[] }> {
    mkdirSync(this.#options.dir, { recursive: true });
    const listIds = this.#options.lists ?? listIdsIn(this.#options.dir);
    if (!this.#closed && this.#warmAtLoad(listIds)) this.#thread.start();
    const problems: string[] = [];
    for (const listId of listIds) {
      const snapFile = join(this.#options.dir, `${listId}.snapshot.bin`);
      const oldFile = join(this.#options.dir, `${listId}.snapshot.json`);
      if (existsSync(oldFile) && !existsSync(snapFile))
        problems.push(
          `${oldFile}: a list in the JSON form of an earlier release, no longer read; the lane takes the list again from central`,
        );
      if (!existsSync(snapFile)) continue;
      const snapBytes = await readFile(snapFile);
      const snap = await this.#open(snapBytes);
      if (!snap.ok) {
        problems.push(`${snapFile}: ${snap.refusal.reason}: ${snap.refusal.detail}; not used`);
        continue;
      }
      const sv = snap.version;
      if (sv.kind !== 'snapshot' || sv.head.listId !== listId) {
        const h = sv.kind === 'snapshot' ? sv.head : sv;
        problems.push(`${snapFile}: holds ${sv.kind} ${h.listId} v${h.version}, not a snapshot of ${listId}; not used`);
        continue;
      }
      const index = new WatchlistIndex(listId, sv.head.version, sv.data);
      const digests = new Set([digest(snapBytes)]);
      const deltaFile = join(this.#options.dir, `${listId}.deltas.bin`);
      if (existsSync(deltaFile)) {
        const records = deltaRecords(await readFile(deltaFile));
        for (const [i, record] of records.entries()) {
          const d = record instanceof Buffer ? await this.#open(record) : null;
          if (
            !d?.ok ||
            d.version.kind !== 'delta' ||
            d.version.listId !== listId ||
            d.version.baseVersion !== index.version
          ) {
            const why = !d
              ? (record as { problem: string }).problem
              : d.ok
                ? `${d.version.kind} v${d.version.kind === 'delta' ? d.version.version : d.version.head.version} does not follow v${index.version}`
                : `${d.refusal.reason}: ${d.refusal.detail}`;
            problems.push(`${deltaFile} delta ${i + 1}: ${why}; the deltas from there on are not used`);
            break;
          }
          index.apply(d.version);
          digests.add(digest(record as Buffer));
        }
      }
      this.#lists.set(listId, index);
      this.#digests.set(listId, digests);
    }
    return { loaded: this.held(), problems };
  }

  /**
   * Takes one message from central: verified, applied and written to disk, or refused with the
   * reason. Messages are taken in the order they were given.
   */
  receive(bytes: Buffer): Promise<ReceiveOutcome> {
    return this.#inTurn(() => this.#receive(bytes));
  }

  #inTurn<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#taking.then(step, step);
    this.#taking = next.catch(() => {});
    return next;
  }

  async #receive(bytes: Buffer): Promise<ReceiveOutcome> {
    const t0 = performance.now();
    // The retained messages come again at every reconnection: one already applied is known by its
    // digest, without verifying and parsing it again (a million-entry snapshot takes seconds).
    const job = await this.#job(bytes);
    const sum = bytes.length <= this.#options.maxBytes ? (job ? await job.digest : digest(bytes)) : '';
    for (const [listId, sums] of this.#digests) {
      if (sums.has(sum)) {
        job?.cancel();
        return { outcome: 'already-held', listId, version: this.#lists.get(listId)!.version };
      }
    }
    const opened = job ? await job.opened() : openListMessage(bytes, this.#options.keys, this.#options.maxBytes);
    if (!opened.ok) return { outcome: 'refused', ...opened.refusal };
    const v = opened.version;
    const head = v.kind === 'snapshot' ? v.head : v;
    if (this.#options.lists && !this.#options.lists.includes(head.listId)) {
      return {
        outcome: 'refused',
        reason: 'malformed',
        detail: `list ${head.listId} is not one this lane takes (watchlist.lists: ${this.#options.lists.join(', ')})`,
        listId: head.listId,
        version: head.version,
      };
    }
    const held = this.#lists.get(head.listId);
    if (held && head.version === held.version)
      return { outcome: 'already-held', listId: head.listId, version: head.version };
    if (held && head.version < held.version) {
      return {
        outcome: 'refused',
        reason: 'stale',
        detail: `list ${head.listId} v${head.version} is older than v${held.version}, which this lane holds`,
        listId: head.listId,
        version: head.version,
      };
    }
    if (v.kind === 'snapshot') {
      // The swap: lookups used the version held until now, and use this one from here on.
      this.#lists.set(head.listId, new WatchlistIndex(head.listId, head.version, v.data));
      this.#digests.set(head.listId, new Set([sum]));
      this.#write(() => this.#saveSnapshot(head.listId, bytes));
      const applied: ReceiveOutcome = {
        outcome: 'applied',
        listId: head.listId,
        version: head.version,
        kind: 'snapshot',
        entries: v.count,
        ms: performance.now() - t0,
      };
      this.#applyWaiting(head.listId);
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
    this.#applyDelta(held, v, bytes, sum);
    return {
      outcome: 'applied',
      listId: v.listId,
      version: v.version,
      kind: 'delta',
      entries: held.size,
      ms: performance.now() - t0,
    };
  }

  #applyDelta(index: WatchlistIndex, d: WatchlistDelta, bytes: Buffer, sum = digest(bytes)): void {
    index.apply(d);
    this.#digests.get(d.listId)?.add(sum);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    this.#write(() => appendFile(join(this.#options.dir, `${d.listId}.deltas.bin`), Buffer.concat([length, bytes])));
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

  /** Opens a message in line, or in a worker thread when it is large. */
  async #open(bytes: Buffer): Promise<OpenedMessage> {
    const job = await this.#job(bytes);
    return job ? job.opened() : openListMessage(bytes, this.#options.keys, this.#options.maxBytes);
  }

  /** A worker thread for a large message (null: opened in line). */
  async #job(bytes: Buffer): Promise<WorkerJob | null> {
    const { keys, maxBytes } = this.#options;
    if (this.#closed) throw new Error('watchlist: the list keeper is closed (the edge is stopping)');
    if (bytes.length < (this.#options.offThreadBytes ?? OFF_THREAD_BYTES) || bytes.length > maxBytes) return null;
    // One copy, handed over to the thread (not cloned again): the caller keeps its buffer to write
    // to disk. Made in steps, the event loop running between them: in one piece, 58 MiB took
    // 36-81 ms on the loaded machine, which every read and scan event would wait for.
    const copy = await copyInSteps(bytes);
    return new WorkerJob(copy, keys, maxBytes, this.#thread);
  }

  async #saveSnapshot(listId: string, bytes: Buffer): Promise<void> {
    const file = join(this.#options.dir, `${listId}.snapshot.bin`);
    await writeFile(`${file}.tmp`, bytes);
    await rename(`${file}.tmp`, file);
    // The deltas on disk were on the previous snapshot.
    await writeFile(join(this.#options.dir, `${listId}.deltas.bin`), '');
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

const COPY_STEP = 4 * 1024 * 1024;

/** A copy of `bytes` made COPY_STEP at a time, yielding to the event loop between steps. */
async function copyInSteps(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(bytes.length);
  for (let at = 0; at < bytes.length; at += COPY_STEP) {
    if (at > 0) await new Promise<void>((res) => setImmediate(res));
    out.set(bytes.subarray(at, at + COPY_STEP), at);
  }
  return out;
}

function digest(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}

const WORKER = fileURLToPath(new URL('./list-worker.mjs', import.meta.url));

interface JobHandlers {
  reply(m: ListJobReply): void;
  fail(why: string): void;
}

/**
 * The worker thread that opens large messages, one at a time. Started once (at load() when
 * `warmThread` says so, else at the first large message) and kept: starting a thread and loading
 * the code into it takes about half a second on a loaded box, which a new version would wait for.
 * It holds no list between jobs, and does not keep the process alive while idle.
 */
class ListThread {
  #worker: Worker | null = null;
  #ready: Promise<void> = Promise.resolve();
  #current: JobHandlers | null = null;
  #closed = false;

  get started(): boolean {
    return this.#worker !== null;
  }

  /** Resolves once the thread has loaded its code (or ended). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  start(): Worker {
    if (this.#closed) throw new Error('watchlist: the list keeper is closed (the edge is stopping)');
    if (this.#worker) return this.#worker;
    const w = new Worker(WORKER);
    w.unref();
    let loaded!: () => void;
    this.#ready = new Promise((res) => (loaded = res));
    w.once('exit', () => loaded());
    w.on('message', (m: ListJobReply) => {
      if ('ready' in m) loaded();
      else this.#current?.reply(m);
    });
    w.once('error', (err) => this.#lost(w, err.message));
    w.once('exit', (code) => this.#lost(w, `it exited with code ${code}`));
    this.#worker = w;
    return w;
  }

  #lost(w: Worker, why: string): void {
    if (this.#worker === w) this.#worker = null;
    const job = this.#current;
    this.#current = null;
    job?.fail(why);
  }

  /** Hands a job over; its replies go to `handlers` until end(). */
  begin(job: ListJob, transfer: ArrayBuffer[], handlers: JobHandlers): void {
    const w = this.start();
    this.#current = handlers;
    w.ref(); // the process waits for a job under way
    w.postMessage({ job } satisfies ListJobMessage, transfer);
  }

  send(m: ListJobMessage): void {
    this.#worker?.postMessage(m);
  }

  end(): void {
    this.#current = null;
    this.#worker?.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const w = this.#worker;
    this.#worker = null;
    this.#lost(w!, 'the list keeper was closed');
    if (w) await w.terminate();
  }
}

/**
 * One large message in the worker thread: the thread hashes it first (`digest`), and opens it
 * (verify, validate, build the compact index) only when told to go on (`opened()`); `cancel()`
 * drops it. The compact index comes back by transfer, without a copy.
 */
class WorkerJob {
  readonly digest: Promise<string>;
  readonly #thread: ListThread;
  readonly #opened: Promise<OpenedMessage>;
  /** The thread answered with an error: it holds no message, so it must not be told to go on. */
  #failed = false;

  /** `copy`: the message, the thread's to keep (its buffer is transferred). */
  constructor(
    copy: Uint8Array<ArrayBuffer>,
    keys: ReadonlyMap<string, KeyObject>,
    maxBytes: number,
    thread: ListThread,
  ) {
    this.#thread = thread;
    let gotDigest!: (d: string) => void;
    let gotOpened!: (o: OpenedMessage) => void;
    let failed!: (e: Error) => void;
    this.digest = new Promise((res) => (gotDigest = res));
    this.#opened = new Promise((res, rej) => {
      gotOpened = res;
      failed = rej;
    });
    const what = `the worker thread opening a ${copy.length}-byte list message`;
    const fail = (why: string) => {
      this.#failed = true;
      thread.end();
      failed(new Error(`watchlist: ${what} failed: ${why}`));
      gotDigest(''); // a digest never given matches nothing
    };
    // Nobody waits for the digest after a failure (the error comes from opened()), nor for the
    // opening of a job cancelled because its message was known.
    this.digest.catch(() => {});
    this.#opened.catch(() => {});
    thread.begin({ bytes: copy, keys: [...keys], maxBytes }, [copy.buffer], {
      reply: (m) => {
        if ('ready' in m) return;
        if ('digest' in m) gotDigest(m.digest);
        else if ('opened' in m) {
          thread.end();
          gotOpened(m.opened);
        } else fail(m.error);
      },
      fail,
    });
  }

  opened(): Promise<OpenedMessage> {
    // After a failure a "go" would reach the thread with no message, and its error reply would
    // land on whichever job is current by then.
    if (!this.#failed) this.#thread.send({ go: true });
    return this.#opened;
  }

  cancel(): void {
    this.#thread.send({ drop: true });
    this.#thread.end();
  }
}

/** The messages of a deltas file: each a u32 (little-endian) length and the message as it arrived. */
function deltaRecords(file: Buffer): (Buffer | { problem: string })[] {
  const out: (Buffer | { problem: string })[] = [];
  for (let at = 0; at < file.length; ) {
    const length = at + 4 <= file.length ? file.readUInt32LE(at) : -1;
    if (length < 0 || at + 4 + length > file.length) {
      out.push({ problem: `cut short at byte ${at} of ${file.length} (a write interrupted)` });
      break;
    }
    out.push(file.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}

function listIdsIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.snapshot.bin') || f.endsWith('.snapshot.json'))
      .map((f) => f.slice(0, f.lastIndexOf('.snapshot.')))
      .filter((id, i, all) => all.indexOf(id) === i);
  } catch {
    return [];
  }
}
