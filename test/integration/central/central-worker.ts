/**
 * One central worker in its own process, for tests that kill it:
 * `node bin/run-ts.js test/integration/central/central-worker.ts <config.json> <name>`.
 * Prints `ready <url>` once started; stops cleanly on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { CentralCommand } from '../../../central/central-service.js';
import { parseCentralConfig } from '../../../central/config.js';
import { createLogger } from '../../../core/logger.js';

const [file, name] = process.argv.slice(2);
const config = parseCentralConfig(JSON.parse(readFileSync(file!, 'utf8')));
const log = createLogger({ level: process.env.CENTRAL_LOG_LEVEL ?? 'warn', stderr: true });
const central = new CentralCommand({ config, log, workerName: name, noWebUi: true });
await central.start();
process.stdout.write(`ready ${central.url}\n`);
process.once('SIGTERM', () => {
  void central.stop().then(() => process.exit(0));
});
