import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { DeviceState, ScanImage } from '../../../core/domain.js';
import type { EventBus } from '../../../core/event-bus.js';
import type { LaneEvents } from '../../../core/events.js';
import { deviceStatus } from '../../../core/health.js';
import type { Logger } from '../../../core/logger.js';
import type { Service } from '../../../core/service.js';
import type { ScannerTranslator } from '../translator.js';
import { decodeScanImage } from './image-decode.js';
import { parseJsonSidecar, parseXmlSidecar, type FileScanInfo, type XmlField } from './sidecar.js';

export interface FileDropOptions {
  name: string;
  /** Device name in status messages, e.g. "scanner.filedrop". */
  device: string;
  dir: string;
  processedDir?: string;
  failedDir?: string;
  /** Without a sidecar, a scan is taken once its files have not changed for this long. */
  stableMs: number;
  xmlFields?: Partial<Record<XmlField, string>>;
  /** Pixel pitch when the sidecar gives none (config scanner.pixelMm). */
  defaultPixelMm: number;
  translator: ScannerTranslator;
  bus: EventBus<LaneEvents>;
  log: Logger;
  /** How often the folder is listed (it is also watched); default min(250, stableMs / 4). */
  pollMs?: number;
}

const IMAGE = /\.(png|tiff?|jpe?g)$/i;
const LOW = /\.low\.(png|tiff?|jpe?g)$/i;
const SIDECAR = /\.(json|xml)$/i;
const IGNORED = /(^\.|\.(tmp|part|partial|crdownload|reason\.txt)$|~$)/i;

/** The files of one dropped scan, by stem: `<stem>.png`, `<stem>.low.png`, `<stem>.json`. */
interface Candidate {
  stem: string;
  high?: string;
  low?: string;
  sidecar?: string;
  /** name -> "size:mtime" at the previous listing */
  sig: Map<string, string>;
  /** When the files last changed (ms). */
  changedAt: number;
}

/**
 * Takes completed scans that the scanner writes into a folder: a 16-bit grey PNG/TIFF (or an
 * 8-bit JPEG, rescaled with a warning), an optional low-energy image and a sidecar (our JSON or
 * the vendor's XML, mapped by config). A scan is complete when its sidecar is there (sidecars
 * are written last) and its files did not change between two listings, or, without a sidecar,
 * when its files have not changed for stableMs. Each scan is taken once and moved to processed/,
 * or to failed/ with `<stem>.reason.txt` saying why.
 */
export class FileDropService implements Service {
  readonly name: string;
  readonly #options: FileDropOptions;
  readonly #dir: string;
  readonly #processed: string;
  readonly #failed: string;
  readonly #seen = new Map<string, Candidate>();
  #timer: NodeJS.Timeout | null = null;
  #watcher: FSWatcher | null = null;
  #busy: Promise<void> | null = null;
  #stopped = true;
  #taken = 0;
  #failedCount = 0;
  #state: { state: DeviceState; detail: string } | null = null;
  #lastScanId: string | null = null;

  constructor(opts: FileDropOptions) {
    this.#options = opts;
    this.name = opts.name;
    this.#dir = resolve(opts.dir);
    this.#processed = resolve(opts.processedDir ?? join(opts.dir, 'processed'));
    this.#failed = resolve(opts.failedDir ?? join(opts.dir, 'failed'));
  }

  get taken(): number {
    return this.#taken;
  }
  get failed(): number {
    return this.#failedCount;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    const pollMs = this.#options.pollMs ?? Math.max(20, Math.min(250, Math.floor(this.#options.stableMs / 4)));
    this.#timer = setInterval(() => this.#kick(), pollMs);
    this.#timer.unref();
    this.#kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#watcher?.close();
    this.#watcher = null;
    await this.#busy;
  }

  /** Runs one listing now, unless one is running. Resolves when it is done. */
  #kick(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#busy ??= this.#scan()
      .catch((err: Error) => this.#status('fault', `file drop ${this.#dir}: ${err.message}`))
      .finally(() => (this.#busy = null));
    return this.#busy;
  }

  async #scan(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.#watcher?.close();
      this.#watcher = null;
      this.#status('fault', `cannot read the drop folder ${this.#dir}: ${e.code === 'ENOENT' ? 'it does not exist (create it or fix scanner.fileDrop.dir)' : e.message}; retrying`);
      return;
    }
    if (!this.#watcher) {
      try {
        // The watcher only makes us list sooner; the periodic listing alone is enough.
        this.#watcher = watch(this.#dir, () => void this.#kick());
        this.#watcher.on('error', () => {
          this.#watcher?.close();
          this.#watcher = null;
        });
      } catch {
        this.#watcher = null;
      }
    }
    this.#status('ok', `watching ${this.#dir}`);
    const now = Date.now();
    const groups = new Map<string, Candidate>();
    for (const name of names) {
      if (IGNORED.test(name)) continue;
      let stem: string;
      let role: 'high' | 'low' | 'sidecar';
      if (LOW.test(name)) [stem, role] = [name.replace(LOW, ''), 'low'];
      else if (IMAGE.test(name)) [stem, role] = [name.replace(IMAGE, ''), 'high'];
      else if (SIDECAR.test(name)) [stem, role] = [name.replace(SIDECAR, ''), 'sidecar'];
      else continue;
      const c: Candidate = groups.get(stem) ?? { stem, sig: new Map(), changedAt: now };
      if (role === 'sidecar' && c.sidecar && !c.sidecar.endsWith('.json')) c.sidecar = name; // prefer our JSON over XML
      else if (role === 'sidecar' && c.sidecar) continue;
      else c[role] = name;
      groups.set(stem, c);
    }
    for (const [stem, c] of groups) {
      if (this.#stopped) return;
      const sig = new Map<string, string>();
      let isFile = true;
      for (const f of [c.high, c.low, c.sidecar]) {
        if (!f) continue;
        try {
          const s = await stat(join(this.#dir, f));
          if (!s.isFile()) isFile = false;
          sig.set(f, `${s.size}:${s.mtimeMs}`);
        } catch {
          sig.set(f, 'gone');
        }
      }
      if (!isFile) continue;
      const prev = this.#seen.get(stem);
      const same = prev !== undefined && prev.sig.size === sig.size && [...sig].every(([k, v]) => prev.sig.get(k) === v);
      c.sig = sig;
      c.changedAt = same ? prev.changedAt : now;
      this.#seen.set(stem, c);
      if (!same) continue; // changed since the last listing (or first seen): look again next time
      const quiet = now - c.changedAt;
      if (c.high && c.sidecar) await this.#take(c);
      else if (c.high && quiet >= this.#options.stableMs) await this.#take(c);
      else if (!c.high && quiet >= Math.max(this.#options.stableMs, 10_000)) await this.#fail(c, `no image came with ${[c.low, c.sidecar].filter(Boolean).join(' and ')} in ${Math.round(quiet / 1000)} s (expected ${stem}.png, .tif or .jpg)`);
    }
    for (const stem of this.#seen.keys()) if (!groups.has(stem)) this.#seen.delete(stem);
  }

  async #take(c: Candidate): Promise<void> {
    const dir = this.#dir;
    let info: FileScanInfo = {};
    try {
      if (c.sidecar) info = await this.#sidecar(c.sidecar);
    } catch (err) {
      // A sidecar that does not parse may still be being written: give it stableMs.
      if (Date.now() - c.changedAt < this.#options.stableMs) return;
      return this.#fail(c, (err as Error).message);
    }
    let image: ScanImage;
    const notes: string[] = [];
    try {
      const high = await decodeScanImage(join(dir, c.high!));
      notes.push(...high.notes.map((n) => `${c.high}: ${n}`));
      image = { width: high.width, height: high.height, pixelMm: info.pixelMm ?? this.#options.defaultPixelMm, high: high.pixels, missing: new Uint8Array(high.width) };
      if (c.low) {
        const low = await decodeScanImage(join(dir, c.low));
        notes.push(...low.notes.map((n) => `${c.low}: ${n}`));
        if (low.width !== high.width || low.height !== high.height) throw new Error(`low-energy image ${c.low} is ${low.width}x${low.height} but ${c.high} is ${high.width}x${high.height}`);
        image.low = low.pixels;
      }
    } catch (err) {
      // An image that changed within stableMs may still be being written (some scanners write
      // the sidecar first): look again later; one that stays undecodable is failed.
      if (Date.now() - c.changedAt < this.#options.stableMs) return;
      return this.#fail(c, `cannot decode the scan image: ${(err as Error).message}`);
    }
    for (const n of notes) this.#options.log.warn({ stem: c.stem }, `file drop: ${n}`);
    const mtime = await stat(join(dir, c.high!)).then((s) => s.mtime.toISOString(), () => new Date().toISOString());
    const scanId = info.scanId ?? c.stem;
    const at = info.time ?? mtime;
    const moved = await this.#move(c, this.#processed);
    if (!moved) return;
    this.#taken++;
    this.#lastScanId = scanId;
    this.#seen.delete(c.stem);
    this.#options.log.info({ scanId, files: [...c.sig.keys()] }, `file drop: scan ${scanId} taken (${image.width} lines x ${image.height} channels${image.low ? ', dual energy' : ''})`);
    this.#options.translator.fileScan(
      { scanId, startedAt: at, channels: image.height, energies: image.low ? 2 : 1, pixelMm: image.pixelMm, ...(info.vehicle ? { vehicle: info.vehicle } : {}) },
      image,
      at,
    );
    this.#status('ok', `watching ${this.#dir}`, true);
  }

  async #sidecar(name: string): Promise<FileScanInfo> {
    const text = await readFile(join(this.#dir, name), 'utf8');
    if (name.toLowerCase().endsWith('.json')) return parseJsonSidecar(text, name);
    if (!this.#options.xmlFields || Object.keys(this.#options.xmlFields).length === 0) {
      this.#options.log.warn(`file drop: ${name} is an XML sidecar but scanner.fileDrop.xmlFields maps no field; its content is ignored`);
      return {};
    }
    return parseXmlSidecar(text, name, this.#options.xmlFields);
  }

  async #fail(c: Candidate, reason: string): Promise<void> {
    this.#options.log.error({ stem: c.stem }, `file drop: scan ${c.stem} not taken: ${reason}; moved to ${this.#failed}`);
    if (!(await this.#move(c, this.#failed))) return;
    await writeFile(join(this.#failed, `${c.stem}.reason.txt`), `${new Date().toISOString()} ${reason}\n`).catch((err: Error) =>
      this.#options.log.error({ err }, `file drop: cannot write ${c.stem}.reason.txt in ${this.#failed}: ${err.message}`),
    );
    this.#failedCount++;
    this.#seen.delete(c.stem);
    this.#status('ok', `watching ${this.#dir}`, true);
  }

  /** Moves a scan's files; on failure says so and keeps them (they are retried next listing). */
  async #move(c: Candidate, to: string): Promise<boolean> {
    try {
      await mkdir(to, { recursive: true });
      for (const f of [c.high, c.low, c.sidecar]) {
        if (!f) continue;
        let target = join(to, basename(f));
        if (await stat(target).then(() => true, () => false)) target = join(to, `${Date.now()}-${basename(f)}`);
        await rename(join(this.#dir, f), target);
      }
      return true;
    } catch (err) {
      this.#status('fault', `cannot move scan ${c.stem} to ${to}: ${(err as Error).message}; check the folder's permissions`);
      return false;
    }
  }

  #status(state: DeviceState, detail: string, force = false): void {
    if (!force && this.#state?.state === state && this.#state.detail === detail) return;
    this.#state = { state, detail };
    this.#options.bus.emit('device.status', deviceStatus(this.#options.device, state, detail, { taken: this.#taken, failed: this.#failedCount, lastScanId: this.#lastScanId }));
  }
}
