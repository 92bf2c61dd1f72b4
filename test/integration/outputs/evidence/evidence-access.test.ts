import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserDirectory } from '../../../../console/server/users.js';
import { configSchema, type Config } from '../../../../config/schema.js';
import { EvidenceUrlSigner, evidenceKeyFile } from '../../../../outputs/evidence/evidence-urls.js';
import { scanPayloadSchema, type ScanPayload } from '../../../../core/mqtt-payloads.js';
import { SiteRuntime } from '../../../../app/site-runtime.js';
import type { CompletedScan, ScanMeta } from '../../../../core/domain.js';
import { EmbeddedBroker } from '../../../../app/embedded-broker.js';
import { createLogger } from '../../../../core/logger.js';
import { waitFor } from '../../../helpers/lane-context.js';
import { scanMeta } from '../../../helpers/builders.js';

// A whole site runtime on port 0 (no model: every scan is decided 'unavailable', with its
// scan picture as evidence), an embedded broker standing in for central command, and the console.
const TOKEN = 'anpr-token-0123456789abcdef';
let dir: string;
let broker: EmbeddedBroker;
let runtime: SiteRuntime;
let central: MqttClient;
let base: string;
let config: Config;
const logLines: { level: number; msg: string }[] = [];
const scans: ScanPayload[] = [];

function scan(laneId: string, scanId: string): { meta: ScanMeta; done: CompletedScan } {
  const meta: ScanMeta = scanMeta({ scanId, laneId });
  const high = new Uint16Array(400 * 64).fill(60000);
  for (let y = 10; y < 40; y++) for (let x = 100; x < 300; x++) high[y * 400 + x] = 8000;
  return {
    meta,
    done: { meta, endedAt: new Date().toISOString(), image: { width: 400, height: 64, pixelMm: 5, high } },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'evidence-access-'));
  const users = new UserDirectory(join(dir, 'users.json'));
  await users.set('olga', 'operator', 'olga-password-1');
  broker = new EmbeddedBroker({ port: 0 });
  await broker.start();
  config = configSchema.parse({
    site: { id: 'ev-site' },
    dataDir: join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { url: broker.url, protocolVersion: 4 },
    console: { usersFile: join(dir, 'users.json') },
    evidence: { retentionDays: 7 },
    lanes: [
      { id: 'lane-1', scanner: { fileDrop: { dir: join(dir, 'drop1') } }, anpr: { token: TOKEN } },
      { id: 'lane-2', scanner: { fileDrop: { dir: join(dir, 'drop2') } } },
    ],
  });
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean))
      logLines.push(JSON.parse(line) as { level: number; msg: string });
  });
  runtime = new SiteRuntime({
    config,
    log: createLogger({ level: 'info', destination: out }),
    version: 'test',
    announce: () => {},
  });
  await runtime.start();
  base = runtime.http.url;
  central = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'ev-central', reconnectPeriod: 0 });
  central.on('message', (_topic, payload) => void scans.push(scanPayloadSchema.parse(JSON.parse(payload.toString()))));
  await central.subscribeAsync('checkpoint/ev-site/lane-1/scan', { qos: 1 });
  const s = scan('lane-1', 'ev-scan-1');
  const bus = runtime.lanes[0]!.bus;
  bus.emit('scan.begin', s.meta);
  bus.emit('scan.end', s.done);
  await waitFor('the scan message at central command', () => scans.find((p) => p.scanId === 'ev-scan-1'), 15_000);
}, 40_000);

afterAll(async () => {
  await central?.endAsync();
  await runtime?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const evidenceFile = () => join(runtime.dataDir, 'lanes', 'lane-1', 'evidence', 'ev-scan-1', 'scan.jpg');

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string | null; body: Buffer }> {
  const r = await fetch(url, { headers });
  return { status: r.status, type: r.headers.get('content-type'), body: Buffer.from(await r.arrayBuffer()) };
}

describe('evidence over HTTP', () => {
  it('keeps the site key in <dataDir>/evidence.key, 32 bytes, mode 0600', () => {
    const s = statSync(evidenceKeyFile(runtime.dataDir));
    expect(s.size).toBe(32);
    expect(s.mode & 0o777).toBe(0o600);
  });

  it('sends central command a signed absolute link that opens the JPEG', async () => {
    const p = scans.find((x) => x.scanId === 'ev-scan-1')!;
    const ref = p.evidence.find((e) => e.name === 'scan.jpg')!;
    expect(ref.path).toBe('/evidence/ev-scan-1/scan.jpg');
    expect(ref.url).toMatch(new RegExp(`^${base}/evidence/ev-scan-1/scan\\.jpg\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    const exp = Number(new URL(ref.url!).searchParams.get('exp'));
    // evidence.linkTtlHours unset: the link lives as long as the file (retentionDays 7)
    expect(Math.abs(exp - (Date.now() / 1000 + 7 * 86_400))).toBeLessThan(120);
    const r = await get(ref.url!);
    expect(r.status).toBe(200);
    expect(r.type).toBe('image/jpeg');
    expect(r.body.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(r.body).toEqual(readFileSync(evidenceFile()));
  });

  it('answers 401 without credentials, before saying whether the file exists', async () => {
    for (const path of ['/evidence/ev-scan-1/scan.jpg', '/evidence/no-such-scan/scan.jpg']) {
      const r = await get(`${base}${path}`);
      expect(r.status, path).toBe(401);
      expect(JSON.parse(r.body.toString()).error).toMatch(/no credentials/);
    }
    expect((await fetch(`${base}/evidence/ev-scan-1/scan.jpg`, { method: 'HEAD' })).status).toBe(401);
    expect((await get(`${base}/evidence/ev-scan-1/scan.jpg`, { cookie: 'ce_session=made-up' })).status).toBe(401);
  });

  it('answers 403 to an expired link, a tampered one, and a valid signature on another path', async () => {
    const past = new EvidenceUrlSigner({
      keyFile: evidenceKeyFile(runtime.dataDir),
      ttlS: 60,
      now: () => Date.now() - 3_600_000,
    });
    await past.load();
    const expired = await get(`${base}${past.sign('/evidence/ev-scan-1/scan.jpg')}`);
    expect(expired.status).toBe(403);
    expect(JSON.parse(expired.body.toString()).error).toMatch(/expired at/);

    const good = new URL(scans.find((x) => x.scanId === 'ev-scan-1')!.evidence[0]!.url!);
    const longer = new URL(good);
    longer.searchParams.set('exp', String(Number(good.searchParams.get('exp')) + 86_400));
    const tampered = await get(longer.href);
    expect(tampered.status).toBe(403);
    expect(JSON.parse(tampered.body.toString()).error).toMatch(/signature does not match/);

    const other = await get(`${base}/evidence/ev-scan-1/front-scan-begin.jpg${good.search}`);
    expect(other.status).toBe(403);
    const traversal = await get(`${base}/evidence/ev-scan-1/..%2f..%2f..%2fevidence.key${good.search}`);
    expect([403, 404]).toContain(traversal.status);
    expect(traversal.body.includes(readFileSync(evidenceKeyFile(runtime.dataDir)))).toBe(false);
  });

  it('serves the picture to a console session, and no longer after log-out', async () => {
    const login = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-console-request': '1' },
      body: JSON.stringify({ user: 'olga', password: 'olga-password-1' }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const r = await get(`${base}/evidence/ev-scan-1/scan.jpg`, { cookie });
    expect(r.status).toBe(200);
    expect(r.body).toEqual(readFileSync(evidenceFile()));
    expect((await get(`${base}/evidence/no-such-scan/scan.jpg`, { cookie })).status).toBe(404);
    const out = await fetch(`${base}/api/logout`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-console-request': '1' },
      body: '{}',
    });
    expect(out.status).toBe(200);
    expect((await get(`${base}/evidence/ev-scan-1/scan.jpg`, { cookie })).status).toBe(401);
  });
});

describe('ANPR reads over HTTP', () => {
  const post = (lane: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/anpr/${lane}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ plate: 'B-AB 1234' }),
    });

  it('needs the lane token as a Bearer token when one is configured', async () => {
    const none = await post('lane-1');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="anpr"');
    expect(((await none.json()) as { error: string }).error).toMatch(/Authorization: Bearer <token>/);
    const wrong = await post('lane-1', { authorization: `Bearer ${TOKEN}x` });
    expect(wrong.status).toBe(403);
    expect((await post('lane-1', { authorization: `Basic ${TOKEN}` })).status).toBe(401);
    expect((await post('lane-1', { authorization: `Bearer ${TOKEN}` })).status).toBe(202);
  });

  it('without a token, accepts reads from this computer and warned about it at start', async () => {
    expect((await post('lane-2')).status).toBe(202);
    const warnings = logLines.filter((l) => l.level === 40 && l.msg.includes('no anpr.token'));
    expect(warnings.map((w) => w.msg)).toEqual([expect.stringContaining('lane lane-2: no anpr.token configured')]);
    expect(JSON.stringify(logLines)).not.toContain(TOKEN);
  });
});
