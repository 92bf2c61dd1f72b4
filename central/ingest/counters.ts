import { Counter, type Registry } from 'prom-client';
import type { IngestOutcome } from './lane-message.js';

/** Counts of lane messages by outcome, for /metrics and the figures in the log. */
export class IngestCounters {
  readonly #c: Counter<'outcome'>;
  readonly totals: Record<IngestOutcome | 'error', number> = {
    stored: 0,
    duplicate: 0,
    ignored: 0,
    invalid: 0,
    error: 0,
  };

  constructor(registry: Registry) {
    this.#c = new Counter({
      name: 'checkpoint_central_ingest_messages_total',
      help: 'Lane messages taken in, by outcome (stored, duplicate, ignored, invalid, error).',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  count(outcome: IngestOutcome | 'error'): void {
    this.totals[outcome]++;
    this.#c.inc({ outcome });
  }
}
