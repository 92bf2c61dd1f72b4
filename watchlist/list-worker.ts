import type { KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { transferablesOf } from './compact-list.js';
import { openListMessage } from './list-message.js';

/**
 * Worker thread of the ListKeeper: verifies, validates and indexes one large list message, so
 * that the lane's event loop goes on deciding scans and matching reads meanwhile. The compact
 * index comes back by transfer, without copying.
 */
export interface ListJob {
  bytes: Uint8Array;
  keys: [string, KeyObject][];
  maxBytes: number;
}

parentPort!.once('message', (job: ListJob) => {
  try {
    const opened = openListMessage(job.bytes, new Map(job.keys), job.maxBytes);
    const transfer = opened.ok && opened.version.kind === 'snapshot' ? transferablesOf(opened.version.data) : [];
    parentPort!.postMessage({ opened }, transfer);
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error).stack ?? String(err) });
  }
});
