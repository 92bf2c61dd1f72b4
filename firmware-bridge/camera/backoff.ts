/** Exponential backoff with jitter (±20 %), so that cameras restarted together do not retry in step. */
export class Backoff {
  #next: number;
  constructor(readonly initialMs: number, readonly maxMs: number, readonly random: () => number = Math.random) {
    this.#next = initialMs;
  }

  /** The delay before the next attempt; each call doubles the one after, up to maxMs. */
  next(): number {
    const base = this.#next;
    this.#next = Math.min(this.maxMs, this.#next * 2);
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }

  reset(): void {
    this.#next = this.initialMs;
  }
}
