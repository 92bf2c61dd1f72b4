/**
 * Exponential backoff with "equal jitter": the n-th delay is uniformly drawn from
 * [d/2, d] with d = min(maxMs, initialMs * 2^n), so that many lanes reconnecting after a
 * network outage do not hammer a scanner in step, and no delay is ever near zero.
 */
export class Backoff {
  #attempt = 0;

  constructor(
    readonly initialMs: number,
    readonly maxMs: number,
    readonly random: () => number = Math.random,
  ) {}

  get attempt(): number {
    return this.#attempt;
  }

  next(): number {
    const d = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(d / 2 + this.random() * (d / 2));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
