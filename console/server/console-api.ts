import type { IncomingMessage, ServerResponse } from 'node:http';
import { DISPOSITIONS, type Disposition, type Verdict } from '../../core/domain.js';
import { readJson, sendJson } from '../../core/http-routes.js';
import type { Logger } from '../../core/logger.js';
import type { AlertRecord, ConsoleStore, ScanQuery } from './console-store.js';
import type { EventStream } from './event-stream.js';
import { HashQueue, LoginThrottle, QueueFull, RateLimiter, ThrottleAudit } from './login-throttle.js';
import type { ScanImageArchive } from './scan-images.js';
import type { ScanView } from './scan-views.js';
import {
  clearedSessionCookie,
  readCookie,
  SESSION_COOKIE,
  sessionAccount,
  sessionCookie,
  type Session,
  type SessionStore,
} from './sessions.js';
import type { UserDirectory } from './users.js';

/** The header every state-changing request must carry: a cross-site form cannot set it. */
const CSRF_HEADER = 'x-console-request';

const VERDICTS: readonly Verdict[] = ['person', 'clear', 'unavailable'];
const VIEWS: readonly ScanView[] = ['high', 'low', 'material'];

/** What the API asks of the console service. */
export interface ConsoleActions {
  /** The first message of an event stream: lanes, health, open alerts, the scan in progress. */
  hello(session: Session): unknown;
  lanes(): unknown;
  acknowledge(alertId: string, session: Session): AlertRecord;
  dispose(alertId: string, session: Session, disposition: Disposition, note: string | undefined): AlertRecord;
  /** Raises an alert of kind test on a lane: banner, tone and MQTT, end to end. */
  testAlert(laneId: string, session: Session): AlertRecord;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ConsoleApiOptions {
  store: ConsoleStore;
  users: UserDirectory;
  sessions: SessionStore;
  stream: EventStream;
  images: ScanImageArchive;
  actions: ConsoleActions;
  log: Logger;
  /** Mark the cookie Secure (the console is behind HTTPS). */
  secureCookie: boolean;
  /** Default: 5 failures in 10 minutes lock a user name from one address for a minute. */
  throttle?: LoginThrottle;
  /** Limits checked before any password is hashed (console.login). */
  login?: LoginLimits;
  /** The client address of a request (the peer, or what a trusted proxy says); default the peer. */
  clientIp?: (req: IncomingMessage) => string | null;
}

export interface LoginLimits {
  perAddressPerMinute: number;
  perMinute: number;
  concurrentHashes: number;
  queuedHashes: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perAddressPerMinute: 10,
  perMinute: 60,
  concurrentHashes: 2,
  queuedHashes: 16,
};

/**
 * The console's JSON API under /api/. Everything but /api/login needs a session cookie (401
 * without); every POST needs the CSRF header and a JSON body; every action is audited.
 */
export class ConsoleApi {
  readonly #options: ConsoleApiOptions;
  readonly #throttle: LoginThrottle;
  readonly #perAddress: RateLimiter;
  readonly #global: RateLimiter;
  readonly #hashes: HashQueue;
  readonly #refusals: ThrottleAudit;

  constructor(opts: ConsoleApiOptions) {
    this.#options = opts;
    this.#throttle = opts.throttle ?? new LoginThrottle();
    const limits = opts.login ?? DEFAULT_LOGIN_LIMITS;
    this.#perAddress = new RateLimiter(limits.perAddressPerMinute);
    this.#global = new RateLimiter(limits.perMinute);
    this.#hashes = new HashQueue(limits.concurrentHashes, limits.queuedHashes);
    this.#refusals = new ThrottleAudit({ store: opts.store });
  }

  /** Password checks running and waiting now. */
  get loginLoad(): { running: number; queued: number } {
    return { running: this.#hashes.running, queued: this.#hashes.queued };
  }

  /** Writes the pending counts of refused log-in bursts (at the console's stop). */
  close(): void {
    this.#refusals.close();
  }

  /**
   * The live session of a request's cookie, its role brought up to date, or null (no cookie,
   * expired, or the account is gone: then the session is closed). Used for evidence pictures.
   */
  sessionOf(req: IncomingMessage): Session | null {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    const session = this.#options.sessions.get(token);
    if (!session) return null;
    const valid = sessionAccount(this.#options.users, session);
    if ('ended' in valid) {
      this.#options.sessions.delete(token);
      this.#options.stream.closeSession(session.id);
      return null;
    }
    session.role = valid.account.role;
    return session;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    try {
      await this.#route(req, res, url);
    } catch (err) {
      if (err instanceof ApiError) sendJson(res, err.status, { error: err.message });
      else throw err;
    }
    return true;
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const ip = this.#options.clientIp ? this.#options.clientIp(req) : (req.socket.remoteAddress ?? null);
    if (method === 'POST') this.#checkCsrf(req);

    if (path === '/api/login' && method === 'POST') return this.#login(req, res, ip);

    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    const session = this.#options.sessions.get(token);
    if (!session)
      throw new ApiError(
        401,
        token ? 'session expired: log in again' : 'not logged in: POST /api/login with {"user", "password"} first',
      );
    // An account removed from the users file, or whose password changed, loses its sessions; a
    // changed role applies at once.
    const valid = sessionAccount(this.#options.users, session);
    if ('ended' in valid) {
      this.#options.sessions.delete(token);
      this.#options.stream.closeSession(session.id);
      throw new ApiError(401, valid.ended);
    }
    session.role = valid.account.role;
    const audit = (action: string, target: string | null, detail?: Record<string, unknown>, ok = true) => {
      this.#options.store.audit({
        user: session.user,
        role: session.role,
        action,
        target,
        ok,
        ip,
        ...(detail ? { detail } : {}),
      });
      this.#options.log.info(
        { audit: action, user: session.user, role: session.role, target, ok, ...(detail ? { detail } : {}) },
        `console: ${session.user} ${action}${target ? ` ${target}` : ''}`,
      );
    };

    if (path === '/api/logout' && method === 'POST') {
      this.#options.sessions.delete(token);
      this.#options.stream.closeSession(session.id);
      audit('logout', null);
      res.setHeader('set-cookie', clearedSessionCookie());
      return sendJson(res, 200, { ok: true });
    }
    if (path === '/api/session' && method === 'GET') return sendJson(res, 200, sessionInfo(session));
    if (path === '/api/events' && method === 'GET') {
      this.#options.stream.open(req, res, session, this.#options.actions.hello(session));
      return;
    }
    if (path === '/api/lanes' && method === 'GET') return sendJson(res, 200, this.#options.actions.lanes());

    if (path === '/api/scans' && method === 'GET') {
      const q = scanQuery(url.searchParams);
      audit('search-scans', null, { ...q });
      return sendJson(res, 200, { scans: this.#options.store.listScans(q) });
    }
    const scanImage = /^\/api\/scans\/([^/]+)\/([^/]+)\/image\/([a-z]+)\.png$/.exec(path);
    if (scanImage && method === 'GET') {
      const [laneId, scanId, view] = [
        decodeURIComponent(scanImage[1]!),
        decodeURIComponent(scanImage[2]!),
        scanImage[3]! as ScanView,
      ];
      if (!VIEWS.includes(view)) throw new ApiError(404, `no view "${view}": use ${VIEWS.join(', ')}`);
      const png = await this.#options.images.read(laneId, scanId, view);
      if (!png)
        throw new ApiError(
          404,
          `no ${view} picture of scan ${scanId} on lane ${laneId}: it was not received whole, has no such energy, or is older than the kept pictures`,
        );
      res.writeHead(200, {
        'content-type': 'image/png',
        'cache-control': 'private, max-age=3600',
        'content-length': png.length,
      });
      res.end(png);
      return;
    }
    const scanDetail = /^\/api\/scans\/([^/]+)\/([^/]+)$/.exec(path);
    if (scanDetail && method === 'GET') {
      const [laneId, scanId] = [decodeURIComponent(scanDetail[1]!), decodeURIComponent(scanDetail[2]!)];
      const result = this.#options.store.getScan(scanId, laneId);
      if (!result) throw new ApiError(404, `no scan ${scanId} on lane ${laneId} in the history`);
      audit('view-scan', `${laneId}/${scanId}`);
      return sendJson(res, 200, {
        result,
        views: await this.#options.images.views(laneId, scanId),
        alert: this.#options.store.alertForScan(laneId, scanId),
      });
    }

    const testAlert = /^\/api\/lanes\/([^/]+)\/test-alert$/.exec(path);
    if (testAlert && method === 'POST') {
      const laneId = decodeURIComponent(testAlert[1]!);
      const rec = this.#options.actions.testAlert(laneId, session);
      audit('test-alert', rec.alert.alertId, { laneId });
      return sendJson(res, 200, rec);
    }

    if (path === '/api/alerts' && method === 'GET') {
      const open = url.searchParams.get('open') === '1';
      return sendJson(res, 200, {
        alerts: this.#options.store.listAlerts({ openOnly: open, limit: intParam(url.searchParams, 'limit', 50) }),
      });
    }
    const alertAction = /^\/api\/alerts\/([^/]+)\/(ack|disposition)$/.exec(path);
    if (alertAction && method === 'POST') {
      const alertId = decodeURIComponent(alertAction[1]!);
      if (alertAction[2] === 'ack') {
        try {
          const rec = this.#options.actions.acknowledge(alertId, session);
          audit('acknowledge-alert', alertId);
          return sendJson(res, 200, rec);
        } catch (err) {
          audit('acknowledge-alert', alertId, { error: (err as Error).message }, false);
          throw err;
        }
      }
      let disposition: unknown;
      try {
        const body = (await this.#body(req)) as { disposition?: unknown; note?: unknown };
        disposition = body.disposition;
        if (!DISPOSITIONS.includes(disposition as Disposition))
          throw new ApiError(
            400,
            `disposition must be one of ${DISPOSITIONS.join(', ')}, got ${JSON.stringify(body.disposition ?? null)}`,
          );
        if (body.note !== undefined && (typeof body.note !== 'string' || body.note.length > 2000))
          throw new ApiError(400, 'note must be a string of at most 2000 characters');
        const note = typeof body.note === 'string' && body.note.trim() ? body.note.trim() : undefined;
        const rec = this.#options.actions.dispose(alertId, session, disposition as Disposition, note);
        audit('disposition-alert', alertId, { disposition, ...(note ? { note } : {}) });
        return sendJson(res, 200, rec);
      } catch (err) {
        audit(
          'disposition-alert',
          alertId,
          {
            ...(typeof disposition === 'string' ? { disposition: disposition.slice(0, 40) } : {}),
            error: (err as Error).message,
          },
          false,
        );
        throw err;
      }
    }

    if (path === '/api/audit' && method === 'GET') {
      requireRole(session, 'supervisor', 'the audit log');
      const user = url.searchParams.get('user') ?? undefined;
      const action = url.searchParams.get('action') ?? undefined;
      return sendJson(res, 200, {
        entries: this.#options.store.listAudit({
          limit: intParam(url.searchParams, 'limit', 200),
          ...(user ? { user } : {}),
          ...(action ? { action } : {}),
        }),
      });
    }
    if (path === '/api/users' && method === 'GET') {
      requireRole(session, 'supervisor', 'the list of users');
      return sendJson(res, 200, { users: this.#options.users.list() });
    }
    throw new ApiError(404, `no API ${method} ${path}`);
  }

  async #login(req: IncomingMessage, res: ServerResponse, ip: string | null): Promise<void> {
    const body = (await this.#body(req)) as { user?: unknown; password?: unknown };
    if (typeof body.user !== 'string' || typeof body.password !== 'string' || !body.user || !body.password) {
      throw new ApiError(400, 'log-in needs {"user": "...", "password": "..."}');
    }
    const name = body.user.slice(0, 64);
    // Every limit is checked before a password is hashed: a refused attempt costs no scrypt.
    const locked = this.#throttle.blockedFor(name, ip);
    if (locked > 0)
      this.#throttled(
        res,
        429,
        'too many failed log-ins',
        ip,
        name,
        locked,
        `too many failed log-ins as ${name}: wait ${Math.ceil(locked / 1000)} s and try again`,
      );
    const fromHere = this.#perAddress.take(ip ?? '?');
    if (fromHere > 0)
      this.#throttled(
        res,
        429,
        'too many log-in attempts from this address',
        ip,
        name,
        fromHere,
        `too many log-in attempts from ${ip}: wait ${Math.ceil(fromHere / 1000)} s and try again`,
      );
    const overall = this.#global.take('all');
    if (overall > 0)
      this.#throttled(
        res,
        429,
        'too many log-in attempts on this console',
        ip,
        name,
        overall,
        `too many log-in attempts on this console: wait ${Math.ceil(overall / 1000)} s and try again`,
        true,
      );
    let user: Awaited<ReturnType<UserDirectory['authenticate']>>;
    try {
      user = await this.#hashes.run(() =>
        this.#options.users.authenticate(body.user as string, body.password as string),
      );
    } catch (err) {
      if (err instanceof QueueFull)
        this.#throttled(
          res,
          503,
          'log-in queue full',
          ip,
          name,
          1000,
          'the console is busy checking other log-ins: try again in a second',
        );
      this.#options.log.error({ err }, `console log-in: the users file cannot be read: ${(err as Error).message}`);
      throw new ApiError(500, `log-in is not possible: ${(err as Error).message}`);
    }
    if (!user) {
      this.#throttle.failed(name, ip);
      this.#options.store.audit({
        user: name,
        action: 'login',
        ok: false,
        ip,
        detail: { reason: 'wrong user name or password' },
      });
      this.#options.log.warn(
        { audit: 'login', user: name, ok: false, ip },
        `console: failed log-in as ${name} from ${ip}`,
      );
      throw new ApiError(401, 'wrong user name or password');
    }
    this.#throttle.succeeded(name, ip);
    const { token, session } = this.#options.sessions.create(user.name, user.role, user.credential);
    this.#options.store.audit({ user: user.name, role: user.role, action: 'login', ok: true, ip });
    this.#options.log.info(
      { audit: 'login', user: user.name, role: user.role, ip },
      `console: ${user.name} (${user.role}) logged in from ${ip}`,
    );
    // Behind an HTTPS reverse proxy the cookie is marked Secure, so it never travels in clear.
    const secure = this.#options.secureCookie || req.headers['x-forwarded-proto'] === 'https';
    res.setHeader('set-cookie', sessionCookie(token, Math.floor(this.#options.sessions.ttlMs / 1000), secure));
    sendJson(res, 200, sessionInfo(session));
  }

  /** Refuses a log-in before its password is checked; audited as one row per burst. Throws. */
  #throttled(
    res: ServerResponse,
    status: 429 | 503,
    reason: string,
    ip: string | null,
    name: string,
    waitMs: number,
    message: string,
    acrossAddresses = false,
  ): never {
    if (this.#refusals.note(reason, ip, name, acrossAddresses))
      this.#options.log.warn(
        { audit: 'login', user: name, ok: false, ip, reason },
        `console: log-in as ${name} from ${ip} refused: ${reason} (further refusals of this burst are counted in the same audit entry)`,
      );
    res.setHeader('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))));
    throw new ApiError(status, message);
  }

  #checkCsrf(req: IncomingMessage): void {
    if (req.headers[CSRF_HEADER] !== '1')
      throw new ApiError(403, `request refused: state-changing requests need the header ${CSRF_HEADER}: 1`);
    const origin = req.headers.origin;
    if (origin === undefined) return;
    // "null" (a sandboxed frame, a file: page, a redirect across origins) and anything that is
    // not a URL are foreign origins, as is any origin other than the host asked.
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      host = null;
    }
    if (host === null || host === '' || host !== req.headers.host)
      throw new ApiError(403, `request refused: origin ${JSON.stringify(origin.slice(0, 200))} is not this console`);
  }

  async #body(req: IncomingMessage): Promise<unknown> {
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
      throw new ApiError(415, 'request body must be JSON (content-type: application/json)');
    try {
      return await readJson(req, 64 * 1024);
    } catch (err) {
      throw new ApiError(400, (err as Error).message);
    }
  }
}

function sessionInfo(s: Session) {
  return { user: s.user, role: s.role, expiresAt: new Date(s.expiresAt).toISOString() };
}

function requireRole(s: Session, role: Session['role'], what: string): void {
  if (s.role !== role) throw new ApiError(403, `${what} is for the ${role} role; ${s.user} is ${s.role}`);
}

function intParam(p: URLSearchParams, name: string, def: number): number {
  const v = p.get(name);
  if (v === null || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ApiError(400, `${name} must be a positive integer, got "${v}"`);
  return n;
}

function isoParam(p: URLSearchParams, name: string): string | undefined {
  const v = p.get(name);
  if (!v) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new ApiError(400, `${name} must be a date and time (ISO 8601), got "${v}"`);
  return new Date(t).toISOString();
}

/** Reads the filters of GET /api/scans: lane, from, to, plate, verdict, limit. */
function scanQuery(p: URLSearchParams): ScanQuery {
  const verdict = p.get('verdict') || undefined;
  if (verdict && !VERDICTS.includes(verdict as Verdict))
    throw new ApiError(400, `verdict must be one of ${VERDICTS.join(', ')}, got "${verdict}"`);
  const q: ScanQuery = { limit: intParam(p, 'limit', 100) };
  const lane = p.get('lane');
  if (lane) q.laneId = lane;
  const from = isoParam(p, 'from');
  if (from) q.from = from;
  const to = isoParam(p, 'to');
  if (to) q.to = to;
  const plate = p.get('plate')?.trim();
  if (plate) q.plate = plate;
  if (verdict) q.verdict = verdict as Verdict;
  return q;
}
