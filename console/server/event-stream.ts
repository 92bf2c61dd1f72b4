import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session } from './sessions.js';

/** Unsent bytes a client may have queued before it is dropped (about ten scans of live view). */
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;

interface Client {
  res: ServerResponse;
  session: Session;
}

/**
 * Server-sent events to every logged-in console. Each client's session is checked on every
 * heartbeat: when it expires the stream ends and the page goes back to the log-in.
 */
export class EventStream {
  readonly #clients = new Set<Client>();
  readonly #heartbeatMs: number;
  readonly #isLive: (s: Session) => boolean;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: { heartbeatMs?: number; isLive: (s: Session) => boolean }) {
    this.#heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.#isLive = opts.isLive;
  }

  get clients(): number {
    return this.#clients.size;
  }

  start(): void {
    this.#timer = setInterval(() => this.#heartbeat(), this.#heartbeatMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
  }

  /** Takes over a request as an event stream; `hello` is the first event it gets. */
  open(req: IncomingMessage, res: ServerResponse, session: Session, hello: unknown): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const client: Client = { res, session };
    this.#clients.add(client);
    req.socket.setNoDelay(true);
    req.on('close', () => this.#clients.delete(client));
    res.write('retry: 2000\n\n');
    this.#write(client, 'hello', hello);
  }

  broadcast(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const text = frame(event, data);
    for (const c of this.#clients) {
      // A client that stopped reading (a frozen tab, a dead link) is dropped rather than let
      // its backlog grow without bound; its browser reconnects and gets a fresh hello.
      if (c.res.writableLength > MAX_BACKLOG_BYTES) {
        c.res.destroy();
        this.#clients.delete(c);
        continue;
      }
      c.res.write(text);
    }
  }

  /** Ends the streams of one user's sessions (log-out). */
  closeSession(sessionId: string): void {
    for (const c of this.#clients) {
      if (c.session.id === sessionId) {
        this.#write(c, 'session-ended', { reason: 'logged out' });
        c.res.end();
        this.#clients.delete(c);
      }
    }
  }

  #write(c: Client, event: string, data: unknown): void {
    c.res.write(frame(event, data));
  }

  #heartbeat(): void {
    for (const c of this.#clients) {
      if (!this.#isLive(c.session)) {
        this.#write(c, 'session-ended', { reason: 'session expired' });
        c.res.end();
        this.#clients.delete(c);
      } else {
        // A named event, not a comment: the page sees it and knows the link is alive.
        this.#write(c, 'ping', { at: new Date().toISOString() });
      }
    }
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
