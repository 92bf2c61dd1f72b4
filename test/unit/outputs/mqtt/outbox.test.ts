import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryOutbox } from '../../../../outputs/mqtt/memory-outbox.js';
import { SqliteOutbox } from '../../../../outputs/mqtt/sqlite-outbox.js';
import { outboxContract } from './outbox-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

outboxContract('MemoryOutbox', (max) => new MemoryOutbox(max));
outboxContract(
  'SqliteOutbox',
  (max) =>
    new SqliteOutbox({ path: join(dir, `o${n++}.sqlite`), laneId: 'lane-1', maxMessages: max, synchronous: 'full' }),
);

describe('SqliteOutbox durability', () => {
  it('keeps queued messages and their order across a reopen, per lane', () => {
    const path = join(dir, 'reopen.sqlite');
    const a = new SqliteOutbox({ path, laneId: 'lane-1', maxMessages: 100, synchronous: 'normal' });
    const b = new SqliteOutbox({ path, laneId: 'lane-2', maxMessages: 100, synchronous: 'normal' });
    a.put({ kind: 'scan', id: 's1', topic: 't', payload: '1' });
    const acked = a.put({ kind: 'alert', id: 'a1', topic: 't', payload: '2' }).seq!;
    a.put({ kind: 'scan', id: 's2', topic: 't', payload: '3' });
    b.put({ kind: 'scan', id: 'other', topic: 't', payload: 'x' });
    a.remove(acked);
    a.close();
    b.close();
    const again = new SqliteOutbox({ path, laneId: 'lane-1', maxMessages: 100, synchronous: 'full' });
    expect(again.pending(0, 10).map((e) => [e.id, e.payload])).toEqual([
      ['s1', '1'],
      ['s2', '3'],
    ]);
    expect(again.depth()).toEqual({ depth: 2, alerts: 0, scans: 2, events: 0 });
    const next = again.put({ kind: 'scan', id: 's3', topic: 't', payload: '4' }).seq!;
    expect(next).toBeGreaterThan(acked);
    again.close();
  });

  it('says which file could not be opened', () => {
    const notADir = join(dir, 'plain-file');
    writeFileSync(notADir, 'x');
    const path = join(notADir, 'outbox.sqlite');
    expect(() => new SqliteOutbox({ path, laneId: 'l', maxMessages: 100, synchronous: 'full' })).toThrow(
      `MQTT outbox ${path}: cannot open`,
    );
  });
});
