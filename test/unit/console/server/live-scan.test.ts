import { describe, expect, it } from 'vitest';
import { LiveScan } from '../../../../console/server/live-scan.js';
import type { LineBatch, ScanMeta } from '../../../../core/domain.js';

const meta = (scanId: string, channels = 640): ScanMeta => ({
  scanId,
  laneId: 'l',
  startedAt: '2026-01-01T00:00:00Z',
  channels,
  energies: 2,
  pixelMm: 5,
  source: 'stream',
});
const batch = (scanId: string, firstIndex: number, count: number, channels = 640): LineBatch => ({
  scanId,
  firstIndex,
  count,
  channels,
  high: new Uint16Array(count * channels).fill(65535),
  low: new Uint16Array(count * channels).fill(1),
});

describe('LiveScan', () => {
  it('downsamples the current scan and hands out what arrived since the last flush', () => {
    const live = new LiveScan('l');
    expect(live.begin(meta('a'))).toMatchObject({ scanId: 'a', factor: 2, height: 320 });
    live.add(batch('a', 0, 10));
    live.add(batch('a', 10, 10));
    const m = live.flush()!;
    expect([m.firstIndex, m.count, m.height]).toEqual([0, 10, 320]);
    expect(Buffer.from(m.high, 'base64')).toEqual(Buffer.alloc(10 * 320, 255));
    expect(Buffer.from(m.low!, 'base64')).toEqual(Buffer.alloc(10 * 320, 0));
    expect(live.flush()).toBeNull();
    live.add(batch('a', 20, 4));
    expect(live.flush()).toMatchObject({ firstIndex: 10, count: 2 });
  });

  it('drops lines of another scan or another detector size, and gives a late console all of the scan', () => {
    const live = new LiveScan('l');
    live.begin(meta('a'));
    expect(live.add(batch('b', 0, 10))).toBe(false);
    expect(live.add(batch('a', 0, 10, 320))).toBe(false);
    live.add(batch('a', 0, 10));
    live.flush();
    live.add(batch('a', 10, 10));
    const snap = live.snapshot()!;
    expect(snap.begin.scanId).toBe('a');
    expect([snap.lines!.firstIndex, snap.lines!.count]).toEqual([0, 10]);
    live.begin(meta('c'));
    expect(live.snapshot()!.lines).toBeNull();
  });
});
