import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { DATA_DIR_MODE, DATA_FILE_MODE } from '../../core/data-files.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import type { EvidenceRef, Region, ScanImage, ScanResult } from '../../core/domain.js';
import type { EventBus } from '../../core/event-bus.js';
import type { CameraSnapshot, LaneEvents } from '../../core/events.js';
import { sendJson, type HttpRoutes } from '../../core/http-routes.js';
import type { EvidenceCollector } from '../../core/evidence-collector.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import { EVIDENCE_NAME, type EvidenceUrlSigner, type SignatureCheck } from './evidence-urls.js';
import { applyRetention, type RetentionPolicy, type RetentionReport } from './retention.js';
import { renderScanJpeg } from './evidence-picture.js';

export interface EvidenceStoreOptions {
  laneId: string;
  /** Folder of this lane's evidence: one sub-folder per scan. */
  dir: string;
  bus: EventBus<LaneEvents>;
  /** Where GET /evidence/<scanId>/<name> is served; absent: files are written but not served. */
  http?: HttpRoutes;
  /**
   * Checks signed links. A request is answered only with a valid, unexpired signed link or a
   * log-in session that a part registered with http.access (the console's) vouches for.
   * Absent: signed links are refused, and only sessions give access.
   */
  signer?: EvidenceUrlSigner;
  log: Logger;
  retention: RetentionPolicy;
  /** How often the retention policy runs (it also runs at start and when the size limit is passed). */
  sweepEveryMs?: number;
  /** Scan pictures wider than this are scaled down. */
  scanMaxWidth?: number;
  /** Snapshots kept in memory for scans not yet decided. */
  maxPendingScans?: number;
  /**
   * Renders the scan picture (renderScanJpeg's JPEG). The runtime gives its picture thread, so
   * that no pixel loop runs on the event loop; default: renderScanJpeg in this thread.
   */
  renderScan?: (image: ScanImage, regions: readonly Region[], maxWidth: number) => Promise<Buffer>;
}

const NAME = EVIDENCE_NAME;
const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

/** A scan id made fit for a folder and URL segment: anything but letters, digits, '.', '-', '_' becomes '_'. */
export function evidenceFolderName(scanId: string): string {
  const s = scanId
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/\.{2,}/g, '_')
    .slice(0, 128);
  return NAME.test(s) ? s : `scan_${s.replace(/^[._-]+/, '')}`;
}

/**
 * The lane's evidence: for each decided scan, a JPEG of the scan with the flagged regions
 * boxed, and the camera snapshots taken at its begin and end, written to <dir>/<scanId>/ and
 * served at /evidence/<scanId>/<name> to holders of a signed link or a console session. Old
 * evidence goes by the retention policy.
 */
export class EvidenceStore implements EvidenceCollector, Service {
  readonly name: string;
  readonly root: string;
  readonly #options: EvidenceStoreOptions;
  readonly #snapshots = new Map<string, CameraSnapshot[]>();
  readonly #writing = new Set<string>();
  readonly #pending = new Map<string, Promise<void>>();
  #off: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #sweeping: Promise<RetentionReport | null> = Promise.resolve(null);
  #bytesSinceSweep = 0;
  #knownBytes = 0;
  #routed = false;

  constructor(o: EvidenceStoreOptions) {
    this.#options = o;
    this.name = `evidence:${o.laneId}`;
    this.root = resolve(o.dir);
  }

  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: DATA_DIR_MODE });
    try {
      await this.#options.signer?.load();
    } catch (err) {
      // The lane keeps screening and the console still shows evidence; signed links are refused (503) until fixed.
      this.#options.log.error(
        { err },
        `evidence: ${(err as Error).message}; signed evidence links are refused until this is fixed and the runtime restarted`,
      );
    }
    this.#off = this.#options.bus.on('camera.snapshot', this.name, (s) => this.#remember(s));
    if (this.#options.http && !this.#routed) {
      this.#routed = true;
      this.#options.http.route('/evidence', this.name, (req, res, url) => this.#serve(req, res, url));
    }
    void this.sweep();
    this.#timer = setInterval(() => void this.sweep(), this.#options.sweepEveryMs ?? 10 * 60_000);
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    this.#off?.();
    this.#off = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flushed();
    await this.#sweeping;
  }

  /** Runs the retention policy now (one run at a time); logs and returns what it deleted. */
  sweep(): Promise<RetentionReport | null> {
    this.#sweeping = this.#sweeping.then(async () => {
      try {
        const r = await applyRetention(this.root, this.#options.retention, { keep: this.#writing });
        this.#knownBytes = r.keptBytes;
        this.#bytesSinceSweep = 0;
        if (r.deleted.length) {
          const bytes = r.deleted.reduce((s, d) => s + d.bytes, 0);
          this.#options.log.info(
            { deleted: r.deleted.length, bytes, keptScans: r.keptScans, keptBytes: r.keptBytes },
            `evidence retention deleted ${r.deleted.length} scan(s) (${(bytes / 1048576).toFixed(1)} MiB) from ${this.root}`,
          );
        }
        return r;
      } catch (err) {
        this.#options.log.error(
          { err, dir: this.root },
          `evidence retention in ${this.root} failed: ${(err as Error).message}; check the folder's permissions`,
        );
        return null;
      }
    });
    return this.#sweeping;
  }

  #remember(s: CameraSnapshot): void {
    if (!s.scanId) return;
    const list = this.#snapshots.get(s.scanId) ?? [];
    list.push(s);
    this.#snapshots.set(s.scanId, list);
    const max = this.#options.maxPendingScans ?? 8;
    while (this.#snapshots.size > max) this.#snapshots.delete(this.#snapshots.keys().next().value!);
  }

  /**
   * Names this scan's evidence and returns its references at once; the files (the scan picture
   * takes 100-300 ms to render) are written in the background, so that the verdict is not held
   * up. A request for a file still being written waits for it (then 200, or 404 if it could not
   * be made); stop() waits for every write.
   */
  async collect(result: ScanResult, image: ScanImage | undefined): Promise<EvidenceRef[]> {
    // Let the rest of this scan's end event run first: the scan-end snapshots are taken by
    // listeners that may come after the pipeline's.
    await new Promise<void>((r) => setImmediate(r));
    const folder = evidenceFolderName(result.scanId);
    const snaps = this.#snapshots.get(result.scanId) ?? [];
    this.#snapshots.delete(result.scanId);
    const withImage = image !== undefined && image.width > 0 && image.height > 0;
    const files: { name: string; data: Buffer | null; kind: EvidenceRef['kind'] }[] = withImage
      ? [{ name: 'scan.jpg', data: null, kind: 'scan' }]
      : [];
    const used = new Set<string>();
    for (const snap of snaps) {
      let name = `${snap.cameraId}-${snap.moment}.jpg`;
      for (let i = 2; used.has(name); i++) name = `${snap.cameraId}-${snap.moment}-${i}.jpg`;
      used.add(name);
      files.push({ name, data: snap.jpeg, kind: 'camera' });
    }
    if (!files.length) return [];
    this.#writing.add(folder);
    // Begun on the next turn of the event loop: the verdict and its alert are published first.
    const write = new Promise<void>((r) => setImmediate(r))
      .then(() => this.#write(result, withImage ? image : undefined, folder, files))
      .finally(() => {
        this.#writing.delete(folder);
        this.#pending.delete(folder);
      });
    this.#pending.set(folder, write);
    return files.map((f) => ({
      name: f.name,
      kind: f.kind,
      contentType: 'image/jpeg',
      url: `/evidence/${encodeURIComponent(folder)}/${encodeURIComponent(f.name)}`,
    }));
  }

  /** Renders the scan picture and writes every file of one scan. Logs, never throws. */
  async #write(
    result: ScanResult,
    image: ScanImage | undefined,
    folder: string,
    files: { name: string; data: Buffer | null }[],
  ): Promise<void> {
    const dir = join(this.root, folder);
    if (image) {
      try {
        const maxWidth = this.#options.scanMaxWidth ?? 2000;
        const render = this.#options.renderScan;
        files[0].data = render
          ? await render(image, result.regions, maxWidth)
          : (await renderScanJpeg(image, result.regions, { maxWidth })).jpeg;
      } catch (err) {
        this.#options.log.error(
          { err, scanId: result.scanId },
          `scan picture of ${result.scanId} could not be rendered: ${(err as Error).message}; its link will answer 404`,
        );
      }
    }
    const ready = files.filter((f): f is { name: string; data: Buffer } => f.data !== null);
    try {
      await mkdir(dir, { recursive: true, mode: DATA_DIR_MODE });
      await Promise.all(ready.map((f) => writeFile(join(dir, f.name), f.data, { mode: DATA_FILE_MODE })));
    } catch (err) {
      this.#options.log.error(
        { err, scanId: result.scanId, dir },
        `cannot write evidence of scan ${result.scanId} to ${dir}: ${(err as Error).message}; check the folder's permissions and free space`,
      );
      return;
    }
    this.#bytesSinceSweep += ready.reduce((sum, f) => sum + f.data.length, 0);
    if (this.#knownBytes + this.#bytesSinceSweep > this.#options.retention.maxBytes) void this.sweep();
  }

  /** Resolves once every evidence file named so far is on disk (or failed and was logged). */
  async flushed(): Promise<void> {
    await Promise.all([...this.#pending.values()]);
  }

  /** GET /evidence/<scanId>/<name>; false (not ours) lets another lane's store answer, then 404. */
  async #serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const parts = url.pathname.split('/').slice(2);
    if (parts.length !== 2) {
      sendJson(res, 404, { error: `no such evidence: ${url.pathname} (expected /evidence/<scanId>/<name>)` });
      return true;
    }
    let scan: string;
    let name: string;
    try {
      scan = decodeURIComponent(parts[0]);
      name = decodeURIComponent(parts[1]);
    } catch {
      sendJson(res, 400, { error: `malformed evidence path: ${url.pathname}` });
      return true;
    }
    if (!NAME.test(scan) || !NAME.test(name) || scan.includes('..') || name.includes('..')) {
      sendJson(res, 404, { error: `no such evidence: ${url.pathname}` });
      return true;
    }
    const file = join(this.root, scan, name);
    if (!file.startsWith(this.root + sep)) {
      sendJson(res, 404, { error: `no such evidence: ${url.pathname}` });
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(res, 405, { error: `${req.method} not allowed on evidence` });
      return true;
    }
    // Before looking at the disk, so that nobody without access learns which scans exist.
    const session = this.#options.http?.access.session(req) ?? null;
    if (!session) {
      const check: SignatureCheck = this.#options.signer
        ? this.#options.signer.verify(`/evidence/${scan}/${name}`, url.searchParams)
        : url.searchParams.has('sig')
          ? { ok: false, status: 403, reason: 'signed links are not accepted on this server' }
          : { ok: false, status: 401, reason: 'no credentials: log in to the console' };
      if (!check.ok) {
        if (check.status === 401) res.setHeader('www-authenticate', 'Cookie realm="console", Signed-Link');
        sendJson(res, check.status, { error: `evidence ${url.pathname}: ${check.reason}` });
        return true;
      }
    }
    await this.#pending.get(scan);
    let size: number;
    try {
      const s = await stat(file);
      if (!s.isFile()) return false;
      size = s.size;
    } catch {
      return false;
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': 'private, max-age=86400, immutable',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((done) => {
      const rs = createReadStream(file);
      rs.on('error', (err) => {
        this.#options.log.error({ err, file }, `reading evidence ${file} failed: ${err.message}`);
        res.destroy(err);
        done();
      });
      rs.on('end', () => done());
      rs.pipe(res);
    });
    return true;
  }
}
