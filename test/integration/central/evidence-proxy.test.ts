import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceProxy } from '../../../central/server/evidence-proxy.js';
import { CentralStore } from '../../../central/store/central-store.js';
import { openPgliteDriver } from '../../../central/store/pglite-driver.js';
import { freePort } from '../../helpers/net.js';
import { scanMsg } from './fixtures.js';

describe('EvidenceProxy: pictures stay at the lane', () => {
  let store: CentralStore;
  let lane: Server;
  let hits = 0;
  let base: string;

  beforeAll(async () => {
    store = new CentralStore(await openPgliteDriver({ memory: true }));
    await store.migrate();
    lane = createServer((req, res) => {
      hits++;
      if (req.url?.includes('expired')) return void res.writeHead(403).end('{"error":"expired"}');
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    });
    await new Promise<void>((r) => lane.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(lane.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    lane?.close();
    await store?.close();
  });

  const withUrl = async (scanId: string, url: string | undefined) => {
    const s = scanMsg({ scanId });
    s.evidence = [
      {
        name: 'scan.jpg',
        kind: 'scan',
        contentType: 'image/jpeg',
        path: `/evidence/${scanId}/scan.jpg`,
        ...(url ? { url } : {}),
      },
    ];
    await store.ingestScan(s);
  };

  it('fetches through the signed link once, then from its cache', async () => {
    await withUrl('E1', `${base}/evidence/E1/scan.jpg?exp=1&sig=x`);
    const proxy = new EvidenceProxy(store, { maxCacheBytes: 1 << 20, timeoutMs: 2000 });
    const first = await proxy.get('site-a', 'lane-1', 'E1', 'scan.jpg');
    const again = await proxy.get('site-a', 'lane-1', 'E1', 'scan.jpg');
    expect([first.cached, again.cached, first.contentType, first.body.length, hits]).toEqual([
      false,
      true,
      'image/jpeg',
      4,
      1,
    ]);
  });

  it('says plainly when the lane cannot be reached, refused the link, or gave no link', async () => {
    const closed = await freePort();
    await withUrl('E2', `http://127.0.0.1:${closed}/evidence/E2/scan.jpg?exp=1&sig=x`);
    await withUrl('E3', `${base}/evidence/E3/scan.jpg?expired`);
    await withUrl('E4', undefined);
    const proxy = new EvidenceProxy(store, { maxCacheBytes: 1 << 20, timeoutMs: 2000 });
    await expect(proxy.get('site-a', 'lane-1', 'E2', 'scan.jpg')).rejects.toMatchObject({
      status: 502,
      message: expect.stringMatching(/lane site-a\/lane-1 is unreachable for evidence/),
    });
    await expect(proxy.get('site-a', 'lane-1', 'E3', 'scan.jpg')).rejects.toMatchObject({
      status: 502,
      message: expect.stringMatching(/signed link has expired/),
    });
    await expect(proxy.get('site-a', 'lane-1', 'E4', 'scan.jpg')).rejects.toMatchObject({
      status: 502,
      message: expect.stringMatching(/set mqtt.evidenceBaseUrl/),
    });
    await expect(proxy.get('site-a', 'lane-1', 'E4', 'other.jpg')).rejects.toMatchObject({ status: 404 });
  });
});
