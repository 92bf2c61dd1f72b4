import type { AbortReason, ScanMeta, ScanState } from '../core/domain.js';

export class ScanStateError extends Error {
  constructor(
    readonly scanId: string | null,
    readonly from: ScanState,
    readonly action: string,
  ) {
    super(`scan ${scanId ?? '(none)'}: cannot ${action} while ${from}`);
    this.name = 'ScanStateError';
  }
}

const TRANSITIONS: Record<ScanState, readonly ScanState[]> = {
  idle: ['scanning'],
  scanning: ['analysing', 'aborted'],
  analysing: ['decided', 'aborted'],
  decided: ['scanning', 'idle'],
  aborted: ['scanning', 'idle'],
};

/**
 * The life of one scan at a lane: idle -> scanning -> analysing -> decided, or aborted with a
 * reason from scanning or analysing. A decided or aborted session can begin the next scan.
 * Illegal transitions throw ScanStateError: a scanner that sends lines without a begin is a
 * protocol problem to surface, not to paper over.
 */
export class ScanSession {
  #state: ScanState = 'idle';
  #meta: ScanMeta | null = null;
  #abortReason: AbortReason | null = null;
  #lines = 0;
  readonly #onChange?: (state: ScanState, session: ScanSession) => void;

  constructor(onChange?: (state: ScanState, session: ScanSession) => void) {
    this.#onChange = onChange;
  }

  get state(): ScanState {
    return this.#state;
  }
  get meta(): ScanMeta | null {
    return this.#meta;
  }
  get scanId(): string | null {
    return this.#meta?.scanId ?? null;
  }
  get abortReason(): AbortReason | null {
    return this.#abortReason;
  }
  get lines(): number {
    return this.#lines;
  }
  /** True while a scan is open (lines may still arrive or it is being analysed). */
  get active(): boolean {
    return this.#state === 'scanning' || this.#state === 'analysing';
  }

  begin(meta: ScanMeta): void {
    this.#go('scanning', 'begin a scan');
    this.#meta = meta;
    this.#abortReason = null;
    this.#lines = 0;
    this.#changed();
  }

  addLines(count: number): void {
    if (this.#state !== 'scanning') throw new ScanStateError(this.scanId, this.#state, 'add lines');
    this.#lines += count;
  }

  /** The scanner closed the scan; analysis runs. */
  end(): void {
    this.#go('analysing', 'end the scan');
    this.#changed();
  }

  decide(): void {
    this.#go('decided', 'decide');
    this.#changed();
  }

  abort(reason: AbortReason): void {
    this.#go('aborted', `abort (${reason})`);
    this.#abortReason = reason;
    this.#changed();
  }

  reset(): void {
    if (this.active) throw new ScanStateError(this.scanId, this.#state, 'reset');
    this.#state = 'idle';
    this.#changed();
  }

  #go(to: ScanState, action: string): void {
    if (!TRANSITIONS[this.#state].includes(to)) throw new ScanStateError(this.scanId, this.#state, action);
    this.#state = to;
  }

  #changed(): void {
    this.#onChange?.(this.#state, this);
  }
}
