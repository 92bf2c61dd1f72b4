import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CentralStore } from '../../../central/store/central-store.js';
import { LoginFailures } from '../../../central/store/login-failures.js';
import { alertMsg, eventMsg, scanMsg, statusMsg } from './fixtures.js';

/**
 * One suite for every store backend (PGlite embedded, PostgreSQL server): the same SQL must
 * behave the same on both. `open` gives a fresh, migrated store.
 */
export function storeContract(
  name: string,
  open: () => Promise<CentralStore>,
  cleanup: () => Promise<void> = async () => {},
) {
  describe(`central store contract: ${name}`, () => {
    let store: CentralStore;
    beforeAll(async () => {
      store = await open();
    }, 120_000);
    afterAll(async () => {
      await store?.close();
      await cleanup();
    });

    it('migrates once: a second run applies nothing', async () => {
      expect(await store.migrate()).toEqual([]);
    });

    it('stores a scan, alert and event once however often they are delivered', async () => {
      const s = scanMsg({ scanId: 'dup-1', verdict: 'person' });
      expect(await store.ingestScan(s)).toBe(true);
      expect(await store.ingestScan(s)).toBe(false);
      const a = alertMsg({ scanId: 'dup-1' });
      expect(await store.ingestAlert(a)).toBe(true);
      expect(await store.ingestAlert(a)).toBe(false);
      const e = eventMsg({ alertId: a.alertId, eventId: 'ev-1', type: 'acknowledged' });
      expect(await store.ingestEvent(e)).toBe(true);
      expect(await store.ingestEvent(e)).toBe(false);
      const rows = (await store.alerts()).filter((r) => r.alertId === a.alertId);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.acknowledgedBy).toBe('olga');
      expect(rows[0]!.disposition).toBeNull();
    });

    it('keeps the same message id of two lanes apart', async () => {
      expect(await store.ingestAlert(alertMsg({ scanId: 'same-1', laneId: 'lane-1' }))).toBe(true);
      expect(await store.ingestAlert(alertMsg({ scanId: 'same-1', laneId: 'lane-2' }))).toBe(true);
      expect((await store.alerts()).filter((r) => r.alertId === 'same-1-person')).toHaveLength(2);
    });

    it('orders the alert queue by severity, then age, and drops dispositioned alerts from the open queue', async () => {
      const t = Date.now();
      await store.ingestAlert(
        alertMsg({ siteId: 'q', scanId: 'q-old-warn', severity: 'warning', at: new Date(t - 60_000) }),
      );
      await store.ingestAlert(
        alertMsg({ siteId: 'q', scanId: 'q-new-crit', severity: 'critical', at: new Date(t - 1_000) }),
      );
      await store.ingestAlert(
        alertMsg({ siteId: 'q', scanId: 'q-old-crit', severity: 'critical', at: new Date(t - 30_000) }),
      );
      await store.ingestAlert(
        alertMsg({ siteId: 'q', scanId: 'q-done', severity: 'critical', at: new Date(t - 90_000) }),
      );
      await store.ingestEvent(
        eventMsg({ siteId: 'q', alertId: 'q-done-person', eventId: 'q-ev', type: 'false-alarm' }),
      );
      const open = await store.alerts({ open: true, siteId: 'q' });
      expect(open.map((r) => r.scanId)).toEqual(['q-old-crit', 'q-new-crit', 'q-old-warn']);
      const all = await store.alerts({ siteId: 'q' });
      expect(all.find((r) => r.scanId === 'q-done')!.disposition).toBe('false-alarm');
    });

    it('applies only newer status reports and logs downtime with its reason', async () => {
      const t0 = new Date('2026-12-01T10:00:00Z');
      const lane = { siteId: 'dt', laneId: 'lane-9' };
      expect(await store.ingestStatus(statusMsg({ ...lane, at: t0, overall: 'ok' }))).toBe(true);
      expect(
        await store.ingestStatus(
          statusMsg({ ...lane, at: new Date(t0.getTime() + 60_000), overall: 'degraded', detail: 'link lost' }),
        ),
      ).toBe(true);
      // A redelivered older report changes nothing.
      expect(await store.ingestStatus(statusMsg({ ...lane, at: t0, overall: 'ok' }))).toBe(false);
      let l = (await store.lanes()).find((r) => r.laneId === 'lane-9')!;
      expect(l.state).toBe('degraded');
      expect(l.downReason).toBe('scanner fault: link lost');
      expect(await store.ingestAvailability(lane.siteId, lane.laneId, 'offline', new Date(t0.getTime() + 90_000))).toBe(
        true,
      );
      expect((await store.lanes()).find((r) => r.laneId === 'lane-9')!.state).toBe('down');
      await store.ingestAvailability(lane.siteId, lane.laneId, 'online', new Date(t0.getTime() + 100_000));
      await store.ingestStatus(statusMsg({ ...lane, at: new Date(t0.getTime() + 120_000), overall: 'ok' }));
      l = (await store.lanes()).find((r) => r.laneId === 'lane-9')!;
      expect(l.state).toBe('online');
      const log = await store.downtime({ siteId: 'dt' });
      expect(log.map((d) => [d.state, d.reason, (d.endedAt!.getTime() - d.startedAt.getTime()) / 1000])).toEqual([
        ['offline', 'lane offline: stopped, or its link died (last will)', 10],
        ['degraded', 'scanner fault: link lost', 60],
      ]);
    });

    it('gives each review to one analyst, oldest first, and escalates untaken ones', async () => {
      const t = new Date();
      await store.ingestScan(
        scanMsg({ siteId: 'rv', scanId: 'rv-1', verdict: 'person', review: { reason: 'person' } }),
      );
      await store.ingestScan(scanMsg({ siteId: 'rv', scanId: 'rv-2', review: { reason: 'quality-control' } }));
      const first = await store.takeNextReview('ann', t);
      const second = await store.takeNextReview('bob', t);
      expect(first!.scanId).toBe('rv-1');
      expect(first!.scan!.verdict).toBe('person');
      expect(second!.scanId).toBe('rv-2');
      expect(await store.takeNextReview('cat', t)).toBeNull();
      expect(await store.decideReview(first!, 'bob', 'clear', null)).toBeNull();
      const d = await store.decideReview(first!, 'ann', 'search', 'shape behind the cab');
      expect(d!.decision).toBe('search');
      expect(await store.decideReview(first!, 'ann', 'clear', null)).toBeNull();
      expect(await store.releaseReview(second!, 'bob')).toBe(true);
      await store.ingestScan(scanMsg({ siteId: 'rv', scanId: 'rv-3', review: { reason: 'unavailable' } }));
      const later = new Date(Date.now() + 300_000);
      const esc = await store.escalateReviews(120, later);
      expect(esc.map((r) => r.scanId).sort()).toEqual(['rv-2', 'rv-3']);
      expect(await store.escalateReviews(120, later)).toEqual([]);
    });

    it('finds movements by a normalised plate or container code', async () => {
      await store.ingestScan(
        scanMsg({ siteId: 'mv-a', scanId: 'mv-1', plate: 'AB 12 CDO', at: new Date('2026-12-01T08:00:00Z') }),
      );
      await store.ingestScan(
        scanMsg({ siteId: 'mv-b', scanId: 'mv-2', plate: 'ab12cd0', at: new Date('2026-12-02T08:00:00Z') }),
      );
      await store.ingestScan(
        scanMsg({ siteId: 'mv-b', scanId: 'mv-3', container: 'MSCU 123456-7', at: new Date('2026-12-03T08:00:00Z') }),
      );
      expect((await store.movements('ab12 cdo')).map((m) => m.scanId)).toEqual(['mv-2', 'mv-1']);
      expect((await store.movements('mscu1234567')).map((m) => m.scanId)).toEqual(['mv-3']);
      expect(await store.movements('ZZ')).toEqual([]);
    });

    it('counts figures per site, lane, day and model with the false-alarm rate', async () => {
      const day = new Date('2026-11-20T09:00:00Z');
      await store.ingestScan(scanMsg({ siteId: 'fg', scanId: 'fg-1', verdict: 'person', at: day, model: '1.0.0' }));
      await store.ingestScan(scanMsg({ siteId: 'fg', scanId: 'fg-2', verdict: 'person', at: day, model: '1.0.0' }));
      await store.ingestScan(scanMsg({ siteId: 'fg', scanId: 'fg-3', verdict: 'clear', at: day, model: '1.0.0' }));
      await store.ingestScan(scanMsg({ siteId: 'fg', scanId: 'fg-4', verdict: 'clear', at: day, model: '2.0.0' }));
      await store.ingestAlert(alertMsg({ siteId: 'fg', scanId: 'fg-1', at: day }));
      await store.ingestAlert(alertMsg({ siteId: 'fg', scanId: 'fg-2', at: day }));
      await store.ingestEvent(
        eventMsg({ siteId: 'fg', alertId: 'fg-1-person', eventId: 'fg-e1', type: 'false-alarm' }),
      );
      await store.ingestEvent(
        eventMsg({ siteId: 'fg', alertId: 'fg-2-person', eventId: 'fg-e2', type: 'person-found' }),
      );
      const rows = await store.figures({ siteId: 'fg' });
      expect(
        rows.map((r) => [
          r.day,
          r.modelVersion,
          r.scans,
          r.persons,
          r.alerts,
          r.dispositions,
          r.falseAlarms,
          r.falseAlarmRate,
        ]),
      ).toEqual([
        ['2026-11-20', '1.0.0', 3, 2, 2, 2, 1, 0.5],
        ['2026-11-20', '2.0.0', 1, 0, 0, 0, 0, null],
      ]);
    });

    it('keeps accounts, sessions (ended by a new password) and the audit log', async () => {
      await store.putAccount('ann', 'analyst', 'h1');
      await store.putSession('tok', 'ann', new Date(Date.now() + 60_000));
      expect(await store.session('tok')).toEqual({ name: 'ann', role: 'analyst' });
      expect(await store.session('tok', new Date(Date.now() + 120_000))).toBeNull();
      await store.putAccount('ann', 'analyst', 'h2');
      expect(await store.session('tok')).toBeNull();
      await store.audit('ann', 'log-in', null);
      expect((await store.auditLog(1))[0]).toMatchObject({ actor: 'ann', action: 'log-in' });
    });

    it('counts failed log-ins of one name and address together across workers, locks the pair, and clears it on success', async () => {
      const policy = { maxFailures: 3, windowMs: 60_000, lockMs: 30_000 };
      // Two workers on one database, each with its own throttle object.
      const w1 = new LoginFailures(store.db, policy);
      const w2 = new LoginFailures(store.db, policy);
      await w1.failed('bob', '10.0.0.1');
      await w2.failed('bob', '10.0.0.1');
      await w1.failed('bob', '10.0.0.2'); // another address: its own count
      expect(await w2.blockedFor('bob', '10.0.0.1')).toBe(0);
      await w2.failed('bob', '10.0.0.1');
      const wait = await w1.blockedFor('bob', '10.0.0.1');
      expect(wait).toBeGreaterThan(25_000);
      expect(wait).toBeLessThanOrEqual(30_000);
      expect(await w1.blockedFor('bob', '10.0.0.2')).toBe(0);
      expect(await w1.blockedFor('eve', '10.0.0.1')).toBe(0);
      await w2.succeeded('bob', '10.0.0.1');
      expect(await w1.blockedFor('bob', '10.0.0.1')).toBe(0);
    });
  });
}
