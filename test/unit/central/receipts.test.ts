import { afterEach, describe, expect, it, vi } from 'vitest';
import { LaneReceipts } from '../../../central/ingest/receipts.js';
import { receiptPayloadSchema } from '../../../core/mqtt-payloads.js';
import { silentLogger } from '../../../core/logger.js';

describe('LaneReceipts', () => {
  afterEach(() => vi.useRealTimers());

  it("gathers one lane's receipts into one message, per lane, and none for status or availability", () => {
    vi.useFakeTimers();
    const sent: [string, unknown][] = [];
    const r = new LaneReceipts({ prefix: 'checkpoint', log: silentLogger(), flushMs: 20 });
    r.attach((topic, payload) => sent.push([topic, receiptPayloadSchema.parse(JSON.parse(payload))]));
    r.add({ kind: 'scan', siteId: 'north', laneId: 'lane-1', id: 'S1' });
    r.add({ kind: 'alert', siteId: 'north', laneId: 'lane-1', id: 'A1' });
    r.add({ kind: 'status', siteId: 'north', laneId: 'lane-1', id: '2026-01-01T00:00:00Z' });
    r.add({ kind: 'event', siteId: 'east', laneId: 'lane-2', id: 'E1' });
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(20);
    expect(sent.map(([t, p]) => [t, (p as { stored: unknown }).stored])).toEqual([
      [
        'checkpoint/north/lane-1/receipt',
        [
          { kind: 'scan', id: 'S1' },
          { kind: 'alert', id: 'A1' },
        ],
      ],
      ['checkpoint/east/lane-2/receipt', [{ kind: 'event', id: 'E1' }]],
    ]);
  });

  it('sends a full receipt at once, and nothing while no transport is attached', () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    const r = new LaneReceipts({ prefix: 'p', log: silentLogger(), maxPerReceipt: 2 });
    r.add({ kind: 'scan', siteId: 's', laneId: 'l', id: 'lost' });
    r.attach((_t, payload) => sent.push(payload));
    r.add({ kind: 'scan', siteId: 's', laneId: 'l', id: 'S1' });
    r.add({ kind: 'scan', siteId: 's', laneId: 'l', id: 'S2' });
    expect(sent.map((p) => (JSON.parse(p) as { stored: { id: string }[] }).stored.map((m) => m.id))).toEqual([
      ['S1', 'S2'],
    ]);
    r.attach(null);
    r.add({ kind: 'scan', siteId: 's', laneId: 'l', id: 'S3' });
    vi.advanceTimersByTime(100);
    expect(sent).toHaveLength(1);
  });
});
