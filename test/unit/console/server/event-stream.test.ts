import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventStream } from '../../../../console/server/event-stream.js';
import type { Session } from '../../../../console/server/sessions.js';

let server: Server | null = null;
let stream: EventStream | null = null;
afterEach(async () => {
  stream?.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

async function open(
  session: Session,
  heartbeatMs: number,
  isLive: (s: Session) => boolean,
): Promise<{ read: (needle: string) => Promise<string>; text: () => string }> {
  stream = new EventStream({ heartbeatMs, isLive });
  stream.start();
  const s = stream;
  server = createServer((req, res) => s.open(req, res, session, { hi: 1 }));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const reader = res.body!.getReader();
  let text = '';
  return {
    text: () => text,
    read: async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
      return text;
    },
  };
}

describe('EventStream', () => {
  it('starts with hello, pings while the session lives, then says the session ended and closes', async () => {
    const session: Session = {
      id: 's1',
      user: 'alice',
      role: 'operator',
      createdAt: 0,
      expiresAt: Date.now() + 60_000,
      credential: '',
    };
    let live = true;
    const c = await open(session, 30, () => live);
    await c.read('event: hello\ndata: {"hi":1}');
    await c.read('event: ping');
    stream!.broadcast('alert', { a: 1 });
    await c.read('event: alert\ndata: {"a":1}');
    live = false;
    const all = await c.read('event: session-ended');
    expect(all).toContain('"reason":"session expired"');
    expect(stream!.clients).toBe(0);
  });

  it('ends the streams of a session that logs out', async () => {
    const session: Session = {
      id: 's2',
      user: 'bob',
      role: 'operator',
      createdAt: 0,
      expiresAt: Date.now() + 60_000,
      credential: '',
    };
    const c = await open(session, 10_000, () => true);
    await c.read('event: hello');
    stream!.closeSession('s2');
    expect(await c.read('event: session-ended')).toContain('"reason":"logged out"');
    expect(stream!.clients).toBe(0);
  });
});
