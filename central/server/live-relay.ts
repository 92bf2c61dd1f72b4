import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import type { SqlDriver } from '../store/sql.js';
import type { LiveUpdate, LiveUpdates } from './live-updates.js';

/** The PostgreSQL channel the central processes of one database tell each other's pages on. */
export const LIVE_CHANNEL = 'checkpoint_central_live';

/** Notes gathered this long go out as one NOTIFY (one statement, not one per stored message). */
const GATHER_MS = 25;
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_PAYLOAD = 7000;

/**
 * Carries live notes between the central processes sharing a database (LISTEN/NOTIFY): a
 * message stored by one worker updates the pages of every worker. Each process delivers its own
 * notes at once and skips them when they come back from the database; notes of 25 ms go out
 * together.
 */
export class LiveRelay implements Service {
  readonly name = 'live-relay';
  readonly #origin = randomUUID();
  #unlisten: (() => Promise<void>) | null = null;
  #gathered: string[] = [];
  #gatheredBytes = 0;
  #timer: NodeJS.Timeout | null = null;
  #warned = false;

  constructor(private readonly o: { db: SqlDriver; live: LiveUpdates; log: Logger }) {}

  async start(): Promise<void> {
    const { db, live, log } = this.o;
    this.#unlisten = await db.listen(
      LIVE_CHANNEL,
      (payload) => {
        for (const note of this.#notesFrom(payload)) live.deliver(note);
      },
      (err) =>
        log.warn(
          { err },
          `live updates from the other central processes paused: ${err.message} (pages still refresh every 10 s)`,
        ),
    );
    live.shareWith((note) => this.#gather(note));
  }

  #gather(note: LiveUpdate): void {
    const text = JSON.stringify(note);
    if (this.#gatheredBytes + text.length > MAX_PAYLOAD) this.#flush();
    this.#gathered.push(text);
    this.#gatheredBytes += text.length + 1;
    this.#timer ??= setTimeout(() => this.#flush(), GATHER_MS);
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#gathered.length === 0) return;
    const payload = `{"origin":${JSON.stringify(this.#origin)},"notes":[${this.#gathered.join(',')}]}`;
    this.#gathered = [];
    this.#gatheredBytes = 0;
    this.o.db.notify(LIVE_CHANNEL, payload).then(
      () => {
        this.#warned = false;
      },
      (err: Error) => {
        if (!this.#warned)
          this.o.log.warn({ err }, `live notes not passed to the other central processes: ${err.message}`);
        this.#warned = true;
      },
    );
  }

  #notesFrom(payload: string): LiveUpdate[] {
    let m: { origin?: unknown; notes?: unknown };
    try {
      m = JSON.parse(payload) as typeof m;
    } catch {
      return [];
    }
    if (m.origin === this.#origin || !Array.isArray(m.notes)) return [];
    const out: LiveUpdate[] = [];
    for (const n of m.notes as Partial<LiveUpdate>[]) {
      if (typeof n?.kind !== 'string' || typeof n.at !== 'string') continue;
      out.push({
        kind: n.kind,
        at: n.at,
        ...(typeof n.siteId === 'string' ? { siteId: n.siteId } : {}),
        ...(typeof n.laneId === 'string' ? { laneId: n.laneId } : {}),
        ...(typeof n.id === 'string' ? { id: n.id } : {}),
      });
    }
    return out;
  }

  async stop(): Promise<void> {
    this.o.live.shareWith(null);
    this.#flush();
    await this.#unlisten?.();
    this.#unlisten = null;
  }
}
