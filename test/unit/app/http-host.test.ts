import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../../config/schema.js';
import { allowedHosts } from '../../../app/site-runtime.js';
import { defaultAllowedHosts, hostName, RuntimeHttpServer } from '../../../app/http-server.js';
import { sendJson } from '../../../core/http-routes.js';
import { silentLogger } from '../../../core/logger.js';
import { rawRequest } from '../../helpers/http.js';

let server: RuntimeHttpServer | null = null;

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function serve(allowed?: string[]): Promise<string> {
  server = new RuntimeHttpServer({
    host: '127.0.0.1',
    port: 0,
    log: silentLogger(),
    ...(allowed ? { allowedHosts: allowed } : {}),
  });
  server.route('/api', 'test', (_req, res) => {
    sendJson(res, 202, { ok: true });
    return true;
  });
  await server.start();
  return server.url;
}

describe('Host header (DNS rebinding)', () => {
  it('refuses a request whose Host names a foreign site, before any route sees it', async () => {
    const base = await serve();
    const port = new URL(base).port;
    const foreign = await rawRequest(`${base}/api/anpr/lane-1`, {
      method: 'POST',
      headers: {
        host: `rebind.attacker.example:${port}`,
        origin: `http://rebind.attacker.example:${port}`,
        'content-type': 'application/json',
      },
      body: '{}',
    });
    expect(foreign.status).toBe(421);
    expect(foreign.body).toMatch(/http\.allowedHosts/);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`, `LOCALHOST.:${port}`]) {
      expect((await rawRequest(`${base}/api/x`, { method: 'POST', headers: { host } })).status, host).toBe(202);
    }
  });

  it('accepts exactly the configured names when http.allowedHosts is set', async () => {
    const base = await serve(['lane3.crossing.example', '10.20.0.5']);
    const port = new URL(base).port;
    expect((await rawRequest(`${base}/api/x`, { headers: { host: `lane3.crossing.example:${port}` } })).status).toBe(
      202,
    );
    expect((await rawRequest(`${base}/api/x`, { headers: { host: '10.20.0.5' } })).status).toBe(202);
    expect((await rawRequest(`${base}/api/x`, { headers: { host: `127.0.0.1:${port}` } })).status).toBe(421);
    expect(
      (await rawRequest(`${base}/api/x`, { headers: { host: 'lane3.crossing.example.attacker.example' } })).status,
    ).toBe(421);
  });

  it('parses Host headers strictly', () => {
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('Example.ORG')).toBe('example.org');
    expect(hostName('a@b:80')).toBeNull();
    expect(hostName('[::1]x')).toBeNull();
    expect(hostName(undefined)).toBeNull();
  });

  it('defaults to localhost, the loopback addresses, the bind address and the evidence base URL host', () => {
    expect(defaultAllowedHosts('0.0.0.0')).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(defaultAllowedHosts('10.20.0.5')).toEqual(['localhost', '127.0.0.1', '::1', '10.20.0.5']);
    const config = configSchema.parse({
      site: { id: 's' },
      http: { host: '0.0.0.0' },
      mqtt: { url: 'mqtt://127.0.0.1', evidenceBaseUrl: 'https://lane3.crossing.example:8080' },
      lanes: [{ id: 'l', scanner: { fileDrop: { dir: '/tmp/x' } } }],
    });
    expect(allowedHosts(config)).toEqual(['localhost', '127.0.0.1', '::1', 'lane3.crossing.example']);
  });
});
