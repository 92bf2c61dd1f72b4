import WebSocket from 'ws';

/**
 * A full garbage collection in another Node process, in its main thread and each worker thread,
 * through the inspector protocol (HeapProfiler.collectGarbage; workers reached through the
 * NodeWorker domain). The memory bench uses it to read what the runtime keeps, without the
 * buffers that are dead but not yet collected: V8 frees an ArrayBuffer's memory only when a
 * collection finds it dead, and starts one for buffers outside its heap only after some 64 MiB
 * of them have accumulated in a thread.
 *
 * The process must have been started with --inspect-port=127.0.0.1:0 and sent SIGUSR1; `url` is
 * the ws:// address it then prints ("Debugger listening on ws://...").
 */
export class InspectorGc {
  readonly #ws: WebSocket;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  readonly #workers = new Set<string>();
  readonly #workerPending = new Map<string, () => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => this.#onMessage(JSON.parse(data.toString())));
    ws.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('the inspector connection closed'));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<InspectorGc> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) => reject(new Error(`inspector at ${url}: ${err.message}`)));
    });
    const gc = new InspectorGc(ws);
    await gc.#call('NodeWorker.enable', { waitForDebuggerOnStart: false });
    // Workers already running are announced right after enable.
    await new Promise((r) => setTimeout(r, 500));
    return gc;
  }

  /** Collects garbage in the main thread and every worker thread; resolves with the threads collected. */
  async collect(timeoutMs = 20_000): Promise<number> {
    await this.#call('HeapProfiler.collectGarbage', {});
    let n = 1;
    for (const sessionId of this.#workers) {
      const id = this.#nextId++;
      const done = new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          this.#workerPending.delete(`${sessionId}:${id}`);
          reject(new Error(`worker ${sessionId}: no answer to collectGarbage in ${timeoutMs} ms`));
        }, timeoutMs);
        this.#workerPending.set(`${sessionId}:${id}`, () => {
          clearTimeout(t);
          resolve();
        });
      });
      await this.#call('NodeWorker.sendMessageToWorker', {
        sessionId,
        message: JSON.stringify({ id, method: 'HeapProfiler.collectGarbage', params: {} }),
      });
      await done;
      n++;
    }
    return n;
  }

  close(): void {
    this.#ws.close();
  }

  #call(method: string, params: object): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  #onMessage(m: {
    id?: number;
    method?: string;
    params?: { sessionId?: string; message?: string };
    error?: { message: string };
  }): void {
    if (m.id !== undefined) {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.error) p?.reject(new Error(`inspector: ${m.error.message}`));
      else p?.resolve(m);
      return;
    }
    const sessionId = m.params?.sessionId;
    if (!sessionId) return;
    if (m.method === 'NodeWorker.attachedToWorker') this.#workers.add(sessionId);
    else if (m.method === 'NodeWorker.detachedFromWorker') this.#workers.delete(sessionId);
    else if (m.method === 'NodeWorker.receivedMessageFromWorker' && m.params?.message) {
      const inner = JSON.parse(m.params.message) as { id?: number };
      if (inner.id === undefined) return;
      const key = `${sessionId}:${inner.id}`;
      this.#workerPending.get(key)?.();
      this.#workerPending.delete(key);
    }
  }
}
