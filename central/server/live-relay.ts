import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import type { SqlDriver } from '../store/sql.js';
import type { LiveUpdate, LiveUpdates } from './live-updates.js';

/** The PostgreSQL channel the central processes of one database tell each other's pages on. */
export const LIVE_CHANNEL = 'checkpoint_central_live';

/**
 * Carries live notes between the central processes sharing a database (LISTEN/NOTIFY): a
 * message stored by one worker updates the pages of every worker. Each process delivers its own
 * notes at once and skips them when they come back from the database.
 */
export class LiveRelay implements Service {
  readonly name = 'live-relay';
  readonly #origin = randomUUID();
  #unlisten: (() => Promise<void>) | null = null;

  constructor(private readonly o: { db: SqlDriver; live: LiveUpdates; log: Logger }) {}

  async start(): Promise<void> {
    const { db, live, log } = this.o;
    this.#unlisten = await db.listen(
      LIVE_CHANNEL,
      (payload) => {
        const note = this.#noteFrom(payload);
        if (note) live.deliver(note);
      },
      (err) =>
        log.warn(
          { err },
          `live updates from the other central processes paused: ${err.message} (pages still refresh every 10 s)`,
        ),
    );
    let warned = false;
    live.shareWith((note) => {
      db.notify(LIVE_CHANNEL, JSON.stringify({ origin: this.#origin, note })).then(
        () => {
          warned = false;
        },
        (err: Error) => {
          if (!warned) log.warn({ err }, `live note not passed to the other central processes: ${err.message}`);
          warned = true;
        },
      );
    });
  }

  #noteFrom(payload: string): LiveUpdate | null {
    let m: { origin?: unknown; note?: Partial<LiveUpdate> };
    try {
      m = JSON.parse(payload) as typeof m;
    } catch {
      return null;
    }
    if (m.origin === this.#origin || typeof m.note?.kind !== 'string' || typeof m.note.at !== 'string') return null;
    const n = m.note;
    return {
      kind: n.kind!,
      at: n.at!,
      ...(typeof n.siteId === 'string' ? { siteId: n.siteId } : {}),
      ...(typeof n.laneId === 'string' ? { laneId: n.laneId } : {}),
      ...(typeof n.id === 'string' ? { id: n.id } : {}),
    };
  }

  async stop(): Promise<void> {
    this.o.live.shareWith(null);
    await this.#unlisten?.();
    this.#unlisten = null;
  }
}
