import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
const W = fileURLToPath(new URL('../../watchlist/list-worker.mjs', import.meta.url));
for (let k = 0; k < 3; k++) {
  const t = performance.now();
  const w = new Worker(W);
  await new Promise<void>((res) => {
    w.once('message', () => res());
    const b = new Uint8Array(16);
    w.postMessage({ bytes: b, keys: [], maxBytes: 100 }, [b.buffer]);
  });
  console.log('worker ready (digest back) after', (performance.now() - t).toFixed(0), 'ms');
  await w.terminate();
}
