import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScanImage } from '../../core/domain.js';
import type { Logger } from '../../core/logger.js';
import { renderScanPng, viewsOf, type ScanView } from './scan-views.js';

/** Scans whose pictures are kept on disk for the console (oldest deleted first). */
const KEEP_SCAN_IMAGES = 200;

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A scan id as a folder name: itself when plain, else a digest (scanners' ids may hold / or :). */
function folderName(scanId: string): string {
  return SAFE.test(scanId) ? scanId : `id-${createHash('sha256').update(scanId).digest('hex').slice(0, 32)}`;
}

/**
 * Full-resolution pictures of decided scans, rendered once as PNG per view when the scan is
 * decided and kept under <dataDir>/console/scans/<lane>/<scanId>/<view>.png (an id unfit for a
 * folder name by its digest) for the last
 * KEEP_SCAN_IMAGES scans, so that history can show them after a restart.
 */
export class ScanImageArchive {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #keep: number;
  readonly #pending = new Map<string, Promise<void>>();
  readonly #render: (image: ScanImage, view: ScanView) => Promise<Buffer>;

  /** render: makes one view's PNG (default renderScanPng in this thread; the runtime gives its picture thread). */
  constructor(opts: {
    dir: string;
    log: Logger;
    keep?: number;
    render?: (image: ScanImage, view: ScanView) => Promise<Buffer>;
  }) {
    this.#dir = opts.dir;
    this.#log = opts.log;
    this.#keep = opts.keep ?? KEEP_SCAN_IMAGES;
    this.#render = opts.render ?? renderScanPng;
  }

  /** Renders and stores every view of a scan image; resolves once they are on disk. */
  store(laneId: string, scanId: string, image: ScanImage): Promise<void> {
    const folder = this.#folder(laneId, scanId);
    if (!folder) {
      this.#log.warn(
        { laneId, scanId },
        `lane id ${laneId} is unfit for a folder name; the picture of scan ${scanId} is not kept for the console`,
      );
      return Promise.resolve();
    }
    const key = `${laneId}/${scanId}`;
    // Started on the next turn of the event loop: the alert that follows the decision on the
    // lane bus must not wait for the pictures.
    const job = (async () => {
      await new Promise((r) => setImmediate(r));
      mkdirSync(folder, { recursive: true });
      for (const view of viewsOf(image)) {
        const png = await this.#render(image, view);
        const tmp = join(folder, `.${view}.png.tmp`);
        await writeFile(tmp, png);
        await rename(tmp, join(folder, `${view}.png`));
      }
      this.#prune(laneId);
    })()
      .catch((err: unknown) => {
        this.#log.error(
          { err, laneId, scanId },
          `scan ${scanId}: rendering its picture for the console failed: ${(err as Error).message}`,
        );
      })
      .finally(() => this.#pending.delete(key));
    this.#pending.set(key, job);
    return job;
  }

  /** Views kept for a scan (waiting for a render in progress), or [] if none. */
  async views(laneId: string, scanId: string): Promise<ScanView[]> {
    const folder = this.#folder(laneId, scanId);
    if (!folder) return [];
    await this.#pending.get(`${laneId}/${scanId}`);
    if (!existsSync(folder)) return [];
    return (['high', 'low', 'material'] as const).filter((v) => existsSync(join(folder, `${v}.png`)));
  }

  /** Views on disk now, without waiting for a render in progress (that one is announced when done). */
  viewsNow(laneId: string, scanId: string): ScanView[] {
    const folder = this.#folder(laneId, scanId);
    if (!folder || this.#pending.has(`${laneId}/${scanId}`)) return [];
    return (['high', 'low', 'material'] as const).filter((v) => existsSync(join(folder, `${v}.png`)));
  }

  /** The PNG of one view, or null if not kept. */
  async read(laneId: string, scanId: string, view: ScanView): Promise<Buffer | null> {
    const folder = this.#folder(laneId, scanId);
    if (!folder) return null;
    await this.#pending.get(`${laneId}/${scanId}`);
    try {
      return await readFile(join(folder, `${view}.png`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Waits for every render in progress (service stop). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#pending.values()]);
  }

  #folder(laneId: string, scanId: string): string | null {
    if (!SAFE.test(laneId)) return null; // lane ids are config identifiers
    return join(this.#dir, laneId, folderName(scanId));
  }

  #prune(laneId: string): void {
    const laneDir = join(this.#dir, laneId);
    const entries = readdirSync(laneDir)
      .map((name) => ({ name, mtime: statSync(join(laneDir, name)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const e of entries.slice(this.#keep)) rmSync(join(laneDir, e.name), { recursive: true, force: true });
  }
}
