import { parentPort } from 'node:worker_threads';
import { renderScanPng } from '../console/server/scan-render.js';
import { renderScanJpeg } from '../outputs/evidence/scan-render.js';
import type { RenderJob } from './render-pool.js';

/** Renders scan pictures for the main thread (runtime/render-pool.ts), one job at a time. */
parentPort!.on('message', async (m: { id: number; job: RenderJob }) => {
  try {
    const j = m.job;
    const data = j.kind === 'scan-jpeg' ? (await renderScanJpeg(j.image, j.regions, j.opts)).jpeg : await renderScanPng(j.image, j.view);
    parentPort!.postMessage({ id: m.id, data });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
