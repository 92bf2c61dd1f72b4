import { describe, expect, it } from 'vitest';
import { AlertLedger } from '../../../../outputs/mqtt/alert-ledger.js';
import { CommandHandler, MAX_COMMAND_BYTES, type CentralIdentity } from '../../../../outputs/mqtt/commands.js';
import type { StatusPayload } from '../../../../core/mqtt-payloads.js';
import type { Alert, AlertEvent, AuditRecord } from '../../../../core/domain.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { silentLogger } from '../../../../core/logger.js';

const ALL = ['ack', 'disposition', 'status', 'test-alert'] as const;

function setup(allowedOperators?: string[], identities: CentralIdentity[] = [{ name: 'central-hq', commands: ALL }]) {
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
  const audit: AuditRecord[] = [];
  bus.on('audit', 'test', (a) => void audit.push(a));
  const handler = new CommandHandler({
    siteId: 'site-a',
    laneId: 'lane-1',
    bus,
    ledger,
    identities,
    ...(allowedOperators ? { allowedOperators } : {}),
    status: () => ({ laneId: 'lane-1' }) as StatusPayload,
    log: silentLogger(),
  });
  bus.emit('alert.raised', {
    alertId: 'A1',
    scanId: 'S1',
    laneId: 'lane-1',
    siteId: 'site-a',
    raisedAt: new Date().toISOString(),
    kind: 'person-suspected',
    severity: 'critical',
    score: 0.9,
    regions: [],
    message: 'm',
    evidence: [],
  });
  return { handler, events, alerts, ledger, audit };
}

describe('CommandHandler', () => {
  it('refuses malformed commands with a reason and changes nothing', () => {
    const { handler, events } = setup();
    expect(handler.handle('ack', Buffer.from('[1,'))).toMatchObject({
      status: 'error',
      data: null,
      transaction: null,
      error: expect.stringMatching(/not JSON/),
    });
    expect(handler.handle('ack', JSON.stringify({ transaction: 'x', alertId: 'A1' }))).toMatchObject({
      status: 'error',
      transaction: 'x',
      error: expect.stringMatching(/operator/),
    });
    expect(handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'o', extra: 1 }))).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/extra/),
    });
    expect(
      handler.handle('disposition', JSON.stringify({ alertId: 'A1', operator: 'o', disposition: 'arrested' })),
    ).toMatchObject({ status: 'error' });
    expect(handler.handle('ack', JSON.stringify({ alertId: 'nope', operator: 'o' }))).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/no alert nope/),
    });
    expect(events).toEqual([]);
  });

  it('records an acknowledgement and a disposition from central, once each', () => {
    const { handler, events, ledger } = setup();
    expect(handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'hq' }))).toMatchObject({
      status: 'ok',
      data: { alertId: 'A1', type: 'acknowledged', origin: 'central', operator: 'central-hq', onBehalfOf: 'hq' },
    });
    expect(handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'hq2' }))).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/already acknowledged by central-hq/),
    });
    expect(
      handler.handle(
        'disposition',
        JSON.stringify({ alertId: 'A1', operator: 'hq', disposition: 'person-found', note: 'two adults' }),
      ),
    ).toMatchObject({ status: 'ok' });
    expect(
      handler.handle('disposition', JSON.stringify({ alertId: 'A1', operator: 'hq', disposition: 'false-alarm' })),
    ).toMatchObject({ status: 'error', error: expect.stringMatching(/already has the disposition person-found/) });
    expect(events.map((e) => [e.type, e.origin, e.note])).toEqual([
      ['acknowledged', 'central', undefined],
      ['person-found', 'central', 'two adults'],
    ]);
    expect(ledger.get('A1')?.disposition?.type).toBe('person-found');
  });

  it('a disposition from the console counts: central cannot disposition the alert again', () => {
    const { handler, ledger } = setup();
    ledger.record({
      eventId: 'e',
      alertId: 'A1',
      laneId: 'lane-1',
      siteId: 'site-a',
      at: new Date().toISOString(),
      type: 'false-alarm',
      operator: 'console-op',
      origin: 'console',
    });
    expect(
      handler.handle('disposition', JSON.stringify({ alertId: 'A1', operator: 'hq', disposition: 'person-found' })),
    ).toMatchObject({ status: 'error', error: expect.stringMatching(/console-op/) });
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
    expect(handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'eve' }))).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/not allowed/),
    });
    expect(handler.handle('test-alert', JSON.stringify({ operator: 'eve' }))).toMatchObject({ status: 'error' });
    expect(events).toEqual([]);
    expect(alerts).toHaveLength(1);
  });

  it('raises a test alert on the lane and answers status', () => {
    const { handler, alerts } = setup();
    const r = handler.handle('test-alert', JSON.stringify({ operator: 'hq', message: 'drill' }));
    expect(r.status).toBe('ok');
    expect(alerts[1]).toMatchObject({
      alertId: (r.data as { alertId: string }).alertId,
      kind: 'test',
      severity: 'info',
      scanId: null,
    });
    expect(alerts[1].message).toContain('drill');
    expect(handler.handle('status', '')).toMatchObject({ status: 'ok', data: { laneId: 'lane-1' } });
    expect(handler.handle('reboot', '{}')).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/unknown command "reboot"/),
    });
  });

  it('acts as the configured central identity, never as the operator a payload names, and audits every command', () => {
    const { handler, events, audit } = setup();
    // An anonymous disposition naming op1 (the outside audit's case): recorded as central-hq for op1.
    handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'op1' }));
    expect(
      handler.handle('disposition', JSON.stringify({ alertId: 'A1', operator: 'op1', disposition: 'false-alarm' })),
    ).toMatchObject({ status: 'ok' });
    expect(events.map((e) => [e.type, e.operator, e.onBehalfOf])).toEqual([
      ['acknowledged', 'central-hq', 'op1'],
      ['false-alarm', 'central-hq', 'op1'],
    ]);
    handler.handle('disposition', JSON.stringify({ alertId: 'A1', operator: 'op1', disposition: 'person-found' }));
    expect(audit.map((a) => [a.user, a.role, a.action, a.target, a.ok])).toEqual([
      ['central-hq', 'central', 'acknowledge-alert', 'A1', true],
      ['central-hq', 'central', 'disposition-alert', 'A1', true],
      ['central-hq', 'central', 'disposition-alert', 'A1', false],
    ]);
    expect(audit[1].detail).toMatchObject({ via: 'mqtt', onBehalfOf: 'op1' });
    expect(audit[2].detail).toMatchObject({ error: expect.stringMatching(/already has the disposition/) });
  });

  it('refuses every command when no central identity is configured, and an identity outside the list or its commands', () => {
    const none = setup(undefined, []);
    expect(none.handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'op1' }))).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/no identity is configured \(mqtt\.commands\.identities\)/),
    });
    expect(none.handler.handle('status', '{}')).toMatchObject({ status: 'error' });
    expect(none.events).toEqual([]);
    expect(none.audit.map((a) => [a.user, a.ok])).toEqual([
      [null, false],
      [null, false],
    ]);

    const two = setup(undefined, [
      { name: 'central-hq', commands: ALL },
      { name: 'regional', commands: ['status'] },
    ]);
    expect(two.handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'op1' }))).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/user property central-identity/),
    });
    expect(
      two.handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'op1' }), { identity: 'regional' }),
    ).toMatchObject({ status: 'error', error: expect.stringMatching(/regional may not send ack/) });
    expect(
      two.handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'op1' }), { identity: 'op1' }),
    ).toMatchObject({ status: 'error', error: expect.stringMatching(/"op1" is not allowed/) });
    expect(two.handler.handle('status', '{}', { identity: 'regional' })).toMatchObject({ status: 'ok' });
    expect(
      two.handler.handle('ack', JSON.stringify({ alertId: 'A1', operator: 'op1' }), { identity: 'central-hq' }),
    ).toMatchObject({ status: 'ok', data: { operator: 'central-hq' } });
    expect(two.events).toHaveLength(1);
  });

  it('keeps nothing of a command before it validates: a long transaction is refused and not echoed, a large payload is not read', () => {
    const { handler, events } = setup();
    const long = handler.handle('ack', JSON.stringify({ transaction: 't'.repeat(201), alertId: 'A1', operator: 'hq' }));
    expect(long).toMatchObject({ status: 'error', transaction: null, error: expect.stringMatching(/transaction/) });
    const huge = handler.handle('status', JSON.stringify({ transaction: 'x'.repeat(5 << 20) }));
    expect(huge).toMatchObject({
      status: 'error',
      transaction: null,
      error: `payload of cmd/status is ${(5 << 20) + 18} bytes, over the limit of ${MAX_COMMAND_BYTES}; nothing changed`,
    });
    expect(JSON.stringify(huge).length).toBeLessThan(1000);
    // 40 such commands, each with its own transaction, keep nothing: the answer cache holds valid transactions only.
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 40; i++)
      handler.handle(
        'ack',
        JSON.stringify({ transaction: `${i}`.padEnd(4 << 20, 'z'), alertId: 'A1', operator: 'hq' }),
      );
    global.gc?.();
    expect(events).toEqual([]);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 << 20);
  });

  it('labels unknown command names as one "unknown" metric label', () => {
    expect(CommandHandler.label('ack')).toBe('ack');
    expect(new Set(Array.from({ length: 3000 }, (_, i) => CommandHandler.label(`name-${i}`)))).toEqual(
      new Set(['unknown']),
    );
  });
});
