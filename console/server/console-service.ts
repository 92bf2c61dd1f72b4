import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { migrationLine } from '../../core/sqlite-schema.js';
import { join, resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import type { Alert, AlertEvent, Disposition, ScanImage, ScanResult, ScanState } from '../../core/domain.js';
import type { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import type { LaneHealthView } from '../../core/health.js';
import { sendJson, type HttpRoutes } from '../../core/http-routes.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import { clientIp } from '../../core/client-ip.js';
import { ApiError, ConsoleApi, type ConsoleActions } from './console-api.js';
import { ConsoleStore, type AlertRecord } from './console-store.js';
import { EventStream } from './event-stream.js';
import { LiveScan } from './live-scan.js';
import type { HelloMessage, LaneView } from './messages.js';
import { ScanImageArchive } from './scan-images.js';
import type { ScanView } from './scan-views.js';
import type { Session } from './sessions.js';
import { sessionAccount, SessionStore } from './sessions.js';
import { SECURITY_HEADERS, serveStatic } from '../../core/web/static.js';
import { UserDirectory } from './users.js';
import { DIST_DIR, ensureWebBuild } from './web-build.js';

/** How often lines received for the live view are pushed to the browsers. */
const LIVE_FLUSH_MS = 100;
/** Scan history and closed alerts kept in console.sqlite; the audit log for console.auditRetentionDays. */
const HISTORY_DAYS = 365;
const PRUNE_EVERY_MS = 6 * 3600_000;
/** Delay before device figures that changed without a state change are pushed. */
const HEALTH_FIGURES_MS = 250;
/** Closed alerts a console gets at connect, besides every open one. */
const RECENT_ALERTS = 20;

export interface ConsoleServiceOptions {
  /** Skip building the front end (API-only tests). */
  skipWebBuild?: boolean;
  /** How often live streams are checked and kept alive (default 15 s). */
  streamHeartbeatMs?: number;
}

/** A lane as the console sees it: its bus, its health and the state of the scan in hand. */
export interface ConsoleLane {
  id: string;
  name: string;
  bus: EventBus<LaneEvents>;
  health: LaneHealthView;
  /** The state of the lane's scan session now. */
  scanState(): ScanState;
}

/** What the console is given by the composition root. */
export interface ConsoleSite {
  config: Config;
  lanes: ConsoleLane[];
  log: Logger;
  /** Absolute data folder of the site. */
  dataDir: string;
  http: HttpRoutes;
  version: string;
  /** Demo mode: demo accounts, relaxed security, printed credentials. */
  demo: boolean;
  /** Lines printed at start to say where to look (console URL, credentials...). */
  announce(line: string): void;
  /** Told at start which alerts the store still has open (not dispositioned), e.g. for the metrics. */
  openAlertsAtStart?(alerts: { laneId: string; alertId: string; raisedAt: string; acknowledged: boolean }[]): void;
  /** Renders one view of a decided scan as PNG off the event loop; absent: in this thread. */
  renderView?(image: ScanImage, view: ScanView): Promise<Buffer>;
}

/** Where the console keeps its users: console.usersFile, else <dataDir>/users.json. */
export function usersFilePath(ctx: Pick<ConsoleSite, 'config' | 'dataDir'>): string {
  return ctx.config.console.usersFile ? resolve(ctx.config.console.usersFile) : join(ctx.dataDir, 'users.json');
}

/**
 * The operator console: web front end, JSON API and live event stream on the runtime's HTTP
 * port. It listens to every lane's bus (scans, alerts, device health), keeps scan history,
 * alerts and the audit log in <dataDir>/console.sqlite, and turns operators' acknowledgements
 * and dispositions into 'alert.event' on the lane bus, which the MQTT link publishes.
 */
export class ConsoleService implements Service, ConsoleActions {
  readonly name = 'console';
  readonly #ctx: ConsoleSite;
  readonly #opts: ConsoleServiceOptions;
  readonly #log: Logger;
  #store: ConsoleStore | null = null;
  #users: UserDirectory | null = null;
  #sessions: SessionStore | null = null;
  #stream: EventStream | null = null;
  #images: ScanImageArchive | null = null;
  #api: ConsoleApi | null = null;
  #live = new Map<string, LiveScan>();
  #lastDecided = new Map<string, ScanResult>();
  #unsubscribe: (() => void)[] = [];
  #flushTimer: NodeJS.Timeout | null = null;
  #pruneTimer: NodeJS.Timeout | null = null;
  #healthDue = new Map<string, NodeJS.Timeout>();
  #webError: string | null = null;
  #running = false;

  constructor(ctx: ConsoleSite, opts: ConsoleServiceOptions = {}) {
    this.#ctx = ctx;
    this.#opts = opts;
    this.#log = ctx.log.child({ part: 'console' });
  }

  get store(): ConsoleStore {
    if (!this.#store) throw new Error('console is not started');
    return this.#store;
  }

  /** Password checks running and waiting now (log-ins). */
  get loginLoad(): { running: number; queued: number } {
    return this.#api?.loginLoad ?? { running: 0, queued: 0 };
  }

  get users(): UserDirectory {
    if (!this.#users) throw new Error('console is not started');
    return this.#users;
  }

  async start(): Promise<void> {
    const ctx = this.#ctx;
    const users = new UserDirectory(usersFilePath(ctx));
    let usersError: string | null = null;
    try {
      users.load();
    } catch (err) {
      // The lane keeps screening; log-ins are refused with this reason until the file is fixed.
      usersError = (err as Error).message;
      this.#log.error({ err }, `console: ${usersError}`);
    }
    this.#users = users;
    const credentials = ctx.demo && !usersError ? await this.#demoAccounts(users) : null;
    this.#store = new ConsoleStore(join(ctx.dataDir, 'console.sqlite'));
    const migrated = migrationLine(this.#store.schema);
    if (migrated) this.#log.info(migrated);
    this.#sessions = new SessionStore({
      ttlMs: ctx.config.console.sessionTtlMinutes * 60_000,
      persist: this.#store,
      // Log-ins still work; only their surviving a restart is lost until the database is writable again.
      onPersistError: (err, action) =>
        this.#log.error(
          { err },
          `console: could not ${action} in ${this.#store?.path}: ${err.message}; ${action.startsWith('delete') ? 'retried at every request until it succeeds; until then a restart could bring the session back' : 'sessions opened now end with a restart'}`,
        ),
    });
    const sessions = this.#sessions;
    this.#stream = new EventStream({
      ...(this.#opts.streamHeartbeatMs ? { heartbeatMs: this.#opts.streamHeartbeatMs } : {}),
      isLive: (s) => s.expiresAt > Date.now() && sessions.has(s.id) && sessionAccountValid(users, s),
    });
    this.#images = new ScanImageArchive({
      dir: join(ctx.dataDir, 'console', 'scans'),
      log: this.#log,
      ...(ctx.renderView ? { render: (image, view) => ctx.renderView!(image, view) } : {}),
    });
    const proxies = { trustedProxies: ctx.config.http.trustedProxies, header: ctx.config.http.clientIpHeader };
    this.#api = new ConsoleApi({
      store: this.#store,
      users,
      sessions: this.#sessions,
      stream: this.#stream,
      images: this.#images,
      actions: this,
      log: this.#log,
      secureCookie: false,
      login: ctx.config.console.login,
      clientIp: (req) => clientIp(req, proxies),
    });
    // Alerts left open by the previous run count in /metrics as open (and their age) from the start.
    ctx.openAlertsAtStart?.(
      this.#store
        .listAlerts({ openOnly: true, limit: 500 })
        .filter((r) => r.alert.kind !== 'test')
        .map((r) => ({
          laneId: r.alert.laneId,
          alertId: r.alert.alertId,
          raisedAt: r.alert.raisedAt,
          acknowledged: r.state === 'acknowledged',
        })),
    );
    for (const lane of ctx.lanes) {
      this.#live.set(lane.id, new LiveScan(lane.id));
      const last = this.#store.listScans({ laneId: lane.id, limit: 1 })[0];
      if (last) this.#lastDecided.set(lane.id, last.result);
      this.#subscribe(lane);
    }
    this.#stream.start();
    this.#flushTimer = setInterval(() => this.#flushLive(), LIVE_FLUSH_MS);
    this.#flushTimer.unref();
    this.#pruneHistory();
    this.#pruneTimer = setInterval(() => this.#pruneHistory(), PRUNE_EVERY_MS);
    this.#pruneTimer.unref();
    this.#running = true;

    const api = this.#api;
    // Evidence pictures (GET /evidence/...) are shown to anyone logged in to the console.
    this.#unsubscribe.push(
      ctx.http.access.allowSessions('console', (req) => {
        if (!this.#running) return null;
        const s = api.sessionOf(req);
        return s ? { by: 'console', user: s.user } : null;
      }),
    );
    ctx.http.route('/api', 'console', (req, res, url) => {
      if (!this.#running) return unavailable(res);
      return api.handle(req, res, url);
    });
    ctx.http.route('/', 'console', async (req, res, url) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (this.#webError && (url.pathname === '/' || url.pathname === '/index.html')) {
        res.writeHead(503, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
        res.end(
          `The console front end is not available: ${this.#webError}\nThe lane still runs; its API is under /api/.\n`,
        );
        return true;
      }
      return serveStatic(DIST_DIR, url.pathname, res, ['favicon.svg']);
    });

    if (!this.#opts.skipWebBuild) {
      try {
        await ensureWebBuild(this.#log);
      } catch (err) {
        // The lane must keep screening without its console; the page then says what to do.
        this.#webError = (err as Error).message;
        this.#log.error({ err }, `console front end cannot be built: ${this.#webError}`);
      }
      if (!this.#webError && !existsSync(join(DIST_DIR, 'index.html')))
        this.#webError = `${DIST_DIR}/index.html is missing: run 'npm run build:console'`;
    }

    ctx.announce(`console: ${ctx.http.url}`);
    if (credentials)
      ctx.announce(
        `console log-in: ${credentials.map((c) => `user ${c.name} / password ${c.password} (${c.role})`).join('; ')}`,
      );
    if (usersError) {
      ctx.announce(`console: nobody can log in: ${usersError}`);
    } else if (users.list().length === 0) {
      const line = `console: no users in ${users.path}; add one with 'checkpoint-edge users add <name> --role operator --users-file ${users.path}'`;
      this.#log.warn(line);
      ctx.announce(line);
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    this.#flushTimer = null;
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    this.#pruneTimer = null;
    for (const t of this.#healthDue.values()) clearTimeout(t);
    this.#healthDue.clear();
    this.#stream?.stop();
    this.#api?.close();
    await this.#images?.drain();
    this.#store?.close();
    this.#store = null;
  }

  /** Demo mode: a demo operator and a demo supervisor, with fresh passwords on every start. */
  async #demoAccounts(
    users: UserDirectory,
  ): Promise<{ name: string; role: 'operator' | 'supervisor'; password: string }[]> {
    const accounts = [
      // 16 random characters each, without the user name: what users add would accept.
      { name: 'demo', role: 'operator' as const, password: randomBytes(12).toString('base64url') },
      { name: 'demo-supervisor', role: 'supervisor' as const, password: randomBytes(12).toString('base64url') },
    ];
    for (const a of accounts) await users.set(a.name, a.role, a.password, { replace: true });
    return accounts;
  }

  #subscribe(lane: ConsoleLane): void {
    const owner = 'console';
    const { bus } = lane;
    const live = this.#live.get(lane.id)!;
    const stream = this.#stream!;
    const store = this.#store!;
    this.#unsubscribe.push(
      bus.on('scan.begin', owner, (meta) => {
        this.#flushLive();
        stream.broadcast('scan.begin', live.begin(meta));
      }),
      bus.on('scan.lines', owner, (batch) => {
        live.add(batch);
      }),
      bus.on('scan.end', owner, (scan) => {
        this.#flushLive();
        stream.broadcast('scan.end', { laneId: lane.id, scanId: scan.meta.scanId, lines: scan.image.width });
      }),
      bus.on('scan.aborted', owner, (a) => {
        this.#flushLive();
        stream.broadcast('scan.aborted', { laneId: lane.id, scanId: a.scanId, reason: a.reason, detail: a.detail });
      }),
      bus.on('scan.decided', owner, ({ result, image, again }) => {
        try {
          store.recordScan(result);
        } catch (err) {
          // Handed on again after a restart: the history has it when it was stored before the stop.
          if (again && /UNIQUE/.test((err as Error).message)) return;
          this.#log.error(
            { err, scanId: result.scanId },
            `scan ${result.scanId} not stored in the console history: ${(err as Error).message}`,
          );
        }
        this.#lastDecided.set(lane.id, result);
        stream.broadcast('scan.decided', { laneId: lane.id, result });
        if (image && image.width > 0) {
          void this.#images!.store(lane.id, result.scanId, image).then(async () => {
            stream.broadcast('scan.image', {
              laneId: lane.id,
              scanId: result.scanId,
              views: await this.#images!.views(lane.id, result.scanId),
            });
          });
        }
      }),
      bus.on('alert.raised', owner, (alert) => {
        store.recordAlert(alert);
        const rec = store.getAlert(alert.alertId);
        if (rec) stream.broadcast('alert', rec);
      }),
      bus.on('alert.event', owner, (e) => {
        const { applied, record } = store.applyEvent(e);
        if (!record)
          this.#log.warn(
            { alertId: e.alertId, origin: e.origin },
            `alert event ${e.type} from ${e.origin} for unknown alert ${e.alertId}; kept in the record`,
          );
        if (applied && record) stream.broadcast('alert', record);
      }),
      // Central command's commands, done or refused, are audited like the console's own actions.
      bus.on('audit', owner, (a) => {
        store.audit({
          user: a.user,
          role: a.role,
          action: a.action,
          target: a.target,
          ok: a.ok,
          ip: null,
          detail: { laneId: a.laneId, ...a.detail },
        });
      }),
      bus.on('review.decision', owner, (d) => {
        stream.broadcast('review.decision', d);
      }),
      lane.health.onChange((snapshot) => {
        this.#healthDue.delete(lane.id);
        stream.broadcast('health', snapshot);
      }),
      // Figures that change without a state change (interlocks, outbox depth) reach the
      // consoles too, at most a few times a second.
      bus.on('device.status', owner, () => {
        if (this.#healthDue.has(lane.id)) return;
        this.#healthDue.set(
          lane.id,
          setTimeout(() => {
            this.#healthDue.delete(lane.id);
            stream.broadcast('health', lane.health.snapshot());
          }, HEALTH_FIGURES_MS),
        );
      }),
    );
  }

  #pruneHistory(): void {
    try {
      const before = new Date(Date.now() - HISTORY_DAYS * 86_400_000).toISOString();
      const n = this.store.pruneScans(before);
      if (n > 0) this.#log.info(`console: ${n} scan(s) older than ${HISTORY_DAYS} days removed from the history`);
      const days = this.#ctx.config.console.auditRetentionDays;
      const r = this.store.pruneRecords(before, new Date(Date.now() - days * 86_400_000).toISOString());
      if (r.audit + r.alerts > 0)
        this.#log.info(
          `console: ${r.audit} audit entr(ies) older than ${days} days (console.auditRetentionDays) and ${r.alerts} closed alert(s) with ${r.events} event(s) older than ${HISTORY_DAYS} days removed`,
        );
    } catch (err) {
      this.#log.error({ err }, `console: pruning the scan history failed: ${(err as Error).message}`);
    }
  }

  #flushLive(): void {
    for (const live of this.#live.values()) {
      const msg = live.flush();
      if (msg) this.#stream?.broadcast('scan.lines', msg);
    }
  }

  hello(session: Session): HelloMessage {
    const store = this.store;
    const open = store.listAlerts({ openOnly: true, limit: 200 });
    const recent = store.listAlerts({ limit: RECENT_ALERTS });
    const alerts = [...open, ...recent.filter((r) => !open.some((o) => o.alert.alertId === r.alert.alertId))];
    return {
      user: session.user,
      role: session.role,
      expiresAt: new Date(session.expiresAt).toISOString(),
      site: { id: this.#ctx.config.site.id, name: this.#ctx.config.site.name ?? this.#ctx.config.site.id },
      version: this.#ctx.version,
      lanes: this.lanes().lanes,
      alerts,
    };
  }

  lanes(): { lanes: LaneView[] } {
    return {
      lanes: this.#ctx.lanes.map((l) => ({
        id: l.id,
        name: l.name,
        health: l.health.snapshot(),
        scanState: l.scanState(),
        live: this.#live.get(l.id)?.snapshot() ?? null,
        lastDecided: this.#lastDecided.get(l.id) ?? null,
        lastViews: this.#lastDecided.has(l.id) ? this.#images!.viewsNow(l.id, this.#lastDecided.get(l.id)!.scanId) : [],
      })),
    };
  }

  acknowledge(alertId: string, session: Session): AlertRecord {
    const rec = this.#alert(alertId);
    if (rec.state !== 'new')
      throw new ApiError(
        409,
        `alert ${alertId} was already acknowledged by ${rec.acknowledgedBy} (${rec.acknowledgedOrigin}) at ${rec.acknowledgedAt}`,
      );
    return this.#emit(rec, session, 'acknowledged');
  }

  dispose(alertId: string, session: Session, disposition: Disposition, note: string | undefined): AlertRecord {
    const rec = this.#alert(alertId);
    if (rec.state === 'new')
      throw new ApiError(409, `alert ${alertId} must be acknowledged before its disposition is recorded`);
    if (rec.state === 'closed')
      throw new ApiError(
        409,
        `alert ${alertId} was already closed as ${rec.disposition} by ${rec.dispositionBy} (${rec.dispositionOrigin}) at ${rec.dispositionAt}`,
      );
    return this.#emit(rec, session, disposition, note);
  }

  testAlert(laneId: string, session: Session): AlertRecord {
    const lane = this.#ctx.lanes.find((l) => l.id === laneId);
    if (!lane) throw new ApiError(404, `no lane ${laneId}`);
    const alert: Alert = {
      alertId: `test-${randomUUID()}`,
      scanId: null,
      laneId,
      siteId: this.#ctx.config.site.id,
      raisedAt: new Date().toISOString(),
      kind: 'test',
      severity: 'info',
      score: null,
      regions: [],
      message: `Test alert from the lane console (${session.user}). No action needed: acknowledge it and record "false alarm".`,
      evidence: [],
    };
    lane.bus.emit('alert.raised', alert);
    const rec = this.store.getAlert(alert.alertId);
    if (!rec) throw new ApiError(500, `the test alert on lane ${laneId} was not recorded; see the lane log`);
    return rec;
  }

  #alert(alertId: string): AlertRecord {
    const rec = this.store.getAlert(alertId);
    if (!rec) throw new ApiError(404, `no alert ${alertId}`);
    return rec;
  }

  /** Puts the operator's action on the lane bus: the console's own listener stores it, MQTT publishes it. */
  #emit(rec: AlertRecord, session: Session, type: AlertEvent['type'], note?: string): AlertRecord {
    const lane = this.#ctx.lanes.find((l) => l.id === rec.alert.laneId);
    if (!lane)
      throw new ApiError(
        409,
        `alert ${rec.alert.alertId} belongs to lane ${rec.alert.laneId}, which this site no longer has`,
      );
    const event: AlertEvent = {
      eventId: randomUUID(),
      alertId: rec.alert.alertId,
      laneId: rec.alert.laneId,
      siteId: rec.alert.siteId,
      at: new Date().toISOString(),
      type,
      operator: session.user,
      ...(note ? { note } : {}),
      origin: 'console',
    };
    lane.bus.emit('alert.event', event);
    const after = this.store.getAlert(rec.alert.alertId);
    if (!after?.events.some((e) => e.eventId === event.eventId)) {
      throw new ApiError(500, `the ${type} of alert ${rec.alert.alertId} was not recorded; see the lane log`);
    }
    return after;
  }
}

/**
 * Whether the session's account still exists with the password it logged in with; a users file
 * that cannot be read (being edited) ends nothing.
 */
function sessionAccountValid(users: UserDirectory, s: Session): boolean {
  try {
    return 'account' in sessionAccount(users, s);
  } catch {
    return true;
  }
}

function unavailable(res: Parameters<typeof sendJson>[0]): boolean {
  sendJson(res, 503, { error: 'the console is stopping' });
  return true;
}
