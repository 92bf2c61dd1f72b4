import { createHash, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { transferablesOf } from './compact-list.js';
import { openListMessage, type OpenedMessage } from './list-message.js';

/**
 * Worker thread of the ListKeeper, kept between messages: hashes each large list message (a
 * message applied before is known by its digest and not read again), then, told to go on,
 * verifies, validates and indexes it, so that the lane's event loop goes on deciding scans and
 * matching reads meanwhile. The compact index goes back by transfer, without a copy.
 */
export interface ListJob {
  bytes: Uint8Array;
  keys: [string, KeyObject][];
  maxBytes: number;
}

/** To the thread: a job (it answers the digest), go on with it (it answers opened), or drop it. */
export type ListJobMessage = { job: ListJob } | { go: true } | { drop: true };

/** `ready` once, when the thread has loaded its code; then the replies to each job. */
export type ListJobReply = { ready: true } | { digest: string } | { opened: OpenedMessage } | { error: string };

const port = parentPort!;
const reply = (m: ListJobReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
let job: ListJob | null = null;

port.on('message', (m: ListJobMessage) => {
  if ('job' in m) {
    job = m.job;
    try {
      reply({ digest: createHash('sha256').update(job.bytes).digest('base64') });
    } catch (err) {
      job = null;
      reply({ error: (err as Error).stack ?? String(err) });
    }
    return;
  }
  const j = job;
  job = null; // the thread keeps no message between jobs
  if (!('go' in m)) return;
  if (!j) return reply({ error: 'told to go on with no message' });
  try {
    const opened = openListMessage(j.bytes, new Map(j.keys), j.maxBytes, true);
    reply({ opened }, opened.ok && opened.version.kind === 'snapshot' ? transferablesOf(opened.version.data) : []);
  } catch (err) {
    reply({ error: (err as Error).stack ?? String(err) });
  }
});
reply({ ready: true });
