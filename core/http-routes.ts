import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpAccess } from './http-access.js';

/** Returns true when it answered the request. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

/** The lane's one HTTP port as parts see it: they register handlers by path prefix. */
export interface HttpRoutes {
  /** The longest matching prefix answers first. */
  route(prefix: string, owner: string, handler: RouteHandler): void;
  /** The URL the server listens on, once started. */
  readonly url: string;
  /** Log-in sessions that may read protected files (evidence); the console registers its own. */
  readonly access: HttpAccess;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** Reads a request body as JSON, at most maxBytes; throws a message fit for a 400 answer. */
export async function readJson(req: IncomingMessage, maxBytes = 1 << 20): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > maxBytes) throw new Error(`request body over ${maxBytes} bytes`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`request body is not JSON: ${(err as Error).message}`);
  }
}
