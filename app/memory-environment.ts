import type { Logger } from '../core/logger.js';

/**
 * The glibc malloc settings the runtime is meant to run with (the service unit sets them; glibc
 * reads them only at process start). Two arenas instead of one per thread that ever allocated,
 * and a fixed mmap threshold, so that scan-sized buffers (images, pictures, tensors: 1-24 MB)
 * are mapped and given back when freed instead of staying in the heap. Measured on one lane over
 * 300 fast scans when they were chosen: end RSS 297 MiB with them, 467 MiB with MALLOC_ARENA_MAX
 * alone, more with neither. What a lane keeps with them: docs/deployment.md, memory per lane.
 */
export const MALLOC_ENVIRONMENT: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/** Warns once at start when the process was started without MALLOC_ENVIRONMENT (glibc systems only). */
export function checkMemoryEnvironment(log: Logger, env: NodeJS.ProcessEnv = process.env): void {
  if (process.platform !== 'linux') return;
  const missing = Object.entries(MALLOC_ENVIRONMENT)
    .filter(([k, v]) => env[k] !== v)
    .map(([k, v]) => `${k}=${v}`);
  if (missing.length === 0) return;
  log.warn(
    { missing },
    `started without ${missing.join(' ')} in the environment: the process may keep 100-200 MiB more memory than it needs; set them in the service unit (Environment=) or the shell that starts it`,
  );
}
