import { describe, expect, it } from 'vitest';
import { loadModelFiles } from '../../../inference/manifest.js';
import { OnnxDetector } from '../../../inference/onnx-detector.js';
import type { TileRunner } from '../../../inference/session.js';
import { TileScheduler } from '../../../inference/tile-scheduler.js';
import { completed, metaFor, scanImage, TINY } from '../../helpers/inference.js';

/** A job that finishes when told to, recording when it started. */
function gate(name: string, log: string[]) {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return {
    run: async () => {
      log.push(name);
      await done;
      return name;
    },
    open: () => open(),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('TileScheduler', () => {
  it("a lane that queues behind another lane's long scan runs after the one tile in progress", async () => {
    const s = new TileScheduler();
    const a = s.lane('a');
    const b = s.lane('b');
    const started: string[] = [];
    const aJobs = Array.from({ length: 6 }, (_, i) => gate(`a${i}`, started));
    const aDone = aJobs.map((j) => a(j.run));
    await tick();
    expect(started).toEqual(['a0']);
    const bJobs = Array.from({ length: 2 }, (_, i) => gate(`b${i}`, started));
    const bDone = bJobs.map((j) => b(j.run));
    aJobs[0]!.open();
    await tick();
    // b's first tile takes the next turn, ahead of a's five waiting tiles
    expect(started).toEqual(['a0', 'b0']);
    bJobs[0]!.open();
    await tick();
    expect(started).toEqual(['a0', 'b0', 'a1']);
    aJobs[1]!.open();
    await tick();
    expect(started).toEqual(['a0', 'b0', 'a1', 'b1']);
    bJobs[1]!.open();
    for (const j of aJobs) j.open();
    expect(await Promise.all(bDone)).toEqual(['b0', 'b1']);
    expect(await Promise.all(aDone)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    expect(started).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'a3', 'a4', 'a5']);
  });

  it('takes turns round the lanes that have work, and keeps each lane in order', async () => {
    const s = new TileScheduler();
    const order: string[] = [];
    const run = (name: string) => async () => {
      order.push(name);
      await tick();
    };
    const lanes = ['a', 'b', 'c', 'd'].map((id) => ({ id, q: s.lane(id) }));
    const all: Promise<void>[] = [];
    for (const { id, q } of lanes) for (let i = 0; i < (id === 'c' ? 1 : 3); i++) all.push(q(run(`${id}${i}`)));
    await Promise.all(all);
    expect(order).toEqual(['a0', 'b0', 'c0', 'd0', 'a1', 'b1', 'd1', 'a2', 'b2', 'd2']);
  });

  it('never runs two tiles of one lane at once, nor more than `concurrency` in all; a failing tile rejects only its own caller', async () => {
    const s = new TileScheduler({ concurrency: 2 });
    let now = 0;
    let most = 0;
    const perLane = new Map<string, number>();
    const job =
      (lane: string, fail = false) =>
      async () => {
        now++;
        most = Math.max(most, now);
        perLane.set(lane, (perLane.get(lane) ?? 0) + 1);
        expect(perLane.get(lane)).toBe(1);
        await tick();
        perLane.set(lane, perLane.get(lane)! - 1);
        now--;
        if (fail) throw new Error(`tile of ${lane} failed`);
        return lane;
      };
    const a = s.lane('a');
    const b = s.lane('b');
    const c = s.lane('c');
    const results = await Promise.allSettled([a(job('a')), a(job('a', true)), b(job('b')), c(job('c')), a(job('a'))]);
    expect(most).toBe(2);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(s.waiting).toBe(0);
    expect(s.running).toBe(0);
  });
});

describe('two detectors on one scheduler', () => {
  it("a short scan on lane b is decided while lane a's long scan is still being analysed", async () => {
    const files = await loadModelFiles(TINY);
    const calls: string[] = [];
    let active = 0;
    let mostActive = 0;
    const runner = (lane: string): TileRunner => ({
      async run(_input, h, w) {
        calls.push(lane);
        mostActive = Math.max(mostActive, ++active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        return { heatmap: new Float32Array((h / 4) * (w / 4)), heatW: w / 4, heatH: h / 4, score: 0.01 };
      },
      async release() {},
    });
    const s = new TileScheduler();
    const model = (lane: string) => ({ manifest: files.manifest, identity: files.identity, runner: runner(lane) });
    const da = OnnxDetector.fromModel(model('a'), { threads: 1, warmup: false, queue: s.lane('a') });
    const db = OnnxDetector.fromModel(model('b'), { threads: 1, warmup: false, queue: s.lane('b') });
    const long = scanImage(4000, 100, 5, []);
    const short = scanImage(200, 100, 5, []);
    const finished: string[] = [];
    const pa = da
      .begin(metaFor(long, 'long'))
      .finish(completed(long, metaFor(long, 'long')))
      .then(() => finished.push('a'));
    await tick();
    const pb = db
      .begin(metaFor(short, 'short'))
      .finish(completed(short, metaFor(short, 'short')))
      .then(() => finished.push('b'));
    await Promise.all([pa, pb]);
    expect(finished).toEqual(['b', 'a']);
    // one tile at a time on the box, whichever lane's session runs it
    expect(mostActive).toBe(1);
    const aTiles = calls.filter((c) => c === 'a').length;
    const bTiles = calls.filter((c) => c === 'b').length;
    expect(aTiles).toBeGreaterThan(10);
    // b's tiles came in turns with a's: each of them after at most one of a's
    const firstB = calls.indexOf('b');
    expect(firstB).toBeLessThanOrEqual(1);
    expect(calls.slice(0, firstB + 2 * bTiles).filter((c) => c === 'a').length).toBeLessThanOrEqual(bTiles + 1);
    await da.close();
    await db.close();
  });
});
