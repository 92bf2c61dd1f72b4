import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/logger.js';

export const CENTRAL_WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../web');
export const CENTRAL_DIST_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');
const STAMP = '.build-stamp';
const LOCK = `${CENTRAL_DIST_DIR}.lock`;

function newest(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    n = Math.max(n, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return n;
}

function stale(): string | null {
  const stamp = join(CENTRAL_DIST_DIR, STAMP);
  if (!existsSync(stamp)) return `${CENTRAL_DIST_DIR} has no built web UI`;
  if (!existsSync(CENTRAL_WEB_DIR)) return null;
  return newest(CENTRAL_WEB_DIR) > statSync(stamp).mtimeMs ? 'web UI sources are newer than the build' : null;
}

/**
 * Builds central's web UI with vite when it is missing or older than its sources, into a private
 * folder swapped in at the end; one process builds at a time (a lock folder), the others wait.
 */
export async function ensureCentralWebBuild(log: Logger): Promise<void> {
  if (!stale()) return;
  const until = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new Error(`cannot create the build lock ${LOCK}: ${(err as Error).message}`, { cause: err });
      let age = 0;
      try {
        age = Date.now() - statSync(LOCK).mtimeMs;
      } catch {
        continue;
      }
      if (age > 60_000) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > until)
        throw new Error(
          `another process has held the web UI build lock ${LOCK} for over 2 minutes; remove it if no build runs`,
        );
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const reason = stale();
    if (!reason) return;
    log.info(`building the central web UI: ${reason}`);
    let vite: typeof import('vite');
    try {
      vite = await import('vite');
    } catch (err) {
      throw new Error(
        `the central web UI is not built (${CENTRAL_DIST_DIR}) and vite is not installed: run 'npm ci' with dev dependencies`,
        { cause: err },
      );
    }
    const tmp = `${CENTRAL_DIST_DIR}.tmp-${process.pid}`;
    await vite.build({
      configFile: join(CENTRAL_WEB_DIR, 'vite.config.ts'),
      root: CENTRAL_WEB_DIR,
      logLevel: 'warn',
      build: { outDir: tmp, emptyOutDir: true },
    });
    writeFileSync(join(tmp, STAMP), `${new Date().toISOString()}\n`);
    const old = `${CENTRAL_DIST_DIR}.old-${process.pid}`;
    if (existsSync(CENTRAL_DIST_DIR)) renameSync(CENTRAL_DIST_DIR, old);
    renameSync(tmp, CENTRAL_DIST_DIR);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
