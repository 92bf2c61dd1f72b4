import { afterEach, describe, expect, it } from 'vitest';
import type { AlertOutbox, OutboxKind, OutboxMessage } from '../../../../outputs/mqtt/outbox.js';

/** Makes a fresh, empty outbox bounded to maxMessages. */
export type OutboxFactory = (maxMessages: number) => AlertOutbox;

const msg = (kind: OutboxKind, id: string): OutboxMessage => ({
  kind,
  id,
  topic: `t/${kind}`,
  payload: JSON.stringify({ id }),
});

/** The contract every AlertOutbox implementation passes (run against memory and SQLite). */
export function outboxContract(name: string, make: OutboxFactory): void {
  describe(`outbox contract: ${name}`, () => {
    const open: AlertOutbox[] = [];
    const fresh = (max = 100) => {
      const o = make(max);
      open.push(o);
      return o;
    };
    afterEach(() => {
      for (const o of open.splice(0)) o.close();
    });

    it('returns queued messages oldest first, with growing seq', () => {
      const o = fresh();
      const seqs = ['s1', 'a1', 's2'].map((id) => o.put(msg(id.startsWith('a') ? 'alert' : 'scan', id)).seq!);
      expect(seqs[0]).toBeLessThan(seqs[1]);
      expect(seqs[1]).toBeLessThan(seqs[2]);
      const p = o.pending(0, 10);
      expect(p.map((e) => e.id)).toEqual(['s1', 'a1', 's2']);
      expect(p[1]).toMatchObject({ kind: 'alert', topic: 't/alert', payload: '{"id":"a1"}' });
      expect(typeof p[0].createdAt).toBe('string');
    });

    it('pages with afterSeq and limit', () => {
      const o = fresh();
      for (let i = 0; i < 5; i++) o.put(msg('scan', `s${i}`));
      const first = o.pending(0, 2);
      expect(first.map((e) => e.id)).toEqual(['s0', 's1']);
      expect(o.pending(first[1].seq, 10).map((e) => e.id)).toEqual(['s2', 's3', 's4']);
    });

    it('removes on acknowledgement and reports depth by kind', () => {
      const o = fresh();
      const a = o.put(msg('alert', 'a1')).seq!;
      o.put(msg('scan', 's1'));
      o.put(msg('event', 'e1'));
      expect(o.depth()).toEqual({ depth: 3, alerts: 1, scans: 1, events: 1 });
      expect(o.remove(a)).toBe(true);
      expect(o.remove(a)).toBe(false);
      expect(o.depth()).toEqual({ depth: 2, alerts: 0, scans: 1, events: 1 });
      expect(o.pending(0, 10).map((e) => e.id)).toEqual(['s1', 'e1']);
    });

    it('removes acknowledged entries together', () => {
      const o = fresh();
      const seqs = ['s1', 's2', 's3', 's4'].map((id) => o.put(msg('scan', id)).seq!);
      expect(o.removeAll([seqs[0], seqs[2], 999_999])).toBe(2);
      expect(o.pending(0, 10).map((e) => e.id)).toEqual(['s2', 's4']);
      expect(o.removeAll([])).toBe(0);
    });

    it('never reuses a seq, even after the newest entry is removed', () => {
      const o = fresh();
      o.put(msg('scan', 's1'));
      const s2 = o.put(msg('scan', 's2')).seq!;
      o.remove(s2);
      const s3 = o.put(msg('scan', 's3')).seq!;
      expect(s3).toBeGreaterThan(s2);
    });

    it('queues a kind and id once: a duplicate keeps its first place', () => {
      const o = fresh();
      const first = o.put(msg('alert', 'a1'));
      o.put(msg('scan', 's1'));
      const again = o.put(msg('alert', 'a1'));
      expect(again).toMatchObject({ duplicate: true, seq: first.seq, refused: false });
      expect(o.pending(0, 10).map((e) => e.id)).toEqual(['a1', 's1']);
      // the same id under another kind is another message
      expect(o.put(msg('scan', 'a1')).duplicate).toBe(false);
    });

    it('when full, evicts the oldest scan result before any alert', () => {
      const o = fresh(3);
      o.put(msg('alert', 'a1'));
      o.put(msg('scan', 's1'));
      o.put(msg('scan', 's2'));
      const r = o.put(msg('alert', 'a2'));
      expect(r.evicted).toEqual([expect.objectContaining({ id: 's1', kind: 'scan' })]);
      expect(o.pending(0, 10).map((e) => e.id)).toEqual(['a1', 's2', 'a2']);
      const r2 = o.put(msg('scan', 's3'));
      expect(r2.evicted.map((e) => e.id)).toEqual(['s2']);
      expect(o.depth()).toMatchObject({ depth: 3, alerts: 2, scans: 1 });
    });

    it('evicts events after scan results and before alerts', () => {
      const o = fresh(3);
      o.put(msg('event', 'e1'));
      o.put(msg('alert', 'a1'));
      o.put(msg('scan', 's1'));
      expect(o.put(msg('alert', 'a2')).evicted.map((e) => e.id)).toEqual(['s1']);
      expect(o.put(msg('alert', 'a3')).evicted.map((e) => e.id)).toEqual(['e1']);
      expect(o.pending(0, 10).map((e) => e.id)).toEqual(['a1', 'a2', 'a3']);
    });

    it('refuses a scan result or event rather than evict an alert; an alert evicts the oldest alert only when nothing else is left', () => {
      const o = fresh(2);
      o.put(msg('alert', 'a1'));
      o.put(msg('alert', 'a2'));
      expect(o.put(msg('scan', 's1'))).toMatchObject({ seq: null, refused: true, evicted: [] });
      expect(o.put(msg('event', 'e1'))).toMatchObject({ seq: null, refused: true });
      const r = o.put(msg('alert', 'a3'));
      expect(r.refused).toBe(false);
      expect(r.evicted.map((e) => e.id)).toEqual(['a1']);
      expect(o.pending(0, 10).map((e) => e.id)).toEqual(['a2', 'a3']);
    });

    it('refuses use after close', () => {
      const o = make(10);
      o.close();
      expect(() => o.put(msg('scan', 's1'))).toThrow();
    });
  });
}
