import { CentralStore } from '../../../central/store/central-store.js';
import { openPgliteDriver } from '../../../central/store/pglite-driver.js';
import { storeContract } from './store-contract.js';

storeContract('PGlite (embedded)', async () => {
  const store = new CentralStore(await openPgliteDriver({ memory: true }));
  await store.migrate();
  return store;
});
