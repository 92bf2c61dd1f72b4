import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpAccess } from '../core/http-access.js';
import { sendJson, type HttpRoutes, type RouteHandler } from '../core/http-routes.js';
import type { Logger } from '../core/logger.js';
import type { Service } from '../core/service.js';

/**
 * The runtime's one HTTP port: /healthz, /metrics, the console, its API and evidence files.
 * Parts register handlers by path prefix; the longest matching prefix answers first.
 */
export class RuntimeHttpServer implements Service, HttpRoutes {
  readonly name = 'http';
  readonly server: Server;
  /** Log-in sessions that may read protected files (evidence); the console registers its own. */
  readonly access = new HttpAccess();
  readonly #routes: { prefix: string; owner: string; handler: RouteHandler }[] = [];
  readonly #log: Logger;
  readonly #host: string;
  readonly #port: number;

  constructor(opts: { host: string; port: number; log: Logger }) {
    this.#host = opts.host;
    this.#port = opts.port;
    this.#log = opts.log;
    this.server = createServer((req, res) => void this.#handle(req, res));
  }

  route(prefix: string, owner: string, handler: RouteHandler): void {
    this.#routes.push({ prefix, owner, handler });
    this.#routes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The URL the server listens on, once started. */
  get url(): string {
    const a = this.server.address() as AddressInfo | null;
    if (!a) return `http://${this.#host}:${this.#port}`;
    const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.address.includes(':') ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(new Error(err.code === 'EADDRINUSE' ? `HTTP port ${this.#host}:${this.#port} is already in use: set http.port in the config (or --port) to a free port` : `HTTP server cannot listen on ${this.#host}:${this.#port}: ${err.message}`));
      };
      this.server.once('error', onError);
      this.server.listen(this.#port, this.#host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      for (const r of this.#routes) {
        if (url.pathname === r.prefix || url.pathname.startsWith(r.prefix.endsWith('/') ? r.prefix : `${r.prefix}/`) || r.prefix === '/') {
          if (await r.handler(req, res, url)) return;
        }
      }
      sendJson(res, 404, { error: `no such path: ${url.pathname}` });
    } catch (err) {
      this.#log.error({ err, path: url.pathname }, `HTTP ${req.method} ${url.pathname} failed: ${(err as Error).message}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error; see the lane log' });
      else res.end();
    }
  }
}
