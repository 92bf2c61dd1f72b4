import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { renderScanPng } from '../console/server/scan-views.js';
import { renderScanJpeg } from '../outputs/evidence/evidence-picture.js';
import type { MemoryQuery, MemoryReply, PictureJob, PictureReply } from './picture-jobs.js';

/**
 * The picture renderer's thread (app/picture-renderer.ts): evidence JPEGs and the console's scan
 * views, one job at a time, at the lowest CPU priority so that the lanes' inference and event
 * loop come first on a small box.
 */
function lowestPriority(): string | null {
  try {
    // /proc/thread-self -> "<pid>/task/<tid>"; Linux applies setpriority() on a thread id to that thread only.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return 'no thread id in /proc/thread-self';
    setPriority(tid, 19);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

// One libvips thread per operation: the pictures are not urgent, the cores are the lanes'.
sharp.concurrency(1);
sharp.cache(false);

const priorityProblem = lowestPriority();
parentPort!.postMessage({ ready: true, priorityProblem });

parentPort!.on('message', async (job: PictureJob | MemoryQuery) => {
  if (job.kind === 'memory') {
    const h = getHeapStatistics();
    const answer: MemoryReply = {
      kind: 'memory',
      query: job.query,
      heapBytes: h.total_heap_size,
      externalBytes: h.external_memory,
    };
    parentPort!.postMessage(answer);
    return;
  }
  let reply: PictureReply;
  try {
    const data =
      job.kind === 'evidence-jpeg'
        ? (await renderScanJpeg(job.image, job.regions, { maxWidth: job.maxWidth })).jpeg
        : await renderScanPng(job.image, job.view);
    // Copied to the main thread (sharp's buffers live outside the V8 heap and cannot be transferred).
    reply = { id: job.id, ok: true, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    parentPort!.postMessage(reply);
  } catch (err) {
    reply = { id: job.id, ok: false, error: (err as Error).message };
    parentPort!.postMessage(reply);
  }
});
