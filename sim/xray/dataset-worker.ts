import { parentPort, workerData } from 'node:worker_threads';
import { type WorkerData, type WorkerReply, type WorkerRequest, writeScan } from './dataset.js';

/** Generates and writes the scans the main thread hands out, one seed at a time. */
const port = parentPort;
if (!port) throw new Error('dataset-worker: must run as a worker thread (started by writeDataset)');
const data = workerData as WorkerData;
port.on('message', (m: WorkerRequest) => {
  if ('stop' in m) {
    port.close();
    return;
  }
  let reply: WorkerReply;
  try {
    reply = { ok: true, line: writeScan(data.out, m.seed, data.format, data.settings) };
  } catch (err) {
    reply = { ok: false, seed: m.seed, error: (err as Error).stack ?? String(err) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
