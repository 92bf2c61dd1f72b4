/**
 * Reconnect delays: exponential growth from initialMs to maxMs with "equal jitter" (each delay
 * is uniformly drawn from [d/2, d]), so a fleet of lanes that lost the broker together does not
 * reconnect in lock-step, and no delay is ever shorter than half the nominal one. Used by
 * every reconnecting part: scanner transports, the OPC UA client pacing, cameras, MQTT.
 */
export class Backoff {
  #attempt = 0;

  constructor(
    readonly initialMs: number,
    readonly maxMs: number,
    readonly random: () => number = Math.random,
  ) {
    if (initialMs <= 0 || maxMs < initialMs)
      throw new Error(`backoff: expected 0 < initialMs <= maxMs, got ${initialMs} and ${maxMs}`);
  }

  /** Failed attempts since the last success. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const nominal = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(nominal / 2 + this.random() * (nominal / 2));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
