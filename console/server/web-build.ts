import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/logger.js';
import { buildWebUi, ensureWebUiBuilt, type WebUi } from '../../core/web/build.js';

/** The console front end: its sources (console/web) and its built files (console/dist). */
export const CONSOLE_WEB: WebUi = {
  name: 'console front end',
  webDir: resolve(dirname(fileURLToPath(import.meta.url)), '../web'),
  distDir: resolve(dirname(fileURLToPath(import.meta.url)), '../dist'),
};
export const DIST_DIR = CONSOLE_WEB.distDir;

/** Builds the console front end now (npm run build:console). */
export const buildWeb = (log: Logger): Promise<void> => buildWebUi(CONSOLE_WEB, log);

/** Builds the console front end when it is missing or older than its sources. */
export const ensureWebBuild = (log: Logger): Promise<void> => ensureWebUiBuilt(CONSOLE_WEB, log);
