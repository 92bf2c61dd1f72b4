import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../core/logger.js';
import { ensureWebUiBuilt, type WebUi } from '../../core/web/build.js';

/** Central command's web UI: its sources (central/web) and its built files (central/dist). */
export const CENTRAL_WEB: WebUi = {
  name: 'central web UI',
  webDir: resolve(dirname(fileURLToPath(import.meta.url)), '../web'),
  distDir: resolve(dirname(fileURLToPath(import.meta.url)), '../dist'),
};
export const CENTRAL_DIST_DIR = CENTRAL_WEB.distDir;

/** Builds central's web UI when it is missing or older than its sources. */
export const ensureCentralWebBuild = (log: Logger): Promise<void> => ensureWebUiBuilt(CENTRAL_WEB, log);
