import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { EventBus } from '../../../core/event-bus.js';
import { createLogger } from '../../../core/logger.js';

interface Events {
  ping: { n: number };
  other: string;
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination: dest }), lines };
}

describe('EventBus', () => {
  it('delivers a payload to every listener of the event, in subscription order', () => {
    const { log } = capture();
    const bus = new EventBus<Events>(log);
    const seen: string[] = [];
    bus.on('ping', 'a', (p) => void seen.push(`a${p.n}`));
    bus.on('ping', 'b', (p) => void seen.push(`b${p.n}`));
    bus.on('other', 'c', () => void seen.push('wrong'));
    bus.emit('ping', { n: 1 });
    expect(seen).toEqual(['a1', 'b1']);
  });

  it('isolates a throwing listener: the others still run and the failure is logged with its owner', async () => {
    const { log, lines } = capture();
    const bus = new EventBus<Events>(log);
    const seen: string[] = [];
    bus.on('ping', 'first', () => void seen.push('first'));
    bus.on('ping', 'broken-part', () => {
      throw new Error('boom');
    });
    bus.on('ping', 'last', () => void seen.push('last'));
    expect(() => bus.emit('ping', { n: 1 })).not.toThrow();
    expect(seen).toEqual(['first', 'last']);
    expect(bus.listenerErrors).toBe(1);
    await new Promise((r) => setImmediate(r));
    const err = lines.find((l) => l.level === 50);
    expect(err?.owner).toBe('broken-part');
    expect(err?.event).toBe('ping');
    expect(String(err?.msg)).toContain('boom');
  });

  it('isolates a listener whose promise rejects', async () => {
    const { log, lines } = capture();
    const bus = new EventBus<Events>(log);
    let after = 0;
    bus.on('ping', 'async-part', async () => {
      throw new Error('later');
    });
    bus.on('ping', 'next', () => void after++);
    bus.emit('ping', { n: 2 });
    expect(after).toBe(1);
    await vi.waitFor(() => expect(bus.listenerErrors).toBe(1));
    expect(lines.some((l) => l.owner === 'async-part' && String(l.msg).includes('later'))).toBe(true);
  });

  it('unsubscribes one listener, or every listener of an owner', () => {
    const bus = new EventBus<Events>(capture().log);
    let a = 0;
    let b = 0;
    const off = bus.on('ping', 'a', () => void a++);
    bus.on('ping', 'b', () => void b++);
    bus.on('other', 'b', () => void b++);
    off();
    bus.emit('ping', { n: 0 });
    expect([a, b]).toEqual([0, 1]);
    bus.offOwner('b');
    bus.emit('ping', { n: 0 });
    bus.emit('other', 'x');
    expect(b).toBe(1);
    expect(bus.listenerCount('ping')).toBe(0);
  });
});
