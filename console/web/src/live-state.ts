import type { ScanResult } from '../../../core/domain.js';
import type { ReviewDecisionEvent } from '../../../core/events.js';
import type { LaneHealthSnapshot } from '../../../core/health.js';
import type {
  AlertRecord,
  HelloMessage,
  LaneView,
  LiveBeginMessage,
  LiveLinesMessage,
  ScanAbortedMessage,
  ScanDecidedMessage,
  ScanEndMessage,
  ScanImageMessage,
} from '../../server/messages.js';
import { decodeBase64, LiveRaster } from './raster.js';
import type { ViewName } from './ScanViewer.js';

export interface LiveScanState {
  scanId: string;
  begin: LiveBeginMessage;
  high: LiveRaster;
  low: LiveRaster | null;
  ended: boolean;
  aborted: { reason: string; detail: string } | null;
}

export interface LaneState {
  id: string;
  name: string;
  health: LaneHealthSnapshot;
  live: LiveScanState | null;
  lastDecided: ScanResult | null;
  /** Full-resolution views of lastDecided, once rendered. */
  views: ViewName[];
}

export type Connection = 'connecting' | 'live' | 'lost';

/** No event for this long (pings come every 15 s) and the stream is taken for dead. */
const STREAM_SILENCE_MS = 40_000;

/**
 * Everything the live console shows, kept current from the server's event stream. Components
 * read it and re-render on `subscribe`; rasters are mutated in place (they are large).
 */
export class LiveState {
  user = '';
  role: 'operator' | 'supervisor' = 'operator';
  site = { id: '', name: '' };
  version = '';
  lanes: LaneState[] = [];
  alerts = new Map<string, AlertRecord>();
  connection: Connection = 'connecting';
  /** Raised alerts since the page loaded (drives the sound). */
  raised: AlertRecord[] = [];
  /** Remote review decisions from central command since the page loaded, newest first (at most 5). */
  reviewDecisions: ReviewDecisionEvent[] = [];
  #listeners = new Set<() => void>();
  #source: EventSource | null = null;
  #onEnded: (reason: string) => void;
  #changed = 0;
  #lastSeen = 0;
  #watchdog: ReturnType<typeof setInterval> | null = null;

  constructor(onEnded: (reason: string) => void) {
    this.#onEnded = onEnded;
  }

  get changed(): number {
    return this.#changed;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  connect(): void {
    this.#source?.close();
    const es = new EventSource('/api/events');
    this.#source = es;
    this.#lastSeen = Date.now();
    this.#watchdog ??= setInterval(() => this.#checkAlive(), 5000);
    const on = <T>(name: string, fn: (data: T) => void) =>
      es.addEventListener(name, (ev) => {
        this.#lastSeen = Date.now();
        fn(JSON.parse((ev as MessageEvent<string>).data) as T);
        this.#notify();
      });
    es.addEventListener('ping', () => {
      this.#lastSeen = Date.now();
      if (this.connection !== 'live') {
        this.connection = 'live';
        this.#notify();
      }
    });
    on<HelloMessage>('hello', (h) => this.#hello(h));
    on<LaneHealthSnapshot>('health', (h) => {
      const lane = this.lane(h.laneId);
      if (lane) lane.health = h;
    });
    on<LiveBeginMessage>('scan.begin', (b) => this.#begin(b));
    on<LiveLinesMessage>('scan.lines', (m) => this.#lines(m));
    on<ScanEndMessage>('scan.end', (m) => {
      const live = this.lane(m.laneId)?.live;
      if (live?.scanId === m.scanId) live.ended = true;
    });
    on<ScanAbortedMessage>('scan.aborted', (m) => {
      const live = this.lane(m.laneId)?.live;
      if (live?.scanId === m.scanId) {
        live.ended = true;
        live.aborted = { reason: m.reason, detail: m.detail };
      }
    });
    on<ScanDecidedMessage>('scan.decided', (m) => {
      const lane = this.lane(m.laneId);
      if (!lane) return;
      lane.lastDecided = m.result;
      lane.views = [];
      if (lane.live?.scanId === m.result.scanId) lane.live.ended = true;
    });
    on<ScanImageMessage>('scan.image', (m) => {
      const lane = this.lane(m.laneId);
      if (lane?.lastDecided?.scanId === m.scanId) lane.views = m.views;
    });
    on<AlertRecord>('alert', (rec) => {
      const known = this.alerts.has(rec.alert.alertId);
      this.alerts.set(rec.alert.alertId, rec);
      if (!known) this.raised.push(rec);
    });
    on<ReviewDecisionEvent>('review.decision', (d) => {
      this.reviewDecisions = [d, ...this.reviewDecisions.filter((x) => x.scanId !== d.scanId)].slice(0, 5);
    });
    on<{ reason: string }>('session-ended', (m) => {
      es.close();
      this.#onEnded(m.reason);
    });
    es.onopen = () => {
      this.connection = 'live';
      this.#notify();
    };
    es.onerror = () => {
      this.connection = 'lost';
      this.#notify();
      if (es.readyState === EventSource.CLOSED) {
        // The server refused the stream (e.g. 401 after a restart): check the session.
        const retry = () => setTimeout(() => this.#source === es && this.connect(), 2000);
        void fetch('/api/session', { credentials: 'same-origin' }).then((r) => {
          if (r.status === 401) this.#onEnded('session expired');
          else retry();
        }, retry);
      }
    };
  }

  close(): void {
    this.#source?.close();
    this.#source = null;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
  }

  /** The server pings every 15 s: silence for longer means a dead link the browser has not noticed. */
  #checkAlive(): void {
    if (!this.#source || Date.now() - this.#lastSeen < STREAM_SILENCE_MS) return;
    this.connection = 'lost';
    this.#notify();
    this.#source.close();
    this.connect();
  }

  lane(id: string): LaneState | undefined {
    return this.lanes.find((l) => l.id === id);
  }

  #notify(): void {
    this.#changed++;
    for (const l of this.#listeners) l();
  }

  #hello(h: HelloMessage): void {
    this.user = h.user;
    this.role = h.role;
    this.site = h.site;
    this.version = h.version;
    this.connection = 'live';
    this.lanes = h.lanes.map((l: LaneView) => {
      const lane: LaneState = {
        id: l.id,
        name: l.name,
        health: l.health,
        live: null,
        lastDecided: l.lastDecided,
        views: [],
      };
      if (l.live) {
        lane.live = newLive(l.live.begin);
        if (l.live.lines) appendLines(lane.live, l.live.lines);
        lane.live.ended = l.scanState !== 'scanning';
      }
      lane.views = l.lastViews;
      return lane;
    });
    this.alerts = new Map(h.alerts.map((a) => [a.alert.alertId, a]));
  }

  #begin(b: LiveBeginMessage): void {
    const lane = this.lane(b.laneId);
    if (lane) lane.live = newLive(b);
  }

  #lines(m: LiveLinesMessage): void {
    const live = this.lane(m.laneId)?.live;
    if (live?.scanId === m.scanId) appendLines(live, m);
  }
}

function newLive(b: LiveBeginMessage): LiveScanState {
  return {
    scanId: b.scanId,
    begin: b,
    high: new LiveRaster(b.height, b.factor),
    low: b.meta.energies === 2 ? new LiveRaster(b.height, b.factor) : null,
    ended: false,
    aborted: null,
  };
}

function appendLines(live: LiveScanState, m: LiveLinesMessage): void {
  live.high.append(m.firstIndex, m.count, decodeBase64(m.high));
  if (live.low && m.low) live.low.append(m.firstIndex, m.count, decodeBase64(m.low));
}
