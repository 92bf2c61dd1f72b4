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
 * or decision; the page then reloads the view it shows. A keep-alive comment every 15 s.
 */
export class LiveUpdates {
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | null = null;

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

  publish(u: Omit<LiveUpdate, 'at'>): void {
    const line = `data: ${JSON.stringify({ ...u, at: new Date().toISOString() })}\n\n`;
    for (const c of this.#clients) c.write(line);
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const c of this.#clients) c.end();
    this.#clients.clear();
  }
}
