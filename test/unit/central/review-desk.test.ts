import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReviewDesk, WorkLimitReached } from '../../../central/review-desk.js';
import { CentralStore } from '../../../central/store/central-store.js';
import { openPgliteDriver } from '../../../central/store/pglite-driver.js';
import { silentLogger } from '../../../core/logger.js';
import { scanMsg } from '../../integration/central/fixtures.js';

describe('ReviewDesk: the 20-minute work limit and the decision sent to the lane', () => {
  let store: CentralStore;
  let now = new Date('2026-12-06T08:00:00Z');
  const sent: { site: string; lane: string; name: string; body: Record<string, unknown> }[] = [];
  let desk: ReviewDesk;

  beforeAll(async () => {
    store = new CentralStore(await openPgliteDriver({ memory: true }));
    await store.migrate();
    await store.putAccount('ann', 'analyst', 'x');
    desk = new ReviewDesk({
      store,
      commands: {
        send: async (site, lane, name, body) => {
          sent.push({ site, lane, name, body });
          return {
            schemaVersion: 1,
            status: 'ok',
            data: null,
            error: null,
            transaction: 't',
            command: name,
            siteId: site,
            laneId: lane,
            at: '',
          };
        },
      },
      escalateAfterS: 120,
      workLimitMinutes: 20,
      breakMinutes: 10,
      log: silentLogger(),
      notify: () => {},
      now: () => now,
    });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  const at = (min: number) => new Date(Date.parse('2026-12-06T08:00:00Z') + min * 60_000);

  it('refuses the next review after 20 minutes of work, until a 10-minute break', async () => {
    for (let i = 0; i < 6; i++) await store.ingestScan(scanMsg({ scanId: `W${i}`, review: { reason: 'person' } }));
    now = at(0);
    const r0 = await desk.takeNext('ann');
    now = at(5);
    const d = await desk.decide(r0!, 'ann', 'clear', null);
    expect(d!.lane.status).toBe('ok');
    expect(sent.at(-1)).toEqual({
      site: 'site-a',
      lane: 'lane-1',
      name: 'review-decision',
      body: { scanId: 'W0', decision: 'clear', analyst: 'ann' },
    });
    now = at(6);
    const r1 = await desk.takeNext('ann');
    now = at(12);
    await desk.decide(r1!, 'ann', 'search', 'check the roof');
    now = at(13);
    const r2 = await desk.takeNext('ann');
    now = at(19);
    await desk.decide(r2!, 'ann', 'clear', null);
    now = at(20);
    await expect(desk.takeNext('ann')).rejects.toThrow(WorkLimitReached);
    await expect(desk.takeNext('ann')).rejects.toThrow(/take a break of 10 minutes \(until 08:29 UTC\)/);
    now = at(28);
    await expect(desk.takeNext('ann')).rejects.toThrow(WorkLimitReached);
    now = at(29);
    expect((await desk.takeNext('ann'))!.scanId).toBe('W3');
  });
});
