import type { Logger } from '../core/logger.js';

/**
 * Stops `stop` on SIGINT or SIGTERM, within timeoutMs; a second signal or the timeout forces
 * the exit with code 1. Resolves with the exit code once stopped.
 */
export function onShutdownSignal(
  log: Logger,
  timeoutMs: number,
  stop: (signal: string) => Promise<void>,
): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.error(`${signal} again: exiting without waiting for the shutdown to finish`);
        process.exit(1);
      }
      stopping = true;
      log.info(`${signal}: shutting down (at most ${timeoutMs} ms)`);
      const timer = setTimeout(() => {
        log.error(`shutdown took over ${timeoutMs} ms: exiting`);
        process.exit(1);
      }, timeoutMs);
      timer.unref();
      stop(signal).then(
        () => {
          clearTimeout(timer);
          resolve(0);
        },
        (err: unknown) => {
          clearTimeout(timer);
          log.error({ err }, `shutdown failed: ${(err as Error).message}`);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  });
}
