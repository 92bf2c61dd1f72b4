import { LINE_PITCH_FALLBACK, type LinePitchSetting, scanLinePitch } from '../line-pitch.js';
import { watch, type FSWatcher } from 'node:fs';
import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { DeviceState, ScanImage } from '../../../core/domain.js';
import type { EventBus } from '../../../core/event-bus.js';
import type { LaneEvents } from '../../../core/events.js';
import { deviceStatus } from '../../../core/health.js';
import type { Logger } from '../../../core/logger.js';
import { type LowEnergyScaleOption, normaliseLowEnergy } from '../../../core/dual-energy-scale.js';
import type { OpenBeamOption } from '../../../core/open-beam.js';
import type { Service } from '../../../core/service.js';
import { DATA_DIR_MODE, DATA_FILE_MODE } from '../../../core/data-files.js';
import { uuidv7 } from '../../../core/ids.js';
import type { ScannerTranslator } from '../translator.js';
import { decodeScanImage } from '../../../core/scan-image-file.js';
import { DEFAULT_EXPORT, type ExportOption } from '../../../core/export-chain.js';
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
  /** How 8-bit image files were exported (config scanner.fileDrop.export); default DEFAULT_EXPORT (auto: estimated per image). */
  exportChain?: ExportOption;
  /** Open beam of 16-bit files (default 'auto': the air plateau at the border; core/open-beam.ts). */
  openBeam?: OpenBeamOption;
  /** Low-energy scale of dual-energy pairs (default 'auto': core/dual-energy-scale.ts). */
  lowEnergyScale?: LowEnergyScaleOption;
  /** Pixel pitch when the sidecar gives none (config scanner.pixelMm). */
  defaultPixelMm: number;
  /** Line pitch when the sidecar gives none (config scanner.lineMm; default 'pixel': square pixels). */
  lineMm?: LinePitchSetting;
  translator: ScannerTranslator;
  bus: EventBus<LaneEvents>;
  log: Logger;
  /** How often the folder is listed (it is also watched); default min(250, stableMs / 4). */
  pollMs?: number;
  /** Longest wait for a taken scan's decision before its files are moved anyway (default 120 s). */
  decisionWaitMs?: number;
  /** Largest sidecar read, in bytes (config scanner.fileDrop.maxSidecarBytes; default 64 KiB). */
  maxSidecarBytes?: number;
  /** Files in processed/ and failed/ older than this many days are deleted (scanner.fileDrop.retentionDays; default 30). */
  retentionDays?: number;
}

export const FILE_DROP_DEFAULTS = { maxSidecarBytes: 65_536, retentionDays: 30 } as const;
/** Largest image file read (a 32 Mi pixel 16-bit image is 64 MiB uncompressed; TIFF may be). */
const MAX_IMAGE_FILE_BYTES = 256 << 20;
/** How often processed/ and failed/ are pruned. */
const RETENTION_EVERY_MS = 3600_000;

/**
 * Reads a file that must be a regular file, not through a symbolic link (O_NOFOLLOW: a link
 * swapped in after the listing is refused too), and at most `maxBytes` long.
 */
async function readRegularFile(path: string, maxBytes: number, what: string): Promise<Buffer> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP')
      throw new Error(
        `${basename(path)} is a symbolic link: the drop folder takes regular files only (links are not followed)`,
        { cause: err },
      );
    throw err;
  }
  try {
    const s = await fh.stat();
    if (!s.isFile()) throw new Error(`${basename(path)} is not a regular file`);
    if (s.size > maxBytes)
      throw new Error(
        `${what} ${basename(path)} is ${s.size} bytes, more than the ${maxBytes} accepted${what === 'sidecar' ? ' (scanner.fileDrop.maxSidecarBytes)' : ''}`,
      );
    const buf = Buffer.alloc(s.size);
    const { bytesRead } = await fh.read(buf, 0, s.size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Longest wait for a taken scan's decision before its files are moved all the same. */
const DECISION_WAIT_MS = 120_000;

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
 * when its files have not changed for stableMs. Each scan is taken once and moved to processed/
 * once its result is in the outbox (files still in the folder after a crash are taken again at
 * the next start), or to failed/ with `<stem>.reason.txt` saying why.
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
  /** Scans read with square pixels because scanner.lineMm could not be applied to them (no speed or line rate). */
  #linePitchFallbacks = 0;
  /** Whether the hint that a sidecar's speed and line rate disagree with square pixels was logged. */
  #squareHinted = false;
  /** The scan being taken waits for its decision through these. */
  #awaitDecision: ((scanId: string) => void) | null = null;
  #offDecided: (() => void) | null = null;
  #retentionTimer: NodeJS.Timeout | null = null;

  constructor(opts: FileDropOptions) {
    this.#options = opts;
    this.name = opts.name;
    this.#dir = resolve(opts.dir);
    this.#processed = resolve(opts.processedDir ?? join(opts.dir, 'processed'));
    this.#failed = resolve(opts.failedDir ?? join(opts.dir, 'failed'));
  }

  /** Scans read with square pixels because scanner.lineMm could not be applied to them. */
  get linePitchFallbacks(): number {
    return this.#linePitchFallbacks;
  }

  get taken(): number {
    return this.#taken;
  }
  get failed(): number {
    return this.#failedCount;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#offDecided ??= this.#options.bus.on('scan.decided', this.name, ({ result }) => {
      this.#awaitDecision?.(result.scanId);
    });
    const pollMs = this.#options.pollMs ?? Math.max(20, Math.min(250, Math.floor(this.#options.stableMs / 4)));
    this.#timer = setInterval(() => this.#kick(), pollMs);
    this.#timer.unref();
    void this.#prune();
    this.#retentionTimer = setInterval(() => void this.#prune(), RETENTION_EVERY_MS);
    this.#retentionTimer.unref();
    this.#kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#retentionTimer) clearInterval(this.#retentionTimer);
    this.#retentionTimer = null;
    this.#watcher?.close();
    this.#watcher = null;
    // The lane pipeline is still running: the scan in hand gets its decision, then its files move.
    await this.#busy;
    this.#offDecided?.();
    this.#offDecided = null;
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
      this.#status(
        'fault',
        `cannot read the drop folder ${this.#dir}: ${e.code === 'ENOENT' ? 'it does not exist (create it or fix scanner.fileDrop.dir)' : e.message}; retrying`,
      );
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
      if (role === 'sidecar' && c.sidecar && !c.sidecar.endsWith('.json'))
        c.sidecar = name; // prefer our JSON over XML
      else if (role === 'sidecar' && c.sidecar) continue;
      else c[role] = name;
      groups.set(stem, c);
    }
    for (const [stem, c] of groups) {
      if (this.#stopped) return;
      const sig = new Map<string, string>();
      let isFile = true;
      let link: string | null = null;
      for (const f of [c.high, c.low, c.sidecar]) {
        if (!f) continue;
        try {
          // lstat: a symbolic link is never followed (it could point at any file the service can read).
          const s = await lstat(join(this.#dir, f));
          if (s.isSymbolicLink()) link = f;
          else if (!s.isFile()) isFile = false;
          sig.set(f, `${s.size}:${s.mtimeMs}`);
        } catch {
          sig.set(f, 'gone');
        }
      }
      if (link) {
        await this.#fail(
          c,
          `${link} is a symbolic link: the drop folder takes regular files only (links are not followed)`,
        );
        continue;
      }
      if (!isFile) continue;
      const prev = this.#seen.get(stem);
      const same =
        prev !== undefined && prev.sig.size === sig.size && [...sig].every(([k, v]) => prev.sig.get(k) === v);
      c.sig = sig;
      c.changedAt = same ? prev.changedAt : now;
      this.#seen.set(stem, c);
      if (!same) continue; // changed since the last listing (or first seen): look again next time
      const quiet = now - c.changedAt;
      if (c.high && c.sidecar) await this.#take(c);
      else if (c.high && quiet >= this.#options.stableMs) await this.#take(c);
      else if (!c.high && quiet >= Math.max(this.#options.stableMs, 10_000))
        await this.#fail(
          c,
          `no image came with ${[c.low, c.sidecar].filter(Boolean).join(' and ')} in ${Math.round(quiet / 1000)} s (expected ${stem}.png, .tif or .jpg)`,
        );
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
      const high = await decodeScanImage(
        await readRegularFile(join(dir, c.high!), MAX_IMAGE_FILE_BYTES, 'image'),
        this.#options.exportChain ?? DEFAULT_EXPORT,
        this.#options.openBeam,
        c.high!,
      );
      notes.push(...high.notes.map((n) => `${c.high}: ${n}`));
      image = {
        width: high.width,
        height: high.height,
        pixelMm: info.pixelMm ?? this.#options.defaultPixelMm,
        high: high.pixels,
        missing: new Uint8Array(high.width),
      };
      if (c.low) {
        // One scanner exported both energies: the high-energy image's estimate decodes the low-energy one.
        const low = await decodeScanImage(
          await readRegularFile(join(dir, c.low), MAX_IMAGE_FILE_BYTES, 'image'),
          high.estimate ?? this.#options.exportChain ?? DEFAULT_EXPORT,
          this.#options.openBeam,
          c.low,
        );
        notes.push(...low.notes.map((n) => `${c.low}: ${n}`));
        if (low.width !== high.width || low.height !== high.height)
          throw new Error(
            `low-energy image ${c.low} is ${low.width}x${low.height} but ${c.high} is ${high.width}x${high.height}`,
          );
        const eightBit = high.fileBits === 8 || low.fileBits === 8;
        const scaled = normaliseLowEnergy(high.pixels, low.pixels, this.#options.lowEnergyScale, eightBit);
        if (scaled.note) notes.push(`${c.low}: ${scaled.note}`);
        image.low = scaled.low;
      }
    } catch (err) {
      // An image that changed within stableMs may still be being written (some scanners write
      // the sidecar first): look again later; one that stays undecodable is failed.
      if (Date.now() - c.changedAt < this.#options.stableMs) return;
      return this.#fail(c, `cannot decode the scan image: ${(err as Error).message}`);
    }
    // The line pitch, counted and said only for a scan that is taken (one retried while its files are
    // still being written is not counted again).
    this.#setLinePitch(c, info, image, notes);
    for (const n of notes) this.#options.log.warn({ stem: c.stem }, `file drop: ${n}`);
    const mtime = await lstat(join(dir, c.high!)).then(
      (s) => s.mtime.toISOString(),
      () => new Date().toISOString(),
    );
    const scannerScanId = info.scanId ?? c.stem;
    const at = info.time ?? mtime;
    this.#taken++;
    this.#lastScanId = scannerScanId;
    this.#options.log.info(
      { scannerScanId, files: [...c.sig.keys()] },
      `file drop: scan ${scannerScanId} taken (${image.width} lines x ${image.height} channels${image.low ? ', dual energy' : ''})`,
    );
    // The files stay in the drop folder until the scan's result is in the outbox: if the process
    // dies before, the scan is journaled as open (reported as aborted, edge-restarted) and its
    // files are taken again at the next start.
    const scanId = uuidv7();
    const decided = new Promise<void>((resolveDecided) => {
      this.#awaitDecision = (id) => {
        if (id === scanId) resolveDecided();
      };
    });
    this.#options.translator.fileScan(
      {
        scanId,
        scannerScanId,
        startedAt: at,
        channels: image.height,
        energies: image.low ? 2 : 1,
        pixelMm: image.pixelMm,
        ...(image.lineMm !== undefined ? { lineMm: image.lineMm } : {}),
        ...(info.lineRateHz !== undefined ? { lineRateHz: info.lineRateHz } : {}),
        ...(info.vehicle ? { vehicle: info.vehicle } : {}),
      },
      image,
      at,
    );
    let timer: NodeJS.Timeout | undefined;
    const waitMs = this.#options.decisionWaitMs ?? DECISION_WAIT_MS;
    const timedOut = await Promise.race([
      decided.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), waitMs))),
    ]);
    clearTimeout(timer);
    this.#awaitDecision = null;
    if (timedOut)
      this.#options.log.error(
        { scanId, scannerScanId },
        `file drop: scan ${scannerScanId} (edge ${scanId}) not decided within ${waitMs} ms; its files are moved to ${this.#processed} all the same, so that it is not taken twice`,
      );
    const moved = await this.#move(c, this.#processed);
    if (!moved) return;
    this.#seen.delete(c.stem);
    this.#status('ok', `watching ${this.#dir}`, true);
  }

  async #sidecar(name: string): Promise<FileScanInfo> {
    const text = (
      await readRegularFile(
        join(this.#dir, name),
        this.#options.maxSidecarBytes ?? FILE_DROP_DEFAULTS.maxSidecarBytes,
        'sidecar',
      )
    ).toString('utf8');
    if (name.toLowerCase().endsWith('.json')) return parseJsonSidecar(text, name);
    if (!this.#options.xmlFields || Object.keys(this.#options.xmlFields).length === 0) {
      this.#options.log.warn(
        `file drop: ${name} is an XML sidecar but scanner.fileDrop.xmlFields maps no field; its content is ignored`,
      );
      return {};
    }
    return parseXmlSidecar(text, name, this.#options.xmlFields);
  }

  async #fail(c: Candidate, reason: string): Promise<void> {
    this.#options.log.error(
      { stem: c.stem },
      `file drop: scan ${c.stem} not taken: ${reason}; moved to ${this.#failed}`,
    );
    if (!(await this.#move(c, this.#failed))) return;
    await writeFile(join(this.#failed, `${c.stem}.reason.txt`), `${new Date().toISOString()} ${reason}\n`, {
      mode: DATA_FILE_MODE,
    }).catch((err: Error) =>
      this.#options.log.error(
        { err },
        `file drop: cannot write ${c.stem}.reason.txt in ${this.#failed}: ${err.message}`,
      ),
    );
    this.#failedCount++;
    this.#seen.delete(c.stem);
    this.#status('ok', `watching ${this.#dir}`, true);
  }

  /** Moves a scan's files; on failure says so and keeps them (they are retried next listing). */
  async #move(c: Candidate, to: string): Promise<boolean> {
    try {
      await mkdir(to, { recursive: true, mode: DATA_DIR_MODE });
      for (const f of [c.high, c.low, c.sidecar]) {
        if (!f) continue;
        let target = join(to, basename(f));
        if (
          await lstat(target).then(
            () => true,
            () => false,
          )
        )
          target = join(to, `${Date.now()}-${basename(f)}`);
        await rename(join(this.#dir, f), target);
      }
      return true;
    } catch (err) {
      this.#status(
        'fault',
        `cannot move scan ${c.stem} to ${to}: ${(err as Error).message}; check the folder's permissions`,
      );
      return false;
    }
  }

  /** Deletes files in processed/ and failed/ older than retentionDays (by modification time). */
  async #prune(): Promise<number> {
    const days = this.#options.retentionDays ?? FILE_DROP_DEFAULTS.retentionDays;
    const before = Date.now() - days * 86_400_000;
    let n = 0;
    for (const dir of [this.#processed, this.#failed]) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue; // not there yet
      }
      for (const name of names) {
        try {
          const s = await lstat(join(dir, name));
          if (s.mtimeMs < before && !s.isDirectory()) {
            await rm(join(dir, name), { force: true });
            n++;
          }
        } catch (err) {
          this.#options.log.warn(
            { err },
            `file drop: cannot remove ${join(dir, name)} (older than ${days} days): ${(err as Error).message}`,
          );
        }
      }
    }
    if (n > 0)
      this.#options.log.info(
        `file drop: ${n} file(s) older than ${days} days removed from ${this.#processed} and ${this.#failed} (scanner.fileDrop.retentionDays)`,
      );
    return n;
  }

  /** Runs the retention pass now (tests). */
  pruneNow(): Promise<number> {
    return this.#prune();
  }

  /** Sets a taken scan's line pitch as its sidecar and scanner.lineMm say; a setting that cannot be applied is counted. */
  #setLinePitch(c: { sidecar?: string; high?: string }, info: FileScanInfo, image: ScanImage, notes: string[]): void {
    const pixelMm = image.pixelMm;
    const pitch = scanLinePitch(this.#options.lineMm ?? 'pixel', pixelMm, {
      lineMm: info.lineMm,
      speedKmh: info.vehicle?.speedKmh,
      lineRateHz: info.lineRateHz,
    });
    if (pitch.lineMm !== undefined) image.lineMm = pitch.lineMm;
    if (pitch.problem) {
      this.#linePitchFallbacks++;
      notes.push(
        `${c.sidecar ?? c.high}: ${pitch.problem} (a JSON sidecar gives vehicle.speedKmh and lineRateHz, vendor XML the elements xmlFields.speedKmh and xmlFields.lineRateHz name); ${LINE_PITCH_FALLBACK}`,
      );
    }
    if (pitch.implied !== undefined && !this.#squareHinted) {
      // Once: a scanner that resamples its lines may write a speed and line rate that do not make its pitch.
      this.#squareHinted = true;
      notes.push(
        `${c.sidecar}: its speed and line rate put the lines ${pitch.implied} mm apart, but scanner.lineMm 'pixel' reads them ${pixelMm} mm apart; unless the scanner resamples its lines to the channels' pitch, set scanner.lineMm: speed (said once)`,
      );
    }
  }

  #status(state: DeviceState, detail: string, force = false): void {
    if (!force && this.#state?.state === state && this.#state.detail === detail) return;
    this.#state = { state, detail };
    this.#options.bus.emit(
      'device.status',
      deviceStatus(this.#options.device, state, detail, {
        taken: this.#taken,
        failed: this.#failedCount,
        lastScanId: this.#lastScanId,
        linePitchFallbacks: this.#linePitchFallbacks,
      }),
    );
  }
}
