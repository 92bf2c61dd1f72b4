/** A picture as kept by the lane: JPEG bytes as the camera sent them, and when they arrived. */
export interface CameraFrame {
  jpeg: Buffer;
  /** Arrival time, ms since the epoch. */
  at: number;
}

/**
 * The last `keepMs` of a camera's pictures (at least the latest one), so that a scan that
 * begins now can still have the picture of the vehicle entering, taken a moment before.
 */
export class FrameRing {
  readonly #frames: CameraFrame[] = [];
  readonly #keepMs: number;
  readonly #maxFrames: number;

  constructor(keepMs: number, maxFrames = 600) {
    this.#keepMs = keepMs;
    this.#maxFrames = maxFrames;
  }

  push(frame: CameraFrame): void {
    this.#frames.push(frame);
    const cutoff = frame.at - this.#keepMs;
    let drop = 0;
    while (
      drop < this.#frames.length - 1 &&
      (this.#frames[drop].at < cutoff || this.#frames.length - drop > this.#maxFrames)
    )
      drop++;
    if (drop) this.#frames.splice(0, drop);
  }

  get size(): number {
    return this.#frames.length;
  }

  latest(): CameraFrame | null {
    return this.#frames[this.#frames.length - 1] ?? null;
  }

  /** The oldest picture no older than `ms` before `now`: the start of the pre-roll. */
  oldestWithin(ms: number, now: number): CameraFrame | null {
    return this.#frames.find((f) => f.at >= now - ms) ?? null;
  }

  clear(): void {
    this.#frames.length = 0;
  }
}
