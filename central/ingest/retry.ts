import { Backoff } from '../../core/backoff.js';

/**
 * Runs a store operation until it succeeds or the caller stops (then null): a lane message is
 * never acknowledged to its transport before it is stored.
 */
export async function storeWithRetry<T>(
  op: () => Promise<T>,
  o: { stopped: () => boolean; onError: (err: Error, delayMs: number) => void },
): Promise<T | null> {
  const backoff = new Backoff(200, 10_000);
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (o.stopped()) return null;
      const delay = backoff.next();
      o.onError(err as Error, delay);
      await new Promise((r) => setTimeout(r, delay));
      if (o.stopped()) return null;
    }
  }
}
