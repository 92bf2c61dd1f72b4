import { describe, expect, it } from 'vitest';
import { AlertLedger } from '../../../../outputs/mqtt/alert-ledger.js';
import { CommandHandler } from '../../../../outputs/mqtt/commands.js';
import type { StatusPayload } from '../../../../outputs/mqtt/payloads.js';
import type { Alert, AlertEvent } from '../../../../core/domain.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { silentLogger } from '../../../../core/logger.js';

function setup(allowedOperators?: string[]) {
  const bus = new EventBus<LaneEvents>(silentLogger());
  const ledger = new AlertLedger({ path: ':memory:', laneId: 'lane-1' });
  const events: AlertEvent[] = [];
  const alerts: Alert[] = [];
  bus.on('alert.event', 'test', (e) => {
    ledger.record(e);
    events.push(e);
  });
  bus.on('alert.raised', 'test', (a) => {
    ledger.raised(a);
    alerts.push(a);
  });
  const handler = new CommandHandler({ siteId: 'site-a', laneId: 'lane-1', bus, ledger, ...(allowedOperators ? { allowedOperators } : {}), status: () => ({ laneId: 'lane-1' }) as StatusPayload, log: silentLogger() });
  bus.emit('alert.raised', { alertId: 'A1', scanId: 'S1', laneId: 'lane-1', siteId: 'site-a', raisedAt: new Date().toISOString(), kind: 'person-suspected', severity: 'critical', score: 0.9, regions: [], message: 'm', evidence: [] });
  return { handler, events, alerts, ledger };
}

describe('CommandHandler', () => {
  it('refuses malformed commands with a reason and changes nothing', () => {
    const { handler, events } = setup();
    expect(handler.handle('ack', Buffer.from('[1,'))).toMatchObject({ status: 'error', data: null, transaction: null, error: expect.stringMatching(/not JSON/) });
    expect(handler.handle('ack', JSON.stringify({ transaction: 'x', alertId: 'A1' }))).toMatchObject({ status: 'error', transaction: 'x', error: expect.stringMatching(/operator/) });
    expect(handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'o', extra: 1 }))).toMatchObject({ status: 'error', error: expect.stringMatching(/extra/) });
    expect(handler.handle('disposition', JSON.stringify({ alertId: 'A1', operator: 'o', disposition: 'arrested' }))).toMatchObject({ status: 'error' });
    expect(handler.handle('ack', JSON.stringify({ alertId: 'nope', operator: 'o' }))).toMatchObject({ status: 'error', error: expect.stringMatching(/no alert nope/) });
    expect(events).toEqual([]);
  });

  it('records an acknowledgement and a disposition from central, once each', () => {
    const { handler, events, ledger } = setup();
    expect(handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'hq' }))).toMatchObject({ status: 'ok', data: { alertId: 'A1', type: 'acknowledged', origin: 'central', operator: 'hq' } });
    expect(handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'hq2' }))).toMatchObject({ status: 'error', error: expect.stringMatching(/already acknowledged by hq/) });
    expect(handler.handle('disposition', JSON.stringify({ alertId: 'A1', operator: 'hq', disposition: 'person-found', note: 'two adults' }))).toMatchObject({ status: 'ok' });
    expect(handler.handle('disposition', JSON.stringify({ alertId: 'A1', operator: 'hq', disposition: 'false-alarm' }))).toMatchObject({ status: 'error', error: expect.stringMatching(/already has the disposition person-found/) });
    expect(events.map((e) => [e.type, e.origin, e.note])).toEqual([['acknowledged', 'central', undefined], ['person-found', 'central', 'two adults']]);
    expect(ledger.get('A1')?.disposition?.type).toBe('person-found');
  });

  it('a disposition from the console counts: central cannot disposition the alert again', () => {
    const { handler, ledger } = setup();
    ledger.record({ eventId: 'e', alertId: 'A1', laneId: 'lane-1', siteId: 'site-a', at: new Date().toISOString(), type: 'false-alarm', operator: 'console-op', origin: 'console' });
    expect(handler.handle('disposition', JSON.stringify({ alertId: 'A1', operator: 'hq', disposition: 'person-found' }))).toMatchObject({ status: 'error', error: expect.stringMatching(/console-op/) });
  });

  it('answers a repeated transaction without acting twice', () => {
    const { handler, events } = setup();
    const first = handler.handle('ack', JSON.stringify({ transaction: 'T', alertId: 'A1', operator: 'hq' }));
    const again = handler.handle('ack', JSON.stringify({ transaction: 'T', alertId: 'A1', operator: 'hq' }));
    expect(again).toBe(first);
    expect(events).toHaveLength(1);
  });

  it('refuses operators outside the allow-list', () => {
    const { handler, events, alerts } = setup(['hq']);
    expect(handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'eve' }))).toMatchObject({ status: 'error', error: expect.stringMatching(/not allowed/) });
    expect(handler.handle('test-alert', JSON.stringify({ operator: 'eve' }))).toMatchObject({ status: 'error' });
    expect(events).toEqual([]);
    expect(alerts).toHaveLength(1);
  });

  it('raises a test alert on the lane and answers status', () => {
    const { handler, alerts } = setup();
    const r = handler.handle('test-alert', JSON.stringify({ operator: 'hq', message: 'drill' }));
    expect(r.status).toBe('ok');
    expect(alerts[1]).toMatchObject({ alertId: (r.data as { alertId: string }).alertId, kind: 'test', severity: 'info', scanId: null });
    expect(alerts[1].message).toContain('drill');
    expect(handler.handle('status', '')).toMatchObject({ status: 'ok', data: { laneId: 'lane-1' } });
    expect(handler.handle('reboot', '{}')).toMatchObject({ status: 'error', error: expect.stringMatching(/unknown command "reboot"/) });
  });
});
