import { parentPort } from 'node:worker_threads';
import { synthesizeEvalScan, type SynthRequest, type SynthReply } from './test-set.js';

/** Synthesizes the scans the main thread asks for, one seed at a time, and hands their pixels over. */
const port = parentPort;
if (!port) throw new Error('synth-worker: must run as a worker thread (started by the evaluation)');
port.on('message', (m: SynthRequest | { stop: true }) => {
  if ('stop' in m) {
    port.close();
    return;
  }
  let reply: SynthReply;
  try {
    const scan = synthesizeEvalScan(m.seed, m.settings);
    const transfer = [
      scan.image.high.buffer,
      ...(scan.image.low ? [scan.image.low.buffer] : []),
      ...(scan.image.missing ? [scan.image.missing.buffer] : []),
    ] as ArrayBuffer[];
    port.postMessage({ ok: true, scan } satisfies SynthReply, transfer);
    return;
  } catch (err) {
    reply = { ok: false, seed: m.seed, error: (err as Error).stack ?? String(err) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
