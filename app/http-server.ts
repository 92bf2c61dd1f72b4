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
  readonly #allowedHosts: ReadonlySet<string>;
  #refusedHosts = 0;

  /**
   * allowedHosts: the host names a request's Host header may name (http.allowedHosts); default
   * localhost, 127.0.0.1, ::1 and the bind address. Anything else is refused, so that a web page
   * that rebinds its own DNS name to the lane PC cannot use the console or the API.
   */
  constructor(opts: { host: string; port: number; log: Logger; allowedHosts?: readonly string[] }) {
    this.#host = opts.host;
    this.#port = opts.port;
    this.#log = opts.log;
    this.#allowedHosts = new Set([...(opts.allowedHosts ?? defaultAllowedHosts(opts.host))].map(normaliseHost));
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
    const host =
      a.address === '0.0.0.0' || a.address === '::'
        ? '127.0.0.1'
        : a.address.includes(':')
          ? `[${a.address}]`
          : a.address;
    return `http://${host}:${a.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `HTTP port ${this.#host}:${this.#port} is already in use: set http.port in the config (or --port) to a free port`
              : `HTTP server cannot listen on ${this.#host}:${this.#port}: ${err.message}`,
          ),
        );
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

  /** The host names accepted in the Host header, lower case, IPv6 without brackets. */
  get allowedHosts(): string[] {
    return [...this.#allowedHosts];
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const host = hostName(req.headers.host);
    if (host === null || !this.#allowedHosts.has(host)) {
      // Logged once per 100 refusals: a rebinding page may retry in a loop.
      if (this.#refusedHosts++ % 100 === 0)
        this.#log.warn(
          { host: req.headers.host ?? null, path: url.pathname, refused: this.#refusedHosts },
          `HTTP ${req.method} ${url.pathname} refused: Host ${JSON.stringify(req.headers.host ?? '')} is not in http.allowedHosts (${[...this.#allowedHosts].join(', ')})`,
        );
      sendJson(res, 421, {
        error: `host ${JSON.stringify(req.headers.host ?? '')} is not served here: add it to http.allowedHosts in the lane's config if this is how operators reach the lane`,
      });
      return;
    }
    try {
      for (const r of this.#routes) {
        if (
          url.pathname === r.prefix ||
          url.pathname.startsWith(r.prefix.endsWith('/') ? r.prefix : `${r.prefix}/`) ||
          r.prefix === '/'
        ) {
          if (await r.handler(req, res, url)) return;
        }
      }
      sendJson(res, 404, { error: `no such path: ${url.pathname}` });
    } catch (err) {
      this.#log.error(
        { err, path: url.pathname },
        `HTTP ${req.method} ${url.pathname} failed: ${(err as Error).message}`,
      );
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error; see the lane log' });
      else res.end();
    }
  }
}

/** localhost, 127.0.0.1, ::1 and the bind address (unless it is a wildcard address). */
export function defaultAllowedHosts(bindHost: string): string[] {
  const hosts = ['localhost', '127.0.0.1', '::1'];
  const bind = normaliseHost(bindHost);
  if (bind !== '0.0.0.0' && bind !== '::' && !hosts.includes(bind)) hosts.push(bind);
  return hosts;
}

/** Lower case, without brackets around an IPv6 address and without a trailing dot. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** The host name of a Host header without its port ("[::1]:8080" -> "::1"); null when absent or malformed. */
export function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.trim();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0 || (end + 1 < h.length && !/^:\d{1,5}$/.test(h.slice(end + 1)))) return null;
    return normaliseHost(h.slice(0, end + 1));
  }
  const m = /^([^:\s/@]+)(?::\d{1,5})?$/.exec(h);
  return m ? normaliseHost(m[1]!) : null;
}
