import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyRetention } from '../../../../outputs/evidence/retention.js';

const DAY = 86_400_000;
let root: string;

/** A scan folder of `kb` KiB whose files were last written `ageDays` ago. */
function scan(id: string, kb: number, ageDays: number, now: number): void {
  const dir = join(root, id);
  mkdirSync(dir);
  writeFileSync(join(dir, 'scan.jpg'), Buffer.alloc(kb * 1024, 1));
  const t = (now - ageDays * DAY) / 1000;
  utimesSync(join(dir, 'scan.jpg'), t, t);
  utimesSync(dir, t, t);
}

describe('evidence retention', () => {
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'evidence-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('deletes scans older than the retention time', async () => {
    const now = Date.now();
    scan('old', 10, 40, now);
    scan('new', 10, 1, now);
    const r = await applyRetention(root, { maxAgeMs: 30 * DAY, maxBytes: 1 << 30 }, { now });
    expect(r.deleted).toEqual([{ scanId: 'old', bytes: 10 * 1024, reason: 'age' }]);
    expect(readdirSync(root)).toEqual(['new']);
    expect(r.keptBytes).toBe(10 * 1024);
  });

  it('above the size limit deletes the oldest first, and never a scan being written', async () => {
    const now = Date.now();
    scan('s1', 100, 5, now);
    scan('s2', 100, 4, now);
    scan('s3', 100, 3, now);
    scan('s4', 100, 2, now);
    const r = await applyRetention(root, { maxAgeMs: 30 * DAY, maxBytes: 250 * 1024 }, { now, keep: new Set(['s1']) });
    expect(r.deleted.map((d) => [d.scanId, d.reason])).toEqual([
      ['s2', 'size'],
      ['s3', 'size'],
    ]);
    expect(readdirSync(root).sort()).toEqual(['s1', 's4']);
    expect(r.keptScans).toBe(2);
  });

  it('is a no-op on a missing folder', async () => {
    const r = await applyRetention(join(root, 'nothing'), { maxAgeMs: DAY, maxBytes: 1 }, {});
    expect(r).toEqual({ deleted: [], keptScans: 0, keptBytes: 0 });
  });
});
