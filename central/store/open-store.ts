import { join } from 'node:path';
import type { StoreConfig } from '../config.js';
import { CentralStore } from './central-store.js';
import { openPgliteDriver } from './pglite-driver.js';
import { openPostgresDriver } from './postgres-driver.js';

/** Opens the configured store and brings its schema up to date. */
export async function openStore(cfg: StoreConfig, dataDir: string): Promise<CentralStore> {
  const driver =
    cfg.kind === 'postgres'
      ? await openPostgresDriver({ url: cfg.url, poolSize: cfg.poolSize })
      : await openPgliteDriver({ memory: cfg.memory, dir: cfg.dir ?? join(dataDir, 'central-db') });
  const store = new CentralStore(driver);
  try {
    await store.migrate();
  } catch (err) {
    await driver.close().catch(() => {});
    throw new Error(`central store (${cfg.kind}): migrations failed: ${(err as Error).message}`, { cause: err });
  }
  return store;
}
