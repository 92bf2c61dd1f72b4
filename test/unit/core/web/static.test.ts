import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS, serveStatic } from '../../../../core/web/static.js';

const dist = mkdtempSync(join(tmpdir(), 'web-static-'));
mkdirSync(join(dist, 'assets'));
writeFileSync(join(dist, 'index.html'), '<!doctype html>');
writeFileSync(join(dist, 'assets', 'app-1a2b.js'), 'x');
writeFileSync(join(dist, 'favicon.svg'), '<svg/>');
writeFileSync(join(dist, 'secret.txt'), 'no');
afterAll(() => rmSync(dist, { recursive: true, force: true }));

function response(): ServerResponse & { status?: number; headers?: Record<string, string>; body?: Buffer } {
  const res = {
    writeHead(status: number, headers: Record<string, string>) {
      res.status = status;
      res.headers = headers;
    },
    end(body: Buffer) {
      res.body = body;
    },
  } as unknown as ServerResponse & { status?: number; headers?: Record<string, string>; body?: Buffer };
  return res;
}

describe('serveStatic', () => {
  it('serves index.html uncached and hashed assets cached for good, with the security headers', async () => {
    const page = response();
    expect(await serveStatic(dist, '/', page)).toBe(true);
    expect(page.headers).toMatchObject({
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    });
    const asset = response();
    expect(await serveStatic(dist, '/assets/app-1a2b.js', asset)).toBe(true);
    expect(asset.headers?.['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body?.toString()).toBe('x');
  });

  it('serves other top-level files only when named, and nothing outside the folder', async () => {
    expect(await serveStatic(dist, '/favicon.svg', response())).toBe(false);
    expect(await serveStatic(dist, '/favicon.svg', response(), ['favicon.svg'])).toBe(true);
    expect(await serveStatic(dist, '/secret.txt', response())).toBe(false);
    expect(await serveStatic(dist, '/assets/../../etc/passwd', response())).toBe(false);
    expect(await serveStatic(dist, '/assets/missing.js', response())).toBe(false);
  });
});
