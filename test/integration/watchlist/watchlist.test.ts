import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteRuntime } from '../../../app/site-runtime.js';
import { runWatchlist } from '../../../cli/commands/watchlist.js';
import { configSchema } from '../../../config/schema.js';
import type { Alert } from '../../../core/domain.js';
import { silentLogger } from '../../../core/logger.js';
import type { AlertPayload, ScanPayload, StatusPayload } from '../../../core/mqtt-payloads.js';
import { SIM_XML_FIELDS, writeFileDropScan } from '../../../sim/scanner/file-drop-writer.js';
import { patternScan } from '../../helpers/line-stream.js';
import { haveMosquitto, MosquittoBroker, skipWithoutMosquitto, waitFor } from '../outputs/mqtt/helpers.js';

// Central command signs and publishes lists with the CLI on Debian's mosquitto; a site runtime
// with two lanes (one with a JSON sidecar folder, one with vendor XML, both with ANPR over HTTP
// and MQTT) takes them, matches every input path, and goes on matching without central.
let dir: string;
let broker: MosquittoBroker;
let runtime: SiteRuntime;
let central: MqttClient;
const centralAlerts: AlertPayload[] = [];
const centralScans: ScanPayload[] = [];
const centralStatus = new Map<string, StatusPayload>();
const laneAlerts: Alert[] = [];
const out: string[] = [];
const cli = (...argv: string[]) => runWatchlist(argv, (l) => void out.push(l));

const CSV = `id,plate,country,containerCode,category,action,priority,source,covert,note,expiresAt
p1,B-AB 1234,DE,,stolen-vehicle,stop and search,1,national-police,false,"silver estate, reported stolen",
p2,M XY 500,DE,,wanted-person,inform central,2,national-police,false,,2099-06-30T12:00:00+02:00
p3,HH ZZ 42,DE,,stolen-vehicle,stop and search,1,interpol-smv,false,,
p4,K LM 77,DE,,smuggling,stop and search,2,customs,false,,
c1,,,CSQU 305438 3,smuggling,stop and search,1,customs,false,,
cov,S CO 999,DE,,surveillance,discreet check - do not stop,1,national-police,true,,
old,X OLD 1,DE,,stolen-vehicle,stop and search,1,national-police,false,,2020-01-01T00:00:00Z
`;

function config(mqttUrl: string) {
  const lane = (id: string, drop: string, xml: boolean) => ({
    id,
    scanner: { fileDrop: { dir: join(dir, drop), stableMs: 100, ...(xml ? { xmlFields: SIM_XML_FIELDS } : {}) } },
    anpr: { mqtt: { url: mqttUrl, topic: `anpr/${id}/read` } },
  });
  return configSchema.parse({
    site: { id: 'wl-site' },
    dataDir: join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { url: mqttUrl, reconnect: { initialMs: 100, maxMs: 500 } },
    watchlist: { keys: [{ keyId: 'central-1', publicKey: join(dir, 'keys', 'central-1.pub') }] },
    lanes: [lane('lane-1', 'drop1', false), lane('lane-2', 'drop2', true)],
  });
}

async function startRuntime(): Promise<SiteRuntime> {
  const rt = new SiteRuntime({ config: config(broker.url), log: silentLogger(), version: 'test', announce: () => {} });
  await rt.build();
  for (const l of rt.lanes) l.bus.on('alert.raised', 'test', (a) => void laneAlerts.push(a));
  await rt.start();
  return rt;
}

const post = (lane: string, body: unknown) =>
  fetch(`${runtime.http.url}/api/anpr/${lane}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const watchlistDevice = (lane = 0) => runtime.lanes[lane]!.health.get('watchlist');
const laneHit = (entryId: string) => laneAlerts.find((a) => a.watchlist?.entry.id === entryId);
const centralHit = (entryId: string) => centralAlerts.find((a) => a.watchlist?.entry.id === entryId);

beforeAll(async () => {
  if (!haveMosquitto) return;
  dir = mkdtempSync(join(tmpdir(), 'wl-int-'));
  broker = new MosquittoBroker();
  await broker.start();
  central = await connectAsync(broker.url, { clientId: 'central-test', reconnectPeriod: 200 });
  central.on('message', (topic, payload) => {
    if (payload.length === 0) return;
    if (topic.endsWith('/alert')) centralAlerts.push(JSON.parse(payload.toString()));
    if (topic.endsWith('/scan')) centralScans.push(JSON.parse(payload.toString()));
    if (topic.endsWith('/status')) centralStatus.set(topic, JSON.parse(payload.toString()));
  });
  await central.subscribeAsync(['checkpoint/+/+/alert', 'checkpoint/+/+/scan', 'checkpoint/+/+/status'], { qos: 1 });
  expect(await cli('keygen', '--out-dir', join(dir, 'keys'), '--key-id', 'central-1')).toBe(0);
  writeFileSync(join(dir, 'list.csv'), CSV);
  for (const d of ['drop1', 'drop2']) mkdirSync(join(dir, d));
  runtime = await startRuntime();
}, 30_000);

afterAll(async () => {
  await central?.endAsync(true);
  await runtime?.stop();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skipWithoutMosquitto)('watchlist at the lane, lists from central over MQTT', () => {
  it('takes the list central signs and publishes retained, and each lane reports the version it holds', async () => {
    expect(watchlistDevice()).toMatchObject({
      state: 'degraded',
      detail: expect.stringMatching(/^no list held: reads are not checked/),
    });
    expect(
      await cli(
        'sign',
        join(dir, 'list.csv'),
        '--list',
        'national',
        '--version',
        '1',
        '--key',
        join(dir, 'keys', 'central-1.key'),
        '--key-id',
        'central-1',
        '--out',
        join(dir, 'v1.wl'),
      ),
    ).toBe(0);
    expect(out.at(-1)).toBe(`signed national v1 (snapshot: 7 entries) to ${join(dir, 'v1.wl')}`);
    expect(await cli('publish', join(dir, 'v1.wl'), '--mqtt-url', broker.url)).toBe(0);
    await waitFor('lane-2 holding national v1', () => watchlistDevice(1)?.info?.['version.national'] === 1);
    expect(watchlistDevice(0)).toMatchObject({
      state: 'ok',
      info: expect.objectContaining({ 'version.national': 1, 'entries.national': 7 }),
    });
    const status = await waitFor('the retained status at central with the list version', () => {
      const s = centralStatus.get('checkpoint/wl-site/lane-1/status');
      return s?.versions.watchlists?.national === 1 ? s : null;
    });
    expect(status.versions.watchlists).toEqual({ national: 1 });
  });

  it('a plate read posted over HTTP hits, with the entry, the read, its confidence and the action, on the lane and at central', async () => {
    expect((await post('lane-1', { plate: 'B-AB 1234', cameraId: 'plate-cam', confidence: 0.91 })).status).toBe(202);
    const hit = await waitFor('the lane alert', () => laneHit('p1'));
    expect(hit).toMatchObject({ kind: 'watchlist', severity: 'critical', laneId: 'lane-1', score: 1 });
    expect(hit.watchlist).toMatchObject({
      listId: 'national',
      listVersion: 1,
      score: 1,
      read: { value: 'B-AB 1234', kind: 'plate', confidence: 0.91, cameraId: 'plate-cam', via: 'anpr' },
      entry: { action: 'stop and search', category: 'stolen-vehicle', note: 'silver estate, reported stolen' },
    });
    expect(hit.message).toMatch(
      /^Watchlist national: plate DE BAB1234 \(stolen-vehicle, priority 1\): stop and search\. Read "B-AB 1234" \(anpr, 91 % confidence; exact\)/,
    );
    const atCentral = await waitFor('the alert at central', () => centralHit('p1'));
    expect(atCentral).toMatchObject({
      kind: 'watchlist',
      alertId: hit.alertId,
      watchlist: { entry: { covert: false }, read: { confidence: 0.91 } },
    });
  });

  it('a container code read over HTTP hits; an expired entry never does', async () => {
    await post('lane-2', { containerCode: 'CSQU 305438-3' });
    await post('lane-2', { plate: 'X OLD 1' });
    const hit = await waitFor('the container hit', () => laneHit('c1'));
    expect(hit.watchlist?.read).toMatchObject({ kind: 'container', value: 'CSQU3054383' });
    await post('lane-2', { plate: 'B-AB 1234' }); // a marker read after the expired one
    await waitFor('the marker hit on lane-2', () =>
      laneAlerts.find((a) => a.laneId === 'lane-2' && a.watchlist?.entry.id === 'p1'),
    );
    expect(laneHit('old')).toBeUndefined();
  });

  it('a plate read over ANPR MQTT hits within one confusable character (O for 0), scored below 1', async () => {
    await waitFor('the anpr.mqtt feed of lane-1', () => runtime.lanes[0]!.health.get('anpr.mqtt')?.state === 'ok');
    await central.publishAsync('anpr/lane-1/read', JSON.stringify({ plate: 'M-XY 5O0', confidence: 0.7 }), { qos: 1 });
    const hit = await waitFor('the confusable hit', () => laneHit('p2'));
    expect(hit.watchlist).toMatchObject({ score: 0.8, read: { value: 'M-XY 5O0', confidence: 0.7 } });
    expect(hit.message).toContain('one confusable character');
  });

  it("a plate in a scan's JSON sidecar and one in vendor XML hit, and the scan result carries the hit beside the verdict", async () => {
    await writeFileDropScan(
      join(dir, 'drop1'),
      { ...patternScan(1, 40, 16), plate: 'HH-ZZ 42' },
      { scanId: 'SIDECAR-1', format: 'png16' },
    );
    await writeFileDropScan(
      join(dir, 'drop2'),
      { ...patternScan(2, 40, 16), plate: 'K-LM 77' },
      { scanId: 'XML-1', format: 'jpeg-xml' },
    );
    const sidecar = await waitFor('the sidecar hit', () => laneHit('p3'), 20_000);
    const xml = await waitFor('the vendor XML hit', () => laneHit('p4'), 20_000);
    expect(sidecar).toMatchObject({
      scannerScanId: 'SIDECAR-1',
      laneId: 'lane-1',
      watchlist: { read: { via: 'scan (file)', confidence: null } },
    });
    expect(xml).toMatchObject({ scannerScanId: 'XML-1', laneId: 'lane-2' });
    const scan = await waitFor(
      'the sidecar scan at central',
      () => centralScans.find((s) => s.scannerScanId === 'SIDECAR-1'),
      20_000,
    );
    expect(scan.scanId).toBe(sidecar.scanId); // the hit is tied to the edge's id of that scan
    expect(scan.verdict).toBe('unavailable'); // no model in this site: the verdict and the hit go together
    expect(scan.watchlist).toEqual([expect.objectContaining({ entry: expect.objectContaining({ id: 'p3' }) })]);
  }, 30_000);

  it("a covert hit goes to central command only: never on the lane's alert event, which the console shows", async () => {
    await post('lane-1', { plate: 'S-CO 999', confidence: 0.95 });
    const atCentral = await waitFor('the covert hit at central', () => centralHit('cov'));
    expect(atCentral).toMatchObject({
      kind: 'watchlist',
      laneId: 'lane-1',
      watchlist: { entry: { covert: true, action: 'discreet check - do not stop' } },
    });
    await post('lane-1', { plate: 'M XY 500' }); // a marker on the same lane after the covert read
    await waitFor('the marker hit', () =>
      laneAlerts.find(
        (a) => a.laneId === 'lane-1' && a.watchlist?.entry.id === 'p2' && a.watchlist.read.value === 'M XY 500',
      ),
    );
    expect(laneHit('cov')).toBeUndefined();
  });

  it('refuses a forged list and a stale one, reports them in the lane status, and keeps matching the last good list', async () => {
    // v1 as central signed it, its version changed to 9 afterwards (the signature no longer holds).
    const forged = readFileSync(join(dir, 'v1.wl'));
    const at = forged.indexOf('"version":1,');
    expect(at).toBeGreaterThan(0);
    forged.write('"version":9,', at, 'latin1');
    writeFileSync(join(dir, 'forged.wl'), forged);
    const pub = join(dir, 'keys', 'central-1.pub');
    expect(await cli('verify', join(dir, 'v1.wl'), '--public-key', pub)).toBe(0);
    expect(out.at(-1)).toBe(`${join(dir, 'v1.wl')}: good: national v1 snapshot of 7 entries, signed with central-1`);
    expect(await cli('verify', join(dir, 'forged.wl'), '--public-key', pub)).toBe(1);
    expect(out.at(-1)).toMatch(/forged\.wl: refused \(forged\): signature does not verify with key "central-1"/);
    expect(await cli('publish', join(dir, 'forged.wl'), '--mqtt-url', broker.url)).toBe(0);
    await waitFor('the refusal in the status', () => watchlistDevice()?.info?.refused === 1);
    expect(watchlistDevice()).toMatchObject({
      state: 'ok',
      info: expect.objectContaining({
        'version.national': 1,
        lastRefusal: expect.stringMatching(/^forged: signature does not verify/),
      }),
    });
    const status = await waitFor('the refusal at central', () => {
      const s = centralStatus.get('checkpoint/wl-site/lane-1/status');
      return s?.devices.find((d) => d.device === 'watchlist' && d.info?.refused === 1);
    });
    expect(status.detail).toMatch(/last refused: forged/);
    // v2 then v1 again: v1 is now stale
    writeFileSync(join(dir, 'list2.csv'), CSV.replace('p4,K LM 77', 'p5,N EW 5'));
    await cli(
      'sign',
      join(dir, 'list2.csv'),
      '--list',
      'national',
      '--version',
      '2',
      '--key',
      join(dir, 'keys', 'central-1.key'),
      '--key-id',
      'central-1',
      '--out',
      join(dir, 'v2-delta.wl'),
      '--base',
      join(dir, 'v1.wl'),
    );
    expect(out.at(-1)).toMatch(/signed national v2 \(delta: 1 added or changed, 1 removed\)/);
    await cli('publish', join(dir, 'v2-delta.wl'), '--mqtt-url', broker.url);
    await waitFor('v2 applied', () => watchlistDevice()?.info?.['version.national'] === 2);
    // The retained v1 snapshot that v2 was built on is known, not refused; a v1 signed again is stale.
    await cli(
      'sign',
      join(dir, 'list.csv'),
      '--list',
      'national',
      '--version',
      '1',
      '--key',
      join(dir, 'keys', 'central-1.key'),
      '--key-id',
      'central-1',
      '--out',
      join(dir, 'v1-again.wl'),
    );
    await cli('publish', join(dir, 'v1-again.wl'), '--mqtt-url', broker.url);
    await waitFor('the stale refusal', () => String(watchlistDevice()?.info?.lastRefusal ?? '').startsWith('stale'));
    expect(watchlistDevice()?.info).toMatchObject({ 'version.national': 2, refused: 2 });
    await post('lane-1', { plate: 'N-EW 5' });
    await waitFor('a hit on the entry the delta added', () => laneHit('p5'));
  }, 30_000);

  it('takes a large list (40,000 entries, over 1 MiB: opened in a worker thread) through mosquitto as central signs it', async () => {
    const rows = ['id,plate,country,category,action,priority,source'];
    for (let i = 0; i < 40_000; i++)
      rows.push(
        `i${i},HB ${String.fromCharCode(65 + (i % 26))} ${i},DE,stolen-vehicle,inform central,${1 + (i % 5)},interpol-smv`,
      );
    writeFileSync(join(dir, 'smv.csv'), `${rows.join('\n')}\n`);
    const file = join(dir, 'smv-1.wl');
    const key = ['--key', join(dir, 'keys', 'central-1.key'), '--key-id', 'central-1'];
    expect(
      await cli('sign', join(dir, 'smv.csv'), '--list', 'interpol-smv', '--version', '1', ...key, '--out', file),
    ).toBe(0);
    expect(readFileSync(file).length).toBeGreaterThan(1024 * 1024);
    expect(await cli('publish', file, '--mqtt-url', broker.url)).toBe(0);
    await waitFor(
      'lane-1 holding interpol-smv v1',
      () => watchlistDevice()?.info?.['version.interpol-smv'] === 1,
      20_000,
    );
    expect(watchlistDevice()?.info).toMatchObject({ 'entries.interpol-smv': 40_000, 'version.national': 2 });
    laneAlerts.length = 0;
    await post('lane-1', { plate: 'HB L 39999' }); // 39999 % 26 = 11: L
    const hit = await waitFor('a hit on the last entry of the large list', () => laneHit('i39999'));
    expect(hit.watchlist).toMatchObject({
      listId: 'interpol-smv',
      listVersion: 1,
      entry: { action: 'inform central' },
    });
  }, 60_000);

  it('keeps matching while central is unreachable, and after a restart without central, from the last good version on disk', async () => {
    await broker.stop();
    await waitFor('the feed reported unreachable', () =>
      /central command unreachable/.test(watchlistDevice()?.detail ?? ''),
    );
    laneAlerts.length = 0;
    await post('lane-2', { plate: 'HH ZZ 42' });
    await waitFor('a hit while central is away', () => laneHit('p3'));
    await runtime.stop();
    laneAlerts.length = 0;
    runtime = await startRuntime();
    expect(watchlistDevice()).toMatchObject({
      state: 'ok',
      info: expect.objectContaining({
        'version.national': 2,
        'version.interpol-smv': 1,
        'entries.interpol-smv': 40_000,
      }),
    });
    await post('lane-1', { plate: 'N EW 5' });
    const hit = await waitFor('a hit after the restart without central', () => laneHit('p5'));
    expect(hit.watchlist?.listVersion).toBe(2);
    expect(laneHit('p4')).toBeUndefined();
    await post('lane-1', { plate: 'K LM 77' }); // removed by the delta
    await post('lane-1', { plate: 'B AB 1234' });
    await waitFor('the marker', () => laneHit('p1'));
    expect(laneHit('p4')).toBeUndefined();
  }, 30_000);
});
