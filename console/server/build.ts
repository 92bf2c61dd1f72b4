/**
 * Builds the console front end (console/web -> console/dist):
 *   npm run build:console
 * The runtime also does this on start when console/dist is missing or older than its sources.
 */
import { createLogger } from '../../core/logger.js';
import { buildWeb } from './web-build.js';

await buildWeb(createLogger({ level: 'info', format: 'pretty', stderr: true }));
