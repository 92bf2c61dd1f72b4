/** Runs one tile's inference after the tiles queued before it on the same lane. */
export type TileQueue = <T>(run: () => Promise<T>) => Promise<T>;

interface Waiting {
  run: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
}

interface LaneQueue {
  id: string;
  waiting: Waiting[];
  running: boolean;
}

export interface TileSchedulerOptions {
  /**
   * Tiles run at once over all lanes. 1 on a small box: each tile then has every intra-op thread
   * to itself, and a lane waits for at most one tile of each other lane.
   */
  concurrency?: number;
}

/**
 * Shares the box's inference between its lanes. Each lane's tiles run in the order its scans
 * queue them, one at a time; between lanes the scheduler takes turns, tile by tile, so a lane
 * whose scan arrives while another lane's long scan is being analysed waits for the tile that
 * is running (one per other lane with work, at most), never for the rest of that scan.
 */
export class TileScheduler {
  readonly concurrency: number;
  /** Lanes in the order they first queued; turns go round this ring. */
  readonly #lanes: LaneQueue[] = [];
  /** Index in #lanes of the lane served last: the next turn starts after it. */
  #last = -1;
  #running = 0;

  constructor(o: TileSchedulerOptions = {}) {
    this.concurrency = Math.max(1, Math.floor(o.concurrency ?? 1));
  }

  /** The queue a lane's detector runs its tiles through. */
  lane(laneId: string): TileQueue {
    let q = this.#lanes.find((l) => l.id === laneId);
    if (!q) {
      q = { id: laneId, waiting: [], running: false };
      this.#lanes.push(q);
    }
    const lane = q;
    return <T>(run: () => Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        lane.waiting.push({ run, resolve: resolve as (v: unknown) => void, reject });
        this.#next();
      });
  }

  /** Tiles waiting for their turn, over all lanes (not those running). */
  get waiting(): number {
    return this.#lanes.reduce((n, l) => n + l.waiting.length, 0);
  }

  get running(): number {
    return this.#running;
  }

  #next(): void {
    while (this.#running < this.concurrency) {
      const lane = this.#turn();
      if (!lane) return;
      const job = lane.waiting.shift()!;
      lane.running = true;
      this.#running++;
      let p: Promise<unknown>;
      try {
        p = job.run();
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(job.resolve, job.reject).finally(() => {
        lane.running = false;
        this.#running--;
        this.#next();
      });
    }
  }

  /** The next lane after the one served last that has a tile waiting and none running. */
  #turn(): LaneQueue | null {
    const n = this.#lanes.length;
    for (let k = 1; k <= n; k++) {
      const i = (this.#last + k) % n;
      const l = this.#lanes[i]!;
      if (!l.running && l.waiting.length > 0) {
        this.#last = i;
        return l;
      }
    }
    return null;
  }
}

/** A queue of its own for a detector that shares nothing: tiles one at a time, in order. */
export function serialTileQueue(): TileQueue {
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(run: () => Promise<T>) => {
    const p = chain.then(run);
    chain = p.catch(() => {});
    return p;
  };
}
