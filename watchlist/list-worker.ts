import { createHash, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { transferablesOf } from './compact-list.js';
import { openListMessage, type OpenedMessage } from './list-message.js';

/**
 * Worker thread of the ListKeeper: hashes one large list message (a message applied before is
 * known by its digest and not read again), then, told to go on, verifies, validates and indexes
 * it, so that the lane's event loop goes on deciding scans and matching reads meanwhile. The
 * compact index goes back by transfer, without a copy.
 */
export interface ListJob {
  bytes: Uint8Array;
  keys: [string, KeyObject][];
  maxBytes: number;
}

export type ListJobReply = { digest: string } | { opened: OpenedMessage } | { error: string };

const port = parentPort!;
const reply = (m: ListJobReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.once('message', (job: ListJob) => {
  try {
    reply({ digest: createHash('sha256').update(job.bytes).digest('base64') });
  } catch (err) {
    reply({ error: (err as Error).stack ?? String(err) });
    return;
  }
  port.once('message', () => {
    try {
      const opened = openListMessage(job.bytes, new Map(job.keys), job.maxBytes, true);
      reply({ opened }, opened.ok && opened.version.kind === 'snapshot' ? transferablesOf(opened.version.data) : []);
    } catch (err) {
      reply({ error: (err as Error).stack ?? String(err) });
    }
  });
});
