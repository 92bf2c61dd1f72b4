import { CentralStore } from '../../../central/store/central-store.js';
import { openPostgresDriver } from '../../../central/store/postgres-driver.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { storeContract } from './store-contract.js';

let pg: TestPostgres | undefined;
storeContract(
  'PostgreSQL 15 (Debian, started by the test)',
  async () => {
    pg = await startPostgres();
    const store = new CentralStore(await openPostgresDriver({ url: pg.url, poolSize: 4 }));
    await store.migrate();
    return store;
  },
  async () => {
    await pg?.stop();
  },
);
