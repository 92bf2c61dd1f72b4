import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Headers on every page of the lane console and of central: nothing from elsewhere, no framing, no sniffing. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * Serves a built web UI (the lane console, central): `/` is index.html, `/assets/*` are vite's hashed
 * files (cached for good), plus the named top-level `files`. Returns false for anything else so other
 * routes and the 404 answer apply.
 */
export async function serveStatic(
  distDir: string,
  pathname: string,
  res: ServerResponse,
  files: readonly string[] = [],
): Promise<boolean> {
  const rel = pathname === '/' || pathname === '/index.html' ? 'index.html' : pathname.slice(1);
  if (rel !== 'index.html' && !rel.startsWith('assets/') && !files.includes(rel)) return false;
  const file = normalize(join(distDir, rel));
  if (!file.startsWith(distDir + sep)) return false;
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-store',
  });
  res.end(body);
  return true;
}
