import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CameraFeed } from '../../../../firmware-bridge/camera/camera-feed.js';
import type { FrameSink, FrameSource } from '../../../../firmware-bridge/camera/source.js';
import type { DeviceStatus } from '../../../../core/domain.js';
import { silentLogger } from '../../../../core/logger.js';

const JPEG = Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
const CORRUPT = Buffer.from([0xff, 0xd8, 1, 2, 3]);

class FakeSource implements FrameSource {
  readonly describe = 'fake';
  sink: FrameSink | null = null;
  closed = false;
  constructor(readonly fail?: string) {}
  async open(sink: FrameSink): Promise<void> {
    if (this.fail) throw new Error(this.fail);
    this.sink = sink;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function setup(o: { stallMs?: number; failOpen?: (n: number) => string | undefined; unavailable?: string } = {}) {
  const statuses: DeviceStatus[] = [];
  const sources: FakeSource[] = [];
  const feed = new CameraFeed({
    laneId: 'l1',
    cameraId: 'front',
    role: 'front',
    stallMs: o.stallMs ?? 1000,
    preRollMs: 500,
    createSource: () => {
      const s = new FakeSource(o.failOpen?.(sources.length));
      sources.push(s);
      return s;
    },
    ...(o.unavailable ? { unavailable: o.unavailable } : {}),
    publish: (s) => statuses.push(s),
    log: silentLogger(),
    backoff: { initialMs: 100, maxMs: 800 },
  });
  return { feed, statuses, sources, states: () => statuses.map((s) => s.state) };
}

describe('CameraFeed watchdog', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.999999); // each backoff delay at the top of its [d/2, d] range
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('is ok on the first whole picture; a corrupt one is dropped and counted', async () => {
    const { feed, sources, states, statuses } = setup();
    await feed.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(states()).toEqual(['starting']);
    sources[0].sink!.frame(CORRUPT);
    expect(feed.counters.corrupt).toBe(1);
    expect(feed.latest()).toBeNull();
    sources[0].sink!.frame(JPEG);
    expect(states()).toEqual(['starting', 'ok']);
    expect(statuses[1].device).toBe('camera.front');
    expect(feed.latest()!.jpeg).toBe(JPEG);
    expect(feed.counters.frames).toBe(1);
    await feed.stop();
    expect(states().at(-1)).toBe('offline');
  });

  it('restarts a stalled source after stallMs and publishes the stall and the recovery', async () => {
    const { feed, sources, states, statuses } = setup({ stallMs: 1000 });
    await feed.start();
    await vi.advanceTimersByTimeAsync(0);
    sources[0].sink!.frame(JPEG);
    await vi.advanceTimersByTimeAsync(900);
    expect(states()).toEqual(['starting', 'ok']);
    await vi.advanceTimersByTimeAsync(400);
    expect(states()).toEqual(['starting', 'ok', 'stalled']);
    expect(statuses.at(-1)!.detail).toMatch(/no picture for \d+ ms/);
    expect(sources[0].closed).toBe(true);
    await vi.advanceTimersByTimeAsync(150);
    expect(sources).toHaveLength(2);
    // A picture from the old source after the restart no longer counts.
    sources[0].sink!.frame(JPEG);
    expect(feed.state).toBe('stalled');
    sources[1].sink!.frame(JPEG);
    expect(states().at(-1)).toBe('ok');
    expect(statuses.at(-1)!.detail).toMatch(/again \(was stalled\)/);
    expect(feed.counters.restarts).toBe(1);
    await feed.stop();
  });

  it('reports offline when the source cannot open and retries with growing delays', async () => {
    const { feed, sources, states } = setup({ failOpen: (n) => (n < 3 ? `cannot reach cam (${n})` : undefined) });
    await feed.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(states()).toEqual(['starting', 'offline']);
    await vi.advanceTimersByTimeAsync(100); // first retry after 100 ms
    expect(sources).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(150);
    expect(sources).toHaveLength(2); // second retry waits 200 ms
    await vi.advanceTimersByTimeAsync(60);
    expect(sources).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(400);
    expect(sources).toHaveLength(4);
    sources[3].sink!.frame(JPEG);
    expect(feed.state).toBe('ok');
    await feed.stop();
  });

  it('reports offline when the stream ends, and reopens it', async () => {
    const { feed, sources, states } = setup();
    await feed.start();
    await vi.advanceTimersByTimeAsync(0);
    sources[0].sink!.frame(JPEG);
    sources[0].sink!.ended('the camera ended the MJPEG stream');
    expect(states().at(-1)).toBe('offline');
    await vi.advanceTimersByTimeAsync(150);
    expect(sources).toHaveLength(2);
    await feed.stop();
  });

  it('keeps the pre-roll: the first picture of the last preRollMs', async () => {
    const { feed, sources } = setup({ stallMs: 5000 });
    await feed.start();
    await vi.advanceTimersByTimeAsync(0);
    const pics = Array.from({ length: 10 }, (_, i) => Buffer.from([0xff, 0xd8, i, 0xff, 0xd9]));
    for (const p of pics) {
      sources[0].sink!.frame(p);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(feed.preRoll()!.jpeg).toBe(pics[5]);
    expect(feed.latest()!.jpeg).toBe(pics[9]);
    await feed.stop();
  });

  it('is unavailable, and never opened, when it cannot run here', async () => {
    const { feed, sources, statuses } = setup({ unavailable: 'ffmpeg not found' });
    await feed.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(sources).toHaveLength(0);
    expect(statuses.map((s) => [s.state, s.detail])).toEqual([['unavailable', 'ffmpeg not found']]);
    await feed.stop();
  });
});
