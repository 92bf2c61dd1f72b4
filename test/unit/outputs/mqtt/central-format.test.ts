import { describe, expect, it } from 'vitest';
import { interactive } from '../../../../cli/commands/central.js';
import {
  alertLine,
  availabilityLine,
  eventLine,
  statusKey,
  statusLine,
} from '../../../../outputs/mqtt/central-format.js';
import type { StatusPayload } from '../../../../core/mqtt-payloads.js';

const t = { kind: 'alert' as const, siteId: 'site-a', laneId: 'lane-1' };
const status = (over: Partial<StatusPayload> = {}): StatusPayload => ({
  schemaVersion: 1,
  siteId: 'site-a',
  laneId: 'lane-1',
  at: '2026-01-01T10:00:00.000Z',
  overall: 'ok',
  devices: [
    { device: 'camera.front', state: 'ok', detail: 'receiving pictures', since: 'x' },
    { device: 'mqtt', state: 'ok', since: 'x' },
  ],
  outbox: { depth: 0, alerts: 0, scans: 0, events: 0, evicted: 0 },
  versions: { edge: '0.1.0', model: 'person-fcn 1' },
  ...over,
});

describe('central client lines', () => {
  it('renders alerts, events and availability on one readable line', () => {
    expect(
      alertLine(
        t,
        {
          schemaVersion: 1,
          messageId: 'A',
          alertId: 'A',
          scanId: 'S',
          siteId: 'site-a',
          laneId: 'lane-1',
          raisedAt: '2026-01-01T10:00:05.000Z',
          kind: 'person-suspected',
          severity: 'critical',
          score: 0.912,
          regions: [{ x: 1, y: 1, w: 1, h: 1, score: 0.9 }],
          message: 'search the vehicle',
          evidence: [
            {
              name: 's',
              kind: 'scan',
              contentType: 'image/jpeg',
              path: '/evidence/S/s.jpg',
              url: 'https://l/evidence/S/s.jpg',
            },
          ],
        },
        new Date('2026-01-01T10:00:05.300Z'),
      ),
    ).toBe(
      '10:00:05 site-a/lane-1 ALERT CRITICAL person-suspected A scan S score 0.91 1 region(s): search the vehicle evidence: https://l/evidence/S/s.jpg',
    );
    expect(
      eventLine(
        t,
        {
          schemaVersion: 1,
          messageId: 'e',
          eventId: 'e',
          alertId: 'A',
          siteId: 'site-a',
          laneId: 'lane-1',
          at: '2026-01-01T10:01:00.000Z',
          type: 'false-alarm',
          operator: 'ops',
          origin: 'console',
          note: 'pallets',
        },
        new Date('2026-01-01T10:01:00.000Z'),
      ),
    ).toBe('10:01:00 site-a/lane-1 EVENT A false-alarm by ops (console): pallets');
    expect(availabilityLine(t, 'offline')).toMatch(/site-a\/lane-1 OFFLINE/);
  });

  it('prints a status line only when something shown changes, and details only of devices not ok', () => {
    expect(statusLine(t, status(), new Date('2026-01-01T10:00:00.500Z'))).toBe(
      '10:00:00 site-a/lane-1 HEALTH ok: camera.front ok, mqtt ok; outbox 0 queued; edge 0.1.0, model person-fcn 1',
    );
    expect(statusKey(status({ outbox: { depth: 5, alerts: 5, scans: 0, events: 0, evicted: 0 } }))).toBe(
      statusKey(status()),
    );
    const down = status({
      overall: 'degraded',
      devices: [{ device: 'camera.front', state: 'offline', detail: 'no pictures for 10 s', since: 'x' }],
    });
    expect(statusKey(down)).not.toBe(statusKey(status()));
    expect(statusLine(t, down, new Date('2026-01-01T10:00:00Z'))).toContain(
      'camera.front offline (no pictures for 10 s)',
    );
  });
});

describe('central client lines use one clock', () => {
  it('start with the receive time and add the message time only when it differs by a second or more', () => {
    const alert = {
      schemaVersion: 1 as const,
      messageId: 'A',
      alertId: 'A',
      scanId: 'S',
      siteId: 'site-a',
      laneId: 'lane-1',
      raisedAt: '2026-01-01T09:58:00.000Z',
      kind: 'person-suspected' as const,
      severity: 'critical' as const,
      score: 0.9,
      regions: [],
      message: 'm',
      evidence: [],
    };
    // an alert queued while the watcher was away, received after a fresher status line
    const status1 = statusLine(t, status({ at: '2026-01-01T10:00:00.000Z' }), new Date('2026-01-01T10:00:00.000Z'));
    const late = alertLine(t, alert, new Date('2026-01-01T10:00:01.000Z'));
    expect([status1, late].map((l) => l.slice(0, 8))).toEqual(['10:00:00', '10:00:01']);
    expect(late).toMatch(/^10:00:01 .* \(raised 09:58:00\)$/);
    expect(
      alertLine(t, { ...alert, raisedAt: '2025-12-31T23:59:59.000Z' }, new Date('2026-01-01T10:00:01.000Z')),
    ).toMatch(/\(raised 2025-12-31 23:59:59\)$/);
    expect(alertLine(t, { ...alert, raisedAt: 'not a time' }, new Date('2026-01-01T10:00:01.000Z'))).toMatch(
      /\(raised time unreadable: not a time\)$/,
    );
    expect(availabilityLine(t, 'online', new Date('2026-01-01T10:00:02.000Z'))).toBe('10:00:02 site-a/lane-1 ONLINE');
  });
});

describe('central interactive commands', () => {
  const seen = new Map([['A1', { siteId: 'site-a', laneId: 'lane-1' }]]);
  it('finds the lane of an alert it has printed, or takes it from <site>/<lane>', () => {
    expect(interactive(['ack', 'A1', 'on', 'our', 'way'], seen, 'hq')).toEqual({
      site: 'site-a',
      lane: 'lane-1',
      name: 'ack',
      body: { alertId: 'A1', operator: 'hq', note: 'on our way' },
    });
    expect(interactive(['dispose', 'site-b/lane-9', 'X', 'false-alarm'], seen, 'hq')).toEqual({
      site: 'site-b',
      lane: 'lane-9',
      name: 'disposition',
      body: { alertId: 'X', disposition: 'false-alarm', operator: 'hq' },
    });
    expect(interactive(['status', 'site-a/lane-1'], seen, 'hq')).toMatchObject({ name: 'status', body: {} });
  });
  it('says what is wrong with a line', () => {
    expect(() => interactive(['ack', 'unknown'], seen, 'hq')).toThrow(/has not been seen.*ack <site>\/<lane> unknown/);
    expect(() => interactive(['dispose', 'A1', 'maybe'], seen, 'hq')).toThrow(/person-found/);
    expect(() => interactive(['status'], seen, 'hq')).toThrow(/<site>\/<lane>/);
    expect(() => interactive(['reboot'], seen, 'hq')).toThrow(/unknown command "reboot"/);
  });
});
