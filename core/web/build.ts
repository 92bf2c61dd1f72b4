import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';

/** The sources every web UI shares (core/web: the operator theme). */
const SHARED_DIR = dirname(fileURLToPath(import.meta.url));
const STAMP = '.build-stamp';
/** A build lock older than this was left by a process that died while building (a build takes seconds). */
const STALE_LOCK_MS = 60_000;

/** One web UI: its vite sources and the folder its built files are served from. */
export interface WebUi {
  /** What the log and errors call it, e.g. "console front end". */
  name: string;
  /** Its sources, with vite.config.ts; absent in an install that ships only the built files. */
  webDir: string;
  /** The built files (index.html, hashed assets), served by core/web/static.ts. */
  distDir: string;
}

/** Newest modification time under a folder; `skip` leaves out files by name. */
function newestMtime(dir: string, skip: (name: string) => boolean = () => false): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.') || skip(entry.name)) continue;
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Why the built UI must be (re)built, or null when it is current. */
export function staleReason(ui: WebUi, distDir = ui.distDir, sharedDir = SHARED_DIR): string | null {
  const stamp = join(distDir, STAMP);
  if (!existsSync(join(distDir, 'index.html')) || !existsSync(stamp)) return `${distDir} has no built ${ui.name}`;
  if (!existsSync(ui.webDir)) return null; // an install with only the built files
  const built = statSync(stamp).mtimeMs;
  if (newestMtime(ui.webDir) > built) return `${ui.name} sources in ${ui.webDir} are newer than ${distDir}`;
  // The shared web sources (theme.css), not this folder's server-side modules.
  if (newestMtime(sharedDir, (name) => name.endsWith('.ts')) > built)
    return `the shared web sources in ${sharedDir} are newer than ${distDir}`;
  return null;
}

/**
 * Builds a UI with vite into distDir. It builds into a private folder and then swaps it in, so
 * that two processes starting at once (parallel test files) never serve half a build.
 */
export async function buildWebUi(ui: WebUi, log: Logger, distDir = ui.distDir): Promise<void> {
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch (err) {
    throw new Error(
      `the ${ui.name} is not built (${distDir}) and vite is not installed (${(err as Error).message}): run 'npm ci' (with dev dependencies) where the sources are, then copy ${distDir}`,
      { cause: err },
    );
  }
  const tmp = `${distDir}.tmp-${process.pid}-${Date.now()}`;
  const t0 = performance.now();
  await vite.build({
    configFile: join(ui.webDir, 'vite.config.ts'),
    root: ui.webDir,
    logLevel: 'warn',
    build: { outDir: tmp, emptyOutDir: true },
  });
  writeFileSync(join(tmp, STAMP), `${new Date().toISOString()}\n`);
  const old = `${distDir}.old-${process.pid}-${Date.now()}`;
  if (existsSync(distDir)) renameSync(distDir, old);
  renameSync(tmp, distDir);
  rmSync(old, { recursive: true, force: true });
  log.info({ ms: Math.round(performance.now() - t0), dir: distDir }, `${ui.name} built into ${distDir}`);
}

/**
 * Builds a UI when it is missing or older than its sources. One process builds at a time (a lock
 * folder beside distDir); the others wait and then find it current.
 */
export async function ensureWebUiBuilt(ui: WebUi, log: Logger): Promise<void> {
  if (!staleReason(ui)) return;
  const lock = `${ui.distDir}.lock`;
  const until = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new Error(`cannot create the build lock ${lock}: ${(err as Error).message}`, { cause: err });
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > STALE_LOCK_MS) {
        log.warn(`removing the stale ${ui.name} build lock ${lock} (${Math.round(age / 1000)} s old)`);
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > until)
        throw new Error(
          `another process has been building the ${ui.name} for over ${(2 * STALE_LOCK_MS) / 1000} s (lock ${lock}); remove the lock if no build is running`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const reason = staleReason(ui);
    if (!reason) return; // built by the process that held the lock
    log.info(`building the ${ui.name}: ${reason}`);
    await buildWebUi(ui, log);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
