import type { IncomingMessage, ServerResponse } from 'node:http';

export interface LiveUpdate {
  kind: string;
  siteId?: string;
  laneId?: string;
  id?: string;
  at: string;
}

const MAX_CLIENTS = 500;

/**
 * Server-sent events to the web UI: a small "what changed" note per stored message, escalation
 * or decision; the page then reloads the view it shows. A keep-alive comment every 15 s. Notes
 * of other central processes on the same database arrive through deliver() (LiveRelay).
 */
export class LiveUpdates {
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | null = null;
  #share: ((note: LiveUpdate) => void) | null = null;

  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.#clients.size >= MAX_CLIENTS) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end(`too many live streams (${MAX_CLIENTS})`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.#clients.add(res);
    req.on('close', () => this.#clients.delete(res));
    this.#timer ??= setInterval(() => {
      for (const c of this.#clients) c.write(': keep-alive\n\n');
    }, 15_000).unref();
  }

  /** Every note published here is also handed to share (the other central processes). */
  shareWith(share: ((note: LiveUpdate) => void) | null): void {
    this.#share = share;
  }

  /** A change in this process: to this process's pages and, through share, to every other's. */
  publish(u: Omit<LiveUpdate, 'at'>): void {
    const note: LiveUpdate = { ...u, at: new Date().toISOString() };
    this.deliver(note);
    this.#share?.(note);
  }

  /** A note to this process's pages only (one that came from another process). */
  deliver(note: LiveUpdate): void {
    const line = `data: ${JSON.stringify(note)}\n\n`;
    for (const c of this.#clients) c.write(line);
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const c of this.#clients) c.end();
    this.#clients.clear();
  }
}
