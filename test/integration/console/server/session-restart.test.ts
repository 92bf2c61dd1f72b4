import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserDirectory } from '../../../../console/server/users.js';
import { configSchema, type Config } from '../../../../config/schema.js';
import { SiteRuntime } from '../../../../app/site-runtime.js';
import { silentLogger } from '../../../../core/logger.js';

// A site runtime with the console (no model, no MQTT), stopped and started again on the same
// data folder: the operator's session cookie from before the restart still opens the console.
let dir: string;
let config: Config;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'session-restart-'));
  await new UserDirectory(join(dir, 'users.json')).set('olga', 'operator', 'olga-password-1');
  config = configSchema.parse({
    site: { id: 'restart-site' },
    dataDir: join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0 },
    console: { usersFile: join(dir, 'users.json') },
    lanes: [{ id: 'lane-1', scanner: { fileDrop: { dir: join(dir, 'drop') } } }],
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function started(): Promise<SiteRuntime> {
  const runtime = new SiteRuntime({ config, log: silentLogger(), version: 'test', announce: () => {} });
  await runtime.start();
  return runtime;
}

const post = (base: string, path: string, body: unknown, cookie?: string) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-console-request': '1', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });

describe('console sessions across a runtime restart', () => {
  it('keeps a logged-in operator logged in, and a log-out stays a log-out', async () => {
    let runtime = await started();
    const login = await post(runtime.http.url, '/api/login', { user: 'olga', password: 'olga-password-1' });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const second = (await post(runtime.http.url, '/api/login', { user: 'olga', password: 'olga-password-1' })).headers
      .get('set-cookie')!
      .split(';')[0]!;
    expect((await fetch(`${runtime.http.url}/api/session`, { headers: { cookie } })).status).toBe(200);
    await runtime.stop();

    runtime = await started();
    try {
      const session = await fetch(`${runtime.http.url}/api/session`, { headers: { cookie } });
      expect(session.status).toBe(200);
      expect(await session.json()).toMatchObject({ user: 'olga', role: 'operator' });
      expect((await post(runtime.http.url, '/api/logout', {}, second)).status).toBe(200);
    } finally {
      await runtime.stop();
    }

    runtime = await started();
    try {
      expect((await fetch(`${runtime.http.url}/api/session`, { headers: { cookie } })).status).toBe(200);
      const gone = await fetch(`${runtime.http.url}/api/session`, { headers: { cookie: second } });
      expect(gone.status).toBe(401);
      expect(((await gone.json()) as { error: string }).error).toContain('log in again');
    } finally {
      await runtime.stop();
    }
  }, 60_000);
});
