import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsoleStore } from '../../../../console/server/console-store.js';
import type { Alert, AlertEvent, ScanResult } from '../../../../core/domain.js';
import { alertFor } from '../../../../pipeline/lane-pipeline.js';
import { scanResult } from '../../../helpers/builders.js';

function result(scanId: string, o: Partial<ScanResult> = {}): ScanResult {
  return scanResult({ scanId, siteId: 's', vehicle: {}, ...o });
}

function event(alertId: string, type: AlertEvent['type'], o: Partial<AlertEvent> = {}): AlertEvent {
  return {
    eventId: `${alertId}-${type}-${o.origin ?? 'console'}`,
    alertId,
    laneId: 'lane-1',
    siteId: 's',
    at: '2026-01-14T10:01:00.000Z',
    type,
    operator: 'alice',
    origin: 'console',
    ...o,
  };
}

let store: ConsoleStore;
beforeEach(() => {
  store = new ConsoleStore(':memory:');
});
afterEach(() => store.close());

describe('ConsoleStore scan history', () => {
  it('keeps two vehicles that the scanner gave the same id apart, and never overwrites a scan row', () => {
    const first = alertFor(
      result('edge-1', { scannerScanId: 'sim-1-1', verdict: 'person', score: 0.9, vehicle: { plate: 'FIRST' } }),
    )!;
    const second = alertFor(
      result('edge-2', { scannerScanId: 'sim-1-1', verdict: 'person', score: 0.8, vehicle: { plate: 'SECOND' } }),
    )!;
    store.recordScan(result('edge-1', { scannerScanId: 'sim-1-1', verdict: 'person', vehicle: { plate: 'FIRST' } }));
    store.recordScan(result('edge-2', { scannerScanId: 'sim-1-1', verdict: 'person', vehicle: { plate: 'SECOND' } }));
    store.recordAlert(first);
    store.recordAlert(second);
    expect(first.alertId).not.toBe(second.alertId);
    expect(store.getScan('edge-1', 'lane-1')?.vehicle?.plate).toBe('FIRST');
    expect(store.getScan('edge-2', 'lane-1')?.vehicle?.plate).toBe('SECOND');
    expect(
      store
        .listAlerts()
        .map((a) => a.alert.scanId)
        .sort(),
    ).toEqual(['edge-1', 'edge-2']);
    // A second row under an id already stored is refused, not merged or replaced.
    expect(() => store.recordScan(result('edge-1', { vehicle: { plate: 'OTHER' } }))).toThrow(/UNIQUE/);
    expect(store.getScan('edge-1', 'lane-1')?.vehicle?.plate).toBe('FIRST');
  });

  it('finds scans by plate (any part, any case), verdict, lane and time, newest first', () => {
    store.recordScan(result('A', { startedAt: '2026-01-14T09:00:00.000Z', vehicle: { plate: 'AB-123-CD' } }));
    store.recordScan(
      result('B', {
        startedAt: '2026-01-14T10:00:00.000Z',
        verdict: 'person',
        score: 0.9,
        vehicle: { plate: 'ZZ-999-XY' },
      }),
    );
    store.recordScan(
      result('C', {
        startedAt: '2026-01-14T11:00:00.000Z',
        laneId: 'lane-2',
        verdict: 'unavailable',
        score: null,
        vehicle: { containerCode: 'MSCU1234565' },
      }),
    );
    const ids = (q: Parameters<ConsoleStore['listScans']>[0]) => store.listScans(q).map((r) => r.result.scanId);
    expect(ids({})).toEqual(['C', 'B', 'A']);
    expect(ids({ plate: 'ab-123' })).toEqual(['A']);
    expect(ids({ plate: 'mscu' })).toEqual(['C']);
    expect(ids({ plate: '%' })).toEqual([]);
    expect(ids({ verdict: 'person' })).toEqual(['B']);
    expect(ids({ laneId: 'lane-2' })).toEqual(['C']);
    expect(ids({ from: '2026-01-14T09:30:00.000Z', to: '2026-01-14T10:30:00.000Z' })).toEqual(['B']);
    expect(ids({ limit: 1 })).toEqual(['C']);
    expect(store.getScan('B', 'lane-1')?.verdict).toBe('person');
    expect(store.getScan('B', 'lane-2')).toBeNull();
    expect(store.pruneScans('2026-01-14T10:00:00.000Z')).toBe(1);
    expect(ids({})).toEqual(['C', 'B']);
  });
});

describe('ConsoleStore alerts', () => {
  const P = alertFor(
    result('P', { verdict: 'person', score: 0.9, regions: [{ x: 1, y: 2, w: 3, h: 4, score: 0.9 }] }),
  )!;
  const alert = (): Alert => P;

  it('goes new -> acknowledged -> closed, shows on the scan row, and ignores a replayed event', () => {
    store.recordScan(result('P', { verdict: 'person' }));
    store.recordAlert(alert());
    expect(store.getAlert(P.alertId)?.state).toBe('new');
    expect(store.applyEvent(event(P.alertId, 'acknowledged')).applied).toBe(true);
    expect(store.getAlert(P.alertId)).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'alice',
      acknowledgedOrigin: 'console',
    });
    const r = store.applyEvent(event(P.alertId, 'person-found', { note: 'two adults' }));
    expect(r.record).toMatchObject({
      state: 'closed',
      disposition: 'person-found',
      note: 'two adults',
      dispositionBy: 'alice',
    });
    expect(store.applyEvent(event(P.alertId, 'person-found', { note: 'two adults' })).applied).toBe(false);
    expect(store.getAlert(P.alertId)?.events.map((e) => e.type)).toEqual(['acknowledged', 'person-found']);
    expect(store.listScans()[0]).toMatchObject({
      alertId: P.alertId,
      alertState: 'closed',
      disposition: 'person-found',
    });
    expect(store.listAlerts({ openOnly: true })).toEqual([]);
    // A replay of the alert (same id) keeps what was done about it.
    store.recordAlert(alert());
    expect(store.getAlert(P.alertId)?.state).toBe('closed');
  });

  it('takes a disposition from central without an acknowledgement, and keeps events for unknown alerts', () => {
    store.recordAlert(alert());
    store.applyEvent(event(P.alertId, 'false-alarm', { origin: 'central', operator: 'hq' }));
    expect(store.getAlert(P.alertId)).toMatchObject({
      state: 'closed',
      acknowledgedBy: 'hq',
      acknowledgedOrigin: 'central',
      dispositionOrigin: 'central',
    });
    expect(store.applyEvent(event('nope', 'acknowledged'))).toEqual({ applied: true, record: null });
  });

  it('writes the audit log, newest first, filtered by user and action', () => {
    store.audit({ user: 'alice', role: 'operator', action: 'login', ip: '127.0.0.1' });
    store.audit({ user: 'mallory', action: 'login', ok: false, detail: { reason: 'wrong password' } });
    store.audit({ user: 'alice', role: 'operator', action: 'acknowledge-alert', target: P.alertId });
    expect(store.listAudit().map((e) => e.action)).toEqual(['acknowledge-alert', 'login', 'login']);
    expect(store.listAudit({ user: 'mallory' })[0]).toMatchObject({ ok: false, detail: { reason: 'wrong password' } });
    expect(store.listAudit({ action: 'login', limit: 1 })).toHaveLength(1);
  });
});

describe('ConsoleStore retention and file mode', () => {
  it('prunes audit entries and closed alerts with their events older than the cut-off; open alerts stay', () => {
    const closed = alertFor(result('C', { verdict: 'person', score: 0.9 }))!;
    const open = alertFor(result('O', { verdict: 'person', score: 0.9 }))!;
    store.recordAlert({ ...closed, raisedAt: '2025-01-01T00:00:00.000Z' });
    store.recordAlert({ ...open, raisedAt: '2025-01-01T00:00:00.000Z' });
    store.applyEvent(event(closed.alertId, 'false-alarm'));
    store.audit({ user: 'alice', action: 'login' });
    const r = store.pruneRecords('2099-01-01T00:00:00.000Z');
    expect(r).toEqual({ audit: 1, alerts: 1, events: 1 });
    expect(store.getAlert(closed.alertId)).toBeNull();
    expect(store.getAlert(open.alertId)).not.toBeNull();
    expect(store.listAudit()).toEqual([]);
  });

  it('creates its database readable by the service account only', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'console-store-')), 'data', 'console.sqlite');
    const s = new ConsoleStore(path);
    s.audit({ action: 'x' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    s.close();
  });
});
