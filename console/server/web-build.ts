import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/logger.js';

/** The console front end's sources and its built files. */
const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../web');
export const DIST_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');
const STAMP = '.build-stamp';

/** Newest modification time under a folder (the front end's sources). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Why the built front end must be (re)built, or null when it is current. */
function staleReason(distDir = DIST_DIR, webDir = WEB_DIR): string | null {
  const stamp = join(distDir, STAMP);
  if (!existsSync(join(distDir, 'index.html')) || !existsSync(stamp)) return `${distDir} has no built console`;
  if (!existsSync(webDir)) return null; // an install with only the built files
  const built = statSync(stamp).mtimeMs;
  return newestMtime(webDir) > built ? `console sources in ${webDir} are newer than ${distDir}` : null;
}

/**
 * Builds the front end with vite into DIST_DIR. It builds into a private folder and then swaps it
 * in, so that two processes starting at once (parallel test files) never serve half a build.
 */
export async function buildWeb(log: Logger, distDir = DIST_DIR): Promise<void> {
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch (err) {
    throw new Error(
      `the console front end is not built (${distDir}) and vite is not installed (${(err as Error).message}): run 'npm ci' (with dev dependencies) and 'npm run build:console' where the sources are, then copy console/dist`,
      { cause: err },
    );
  }
  const tmp = `${distDir}.tmp-${process.pid}-${Date.now()}`;
  const t0 = performance.now();
  await vite.build({
    configFile: join(WEB_DIR, 'vite.config.ts'),
    root: WEB_DIR,
    logLevel: 'warn',
    build: { outDir: tmp, emptyOutDir: true },
  });
  writeFileSync(join(tmp, STAMP), `${new Date().toISOString()}\n`);
  const old = `${distDir}.old-${process.pid}-${Date.now()}`;
  if (existsSync(distDir)) renameSync(distDir, old);
  renameSync(tmp, distDir);
  rmSync(old, { recursive: true, force: true });
  log.info({ ms: Math.round(performance.now() - t0), dir: distDir }, `console front end built into ${distDir}`);
}

const LOCK_DIR = `${DIST_DIR}.lock`;
/** A build lock older than this was left by a process that died while building (a build takes a few seconds). */
const STALE_LOCK_MS = 30_000;

/**
 * Builds the front end when it is missing or older than its sources. One process builds at a
 * time (a lock folder beside console/dist); the others wait and then find it current.
 */
export async function ensureWebBuild(log: Logger): Promise<void> {
  if (!staleReason()) return;
  const until = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new Error(`cannot create the build lock ${LOCK_DIR}: ${(err as Error).message}`, { cause: err });
      let age = 0;
      try {
        age = Date.now() - statSync(LOCK_DIR).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > STALE_LOCK_MS) {
        log.warn(`removing the stale console build lock ${LOCK_DIR} (${Math.round(age / 1000)} s old)`);
        rmSync(LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > until)
        throw new Error(
          `another process has been building the console front end for over ${(2 * STALE_LOCK_MS) / 1000} s (lock ${LOCK_DIR}); remove the lock if no build is running`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const reason = staleReason();
    if (!reason) return; // built by the process that held the lock
    log.info(`building the console front end: ${reason}`);
    await buildWeb(log);
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}
