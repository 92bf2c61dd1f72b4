import { uuidv7 } from '../core/ids.js';
import type { Alert, AlertSeverity, WatchlistHit } from '../core/domain.js';
import type { EventBus } from '../core/event-bus.js';
import type { LaneEvents } from '../core/events.js';
import { deviceStatus } from '../core/health.js';
import type { Logger } from '../core/logger.js';
import type { Service } from '../core/service.js';
import { normaliseRead } from '../core/watchlist/plate.js';
import type { ListKeeper, ReceiveOutcome } from './list-keeper.js';
import type { ReadQuery } from './watchlist-index.js';

/** Where list versions arrive from central command (MQTT in production). */
export interface ListFeed {
  start(handlers: {
    message(topic: string, bytes: Buffer): void;
    state(connected: boolean, detail: string): void;
  }): Promise<void>;
  stop(): Promise<void>;
}

export interface WatchlistLane {
  laneId: string;
  bus: EventBus<LaneEvents>;
}

export interface WatchlistServiceOptions {
  siteId: string;
  keeper: ListKeeper;
  lanes: WatchlistLane[];
  /** Absent: only the lists on disk are used. */
  feed?: ListFeed;
  log: Logger;
  /** The same read matching the same entry again within this time raises no second alert. */
  repeatMs: number;
  now?: () => number;
}

const DEVICE = 'watchlist';
/** Bound on the reads remembered for repeat suppression. */
const MAX_RECENT = 10_000;

/** One read as the lanes' inputs give it. */
interface LaneRead {
  query: ReadQuery;
  confidence: number | null;
  cameraId?: string;
  at: string;
  via: string;
}

/**
 * The lane-side watchlist: keeps the site's lists current from central command (verified by the
 * ListKeeper), checks every plate and container code read on each lane's bus, and raises a hit as
 * a 'watchlist' alert; a hit on a covert entry goes out as 'watchlist.covert', which only the
 * link to central command takes. Each lane's status says which list versions it holds.
 */
export class WatchlistService implements Service {
  readonly name = 'watchlist';
  readonly #options: WatchlistServiceOptions;
  readonly #off: (() => void)[] = [];
  /** Per lane: the scan whose vehicle is in the lane now. */
  readonly #openScan = new Map<string, { scanId: string; scannerScanId?: string } | null>();
  /** `${lane}|${list}|${entry}|${read}` → when its alert was raised. */
  readonly #recent = new Map<string, number>();
  #feedState = 'no feed: lists from disk only (no mqtt section)';
  #refused = 0;
  #lastRefusal: string | null = null;
  #hits = 0;
  #stopping = false;

  constructor(o: WatchlistServiceOptions) {
    this.#options = o;
  }

  get hits(): number {
    return this.#hits;
  }

  async start(): Promise<void> {
    const { keeper, log } = this.#options;
    const { loaded, problems } = await keeper.load();
    for (const p of problems) log.error(`watchlist: last good version on disk refused: ${p}`);
    if (loaded.length)
      log.info(
        { lists: loaded },
        `watchlist: holding ${loaded.map((l) => `${l.listId} v${l.version} (${l.entries} entries)`).join(', ')} from disk`,
      );
    for (const lane of this.#options.lanes) this.#watch(lane);
    this.#status();
    if (this.#options.feed) {
      this.#feedState = 'connecting to central command';
      await this.#options.feed.start({
        message: (topic, bytes) => void this.#receive(topic, bytes),
        state: (connected, detail) => {
          this.#feedState = connected ? detail : `${detail}; matching against the lists held`;
          this.#status();
        },
      });
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const off of this.#off.splice(0)) off();
    await this.#options.feed?.stop();
    await this.#options.keeper.close();
  }

  /** Takes one list message (the feed's, or a file's); reports refusals. */
  async #receive(topic: string, bytes: Buffer): Promise<ReceiveOutcome | null> {
    if (bytes.length === 0) return null; // a retained delta cleared when central published a snapshot
    let r: ReceiveOutcome;
    try {
      r = await this.#options.keeper.receive(bytes);
    } catch (err) {
      if (this.#stopping) {
        this.#options.log.info(`watchlist message on ${topic} not taken: the edge is stopping`);
        return null;
      }
      this.#refused++;
      this.#lastRefusal = `not taken: ${(err as Error).message}`;
      this.#options.log.error({ err, topic }, `watchlist message on ${topic} not taken: ${(err as Error).message}`);
      this.#status();
      return null;
    }
    const { log } = this.#options;
    switch (r.outcome) {
      case 'applied':
        log.info(
          { topic, listId: r.listId, version: r.version, kind: r.kind, entries: r.entries, ms: Math.round(r.ms) },
          `watchlist ${r.listId} v${r.version} applied (${r.kind}, ${r.entries} entries, ${Math.round(r.ms)} ms)`,
        );
        break;
      case 'already-held':
        break;
      case 'waiting':
        log.warn(
          { topic, ...r },
          `watchlist ${r.listId}: delta v${r.version} is on v${r.baseVersion}, this lane holds ${r.held === null ? 'no version' : `v${r.held}`}: kept until central publishes a snapshot or the delta before it`,
        );
        break;
      case 'refused':
        this.#refused++;
        this.#lastRefusal = `${r.reason}: ${r.detail}`;
        log.error(
          { topic, reason: r.reason, listId: r.listId, version: r.version },
          `watchlist message on ${topic} refused (${r.reason}): ${r.detail}; the lists held are unchanged`,
        );
        break;
    }
    this.#status();
    return r;
  }

  #watch(lane: WatchlistLane): void {
    const { bus, laneId } = lane;
    this.#openScan.set(laneId, null);
    this.#off.push(
      bus.on('scan.begin', this.name, (m) => {
        this.#openScan.set(laneId, {
          scanId: m.scanId,
          ...(m.scannerScanId !== undefined ? { scannerScanId: m.scannerScanId } : {}),
        });
        // Sidecar, vendor XML and line-stream reads come with the scan.
        const v = m.vehicle;
        if (v?.plate)
          this.#check(lane, {
            query: { kind: 'plate', value: v.plate },
            confidence: null,
            at: m.startedAt,
            via: `scan (${m.source})`,
          });
        if (v?.containerCode)
          this.#check(lane, {
            query: { kind: 'container', value: v.containerCode },
            confidence: null,
            at: m.startedAt,
            via: `scan (${m.source})`,
          });
      }),
      bus.on('scan.end', this.name, () => void this.#openScan.set(laneId, null)),
      bus.on('scan.aborted', this.name, () => void this.#openScan.set(laneId, null)),
      bus.on('vehicle.plate', this.name, (p) => {
        const base = {
          confidence: p.confidence ?? null,
          at: p.at,
          via: 'anpr',
          ...(p.cameraId ? { cameraId: p.cameraId } : {}),
        };
        if (p.plate) this.#check(lane, { query: { kind: 'plate', value: p.plate }, ...base });
        if (p.containerCode) this.#check(lane, { query: { kind: 'container', value: p.containerCode }, ...base });
      }),
    );
  }

  #check(lane: WatchlistLane, read: LaneRead): void {
    const now = this.#options.now?.() ?? Date.now();
    for (const index of this.#options.keeper.lists.values()) {
      for (const m of index.lookup(read.query, now)) {
        const key = `${lane.laneId}|${index.listId}|${m.entry.id}|${normaliseRead(read.query.value)}`;
        const last = this.#recent.get(key);
        if (last !== undefined && now - last < this.#options.repeatMs) continue; // the same vehicle's read again
        this.#recent.delete(key);
        this.#recent.set(key, now);
        if (this.#recent.size > MAX_RECENT) this.#recent.delete(this.#recent.keys().next().value!);
        const e = m.entry;
        const hit: WatchlistHit = {
          listId: index.listId,
          listVersion: index.version,
          entry: {
            id: e.id,
            ...(e.plate !== undefined ? { plate: e.plate } : {}),
            ...(e.country !== undefined ? { country: e.country } : {}),
            ...(e.containerCode !== undefined ? { containerCode: e.containerCode } : {}),
            category: e.category,
            action: e.action,
            priority: e.priority,
            source: e.source,
            covert: e.covert,
            ...(e.note !== undefined ? { note: e.note } : {}),
            ...(e.effectiveFrom !== undefined ? { effectiveFrom: e.effectiveFrom } : {}),
            ...(e.expiresAt !== undefined ? { expiresAt: e.expiresAt } : {}),
          },
          read: {
            value: read.query.value,
            kind: read.query.kind,
            confidence: read.confidence,
            at: read.at,
            via: read.via,
            ...(read.cameraId ? { cameraId: read.cameraId } : {}),
          },
          score: m.score,
        };
        this.#raise(lane, hit);
      }
    }
  }

  #raise(lane: WatchlistLane, hit: WatchlistHit): void {
    this.#hits++;
    const listed =
      hit.entry.plate !== undefined
        ? `plate ${hit.entry.country ?? ''} ${hit.entry.plate}`.replace('  ', ' ')
        : `container ${hit.entry.containerCode}`;
    const conf = hit.read.confidence === null ? '' : `, ${Math.round(hit.read.confidence * 100)} % confidence`;
    const how = hit.score === 1 ? 'exact' : 'one confusable character';
    const open = this.#openScan.get(lane.laneId);
    const alert: Alert = {
      alertId: uuidv7(),
      scanId: open?.scanId ?? null,
      ...(open?.scannerScanId !== undefined ? { scannerScanId: open.scannerScanId } : {}),
      laneId: lane.laneId,
      siteId: this.#options.siteId,
      raisedAt: new Date().toISOString(),
      kind: 'watchlist',
      severity: severityOf(hit.entry.priority),
      score: hit.score,
      regions: [],
      message: `Watchlist ${hit.listId}: ${listed} (${hit.entry.category}, priority ${hit.entry.priority}): ${hit.entry.action}. Read "${hit.read.value}" (${hit.read.via}${conf}; ${how}): verify before acting`,
      evidence: [],
      watchlist: hit,
    };
    if (hit.entry.covert) {
      this.#options.log.info(
        { alertId: alert.alertId, listId: hit.listId },
        'watchlist: covert hit sent to central command only',
      );
      lane.bus.emit('watchlist.covert', alert);
    } else {
      lane.bus.emit('alert.raised', alert);
    }
  }

  #status(): void {
    const held = this.#options.keeper.held();
    const info: Record<string, string | number | boolean | null> = {
      refused: this.#refused,
      lastRefusal: this.#lastRefusal,
      hits: this.#hits,
    };
    for (const l of held) {
      info[`version.${l.listId}`] = l.version;
      info[`entries.${l.listId}`] = l.entries;
    }
    const writeError = this.#options.keeper.writeError;
    const lists = held.map((l) => `${l.listId} v${l.version} (${l.entries} entries)`).join(', ');
    const detail = `${held.length ? lists : 'no list held: reads are not checked'}; ${this.#feedState}${writeError ? `; cannot keep the last good version on disk: ${writeError.message}` : ''}${this.#lastRefusal ? `; last refused: ${this.#lastRefusal}` : ''}`;
    const state = held.length === 0 || writeError ? 'degraded' : 'ok';
    for (const lane of this.#options.lanes) lane.bus.emit('device.status', deviceStatus(DEVICE, state, detail, info));
  }
}

function severityOf(priority: number): AlertSeverity {
  return priority <= 2 ? 'critical' : priority <= 4 ? 'warning' : 'info';
}
