import type { Dirent } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface RetentionPolicy {
  /** Scans whose newest file is older than this are deleted. */
  maxAgeMs: number;
  /** Above this many bytes in all, the oldest scans are deleted first. */
  maxBytes: number;
}

export interface RetentionReport {
  /** Scan folders deleted, oldest first, with why. */
  deleted: { scanId: string; bytes: number; reason: 'age' | 'size' }[];
  keptScans: number;
  keptBytes: number;
}

interface ScanFolder {
  scanId: string;
  bytes: number;
  /** Newest modification time of the folder's files. */
  mtimeMs: number;
}

async function scanFolders(root: string): Promise<ScanFolder[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: ScanFolder[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const dir = join(root, e.name);
    let bytes = 0;
    let mtimeMs = (await stat(dir)).mtimeMs;
    for (const f of await readdir(dir, { withFileTypes: true })) {
      if (!f.isFile()) continue;
      const s = await stat(join(dir, f.name));
      bytes += s.size;
      mtimeMs = Math.max(mtimeMs, s.mtimeMs);
    }
    out.push({ scanId: e.name, bytes, mtimeMs });
  }
  return out;
}

/**
 * Applies the retention policy to an evidence folder (one sub-folder per scan): first every scan
 * older than maxAgeMs, then the oldest scans until the rest fits in maxBytes. `keep` names scans
 * being written now, which are never deleted.
 */
export async function applyRetention(
  root: string,
  policy: RetentionPolicy,
  opts: { now?: number; keep?: ReadonlySet<string> } = {},
): Promise<RetentionReport> {
  const now = opts.now ?? Date.now();
  const folders = (await scanFolders(root)).sort((a, b) => a.mtimeMs - b.mtimeMs || a.scanId.localeCompare(b.scanId));
  const report: RetentionReport = { deleted: [], keptScans: 0, keptBytes: 0 };
  let total = folders.reduce((s, f) => s + f.bytes, 0);
  for (const f of folders) {
    if (opts.keep?.has(f.scanId)) continue;
    const old = now - f.mtimeMs > policy.maxAgeMs;
    if (!old && total <= policy.maxBytes) continue;
    await rm(join(root, f.scanId), { recursive: true, force: true });
    total -= f.bytes;
    report.deleted.push({ scanId: f.scanId, bytes: f.bytes, reason: old ? 'age' : 'size' });
  }
  report.keptBytes = total;
  report.keptScans = folders.length - report.deleted.length;
  return report;
}
