import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/logger.js';
import type { CommandResponse } from '../../core/mqtt-payloads.js';
import type { LaneCommands } from '../ingest/lane-commands.js';
import { type ReviewDesk, WorkLimitReached } from '../review-desk.js';
import {
  REVIEW_DECISIONS,
  ROLES,
  type CentralStore,
  type FigureRow,
  type ReviewDecision,
  type Role,
} from '../store/central-store.js';
import { dummyPasswordHash, hashPassword, newSessionToken, tokenDigest, verifyPassword } from './accounts.js';
import type { EvidenceProxy } from './evidence-proxy.js';
import { cookie, HttpError, readJson, Router, sendJson } from './http.js';
import type { LiveUpdates } from './live-updates.js';
import { WatchlistInputError, type WatchlistDesk } from '../watchlist/watchlist-desk.js';

const COOKIE = 'central_session';
const RANK: Record<Role, number> = { analyst: 0, supervisor: 1, admin: 2 };
const DISPOSITIONS = ['person-found', 'cleared-after-search', 'false-alarm'] as const;

export interface CentralApiOptions {
  store: CentralStore;
  commands: Pick<LaneCommands, 'send'>;
  desk: ReviewDesk;
  watchlists: WatchlistDesk;
  evidence: EvidenceProxy;
  live: LiveUpdates;
  sessionTtlMinutes: number;
  log: Logger;
  /** Cookies with Secure when the UI is served over HTTPS (behind a TLS proxy). */
  secureCookies: boolean;
}

interface Who {
  name: string;
  role: Role;
}

/**
 * The JSON API of the web UI. Every route but log-in needs a session; each names the least role
 * it needs (analyst < supervisor < admin). Every change is written to the audit log with the
 * person who made it.
 */
export class CentralApi {
  readonly router = new Router();

  constructor(private readonly o: CentralApiOptions) {
    const r = this.router;
    r.on('POST', '/api/login', (req, res) => this.#login(req, res));
    r.on('POST', '/api/logout', (req, res) => this.#logout(req, res));
    r.on(
      'GET',
      '/api/me',
      this.#auth('analyst', async (_req, res, _p, _u, who) => sendJson(res, 200, who)),
    );
    r.on(
      'GET',
      '/api/lanes',
      this.#auth('analyst', async (_req, res) => sendJson(res, 200, { lanes: await o.store.lanes() })),
    );
    r.on(
      'GET',
      '/api/downtime',
      this.#auth('analyst', async (_req, res, _p, url) =>
        sendJson(res, 200, {
          downtime: await o.store.downtime({
            siteId: url.searchParams.get('site') ?? undefined,
            laneId: url.searchParams.get('lane') ?? undefined,
          }),
        }),
      ),
    );
    r.on(
      'GET',
      '/api/alerts',
      this.#auth('analyst', async (_req, res, _p, url) =>
        sendJson(res, 200, {
          alerts: await o.store.alerts({ open: url.searchParams.get('open') === '1', limit: 500 }),
        }),
      ),
    );
    r.on(
      'GET',
      '/api/alerts/:site/:lane/:alert',
      this.#auth('analyst', async (_req, res, p) => {
        const a = await o.store.alert(p.site!, p.lane!, p.alert!);
        if (!a) throw new HttpError(404, `no alert ${p.alert} from ${p.site}/${p.lane}`);
        const scan = a.scanId ? await o.store.scan(p.site!, p.lane!, a.scanId) : null;
        sendJson(res, 200, { alert: a, scan, events: await o.store.alertEvents(p.site!, p.lane!, p.alert!) });
      }),
    );
    r.on(
      'POST',
      '/api/alerts/:site/:lane/:alert/ack',
      this.#auth('analyst', (req, res, p, _u, who) => this.#alertCommand(req, res, p, who, 'ack')),
    );
    r.on(
      'POST',
      '/api/alerts/:site/:lane/:alert/disposition',
      this.#auth('analyst', (req, res, p, _u, who) => this.#alertCommand(req, res, p, who, 'disposition')),
    );
    r.on(
      'GET',
      '/api/reviews',
      this.#auth('analyst', async (_req, res, _p, url) =>
        sendJson(res, 200, { reviews: await o.store.reviews({ open: url.searchParams.get('open') === '1' }) }),
      ),
    );
    r.on(
      'POST',
      '/api/reviews/next',
      this.#auth('analyst', async (_req, res, _p, _u, who) => {
        try {
          const review = await o.desk.takeNext(who.name);
          sendJson(res, 200, { review });
        } catch (err) {
          if (err instanceof WorkLimitReached) throw new HttpError(409, err.message);
          throw err;
        }
      }),
    );
    r.on(
      'POST',
      '/api/reviews/:site/:lane/:scan/decision',
      this.#auth('analyst', async (req, res, p, _u, who) => {
        const body = await readJson(req);
        const decision = body.decision as ReviewDecision;
        if (!REVIEW_DECISIONS.includes(decision))
          throw new HttpError(400, `decision must be one of ${REVIEW_DECISIONS.join(', ')}`);
        const note = typeof body.note === 'string' && body.note.trim() ? body.note.trim().slice(0, 2000) : null;
        const out = await o.desk.decide(
          { siteId: p.site!, laneId: p.lane!, scanId: p.scan! },
          who.name,
          decision,
          note,
        );
        if (!out)
          throw new HttpError(409, `review of scan ${p.scan} is not held by ${who.name}, or is already decided`);
        sendJson(res, 200, out);
      }),
    );
    r.on(
      'POST',
      '/api/reviews/:site/:lane/:scan/release',
      this.#auth('analyst', async (_req, res, p, _u, who) => {
        if (!(await o.store.releaseReview({ siteId: p.site!, laneId: p.lane!, scanId: p.scan! }, who.name)))
          throw new HttpError(409, `review of scan ${p.scan} is not held by ${who.name}`);
        await o.store.audit(who.name, 'review-released', `${p.site}/${p.lane}/${p.scan}`);
        sendJson(res, 200, { ok: true });
      }),
    );
    r.on(
      'GET',
      '/api/scans/:site/:lane/:scan',
      this.#auth('analyst', async (_req, res, p) => {
        const scan = await o.store.scan(p.site!, p.lane!, p.scan!);
        if (!scan) throw new HttpError(404, `no scan ${p.scan} from ${p.site}/${p.lane}`);
        sendJson(res, 200, { scan });
      }),
    );
    r.on(
      'GET',
      '/api/evidence/:site/:lane/:scan/:name',
      this.#auth('analyst', async (_req, res, p) => {
        const pic = await o.evidence.get(p.site!, p.lane!, p.scan!, p.name!);
        res.writeHead(200, {
          'content-type': pic.contentType,
          'cache-control': 'private, max-age=300',
          'x-central-cache': pic.cached ? 'hit' : 'miss',
        });
        res.end(pic.body);
      }),
    );
    r.on(
      'GET',
      '/api/movements',
      this.#auth('analyst', async (_req, res, _p, url) => {
        const q = url.searchParams.get('q') ?? '';
        if (q.trim().length < 2)
          throw new HttpError(400, 'give at least 2 characters of a plate or container code (q=)');
        sendJson(res, 200, { movements: await o.store.movements(q) });
      }),
    );
    r.on(
      'GET',
      '/api/figures',
      this.#auth('supervisor', async (_req, res, _p, url) =>
        sendJson(res, 200, { figures: await o.store.figures(range(url)) }),
      ),
    );
    r.on(
      'GET',
      '/api/figures.csv',
      this.#auth('supervisor', async (_req, res, _p, url) => {
        const rows = await o.store.figures(range(url));
        res.writeHead(200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': 'attachment; filename="central-figures.csv"',
          'cache-control': 'no-store',
        });
        res.end(figuresCsv(rows));
      }),
    );
    r.on(
      'GET',
      '/api/watchlists',
      this.#auth('analyst', async (_req, res) => sendJson(res, 200, { lists: await o.watchlists.lists() })),
    );
    r.on(
      'GET',
      '/api/watchlists/:list/entries',
      this.#auth('analyst', async (_req, res, p) =>
        sendJson(res, 200, { entries: await o.watchlists.entries(p.list!) }),
      ),
    );
    r.on(
      'POST',
      '/api/watchlists/:list/entries',
      this.#auth('supervisor', (req, res, p, _u, who) =>
        watchlistCall(res, async () => ({
          entry: await o.watchlists.putEntry(p.list!, await readJson(req), who.name),
        })),
      ),
    );
    r.on(
      'POST',
      '/api/watchlists/:list/entries/:entry/expire',
      this.#auth('supervisor', (_req, res, p, _u, who) =>
        watchlistCall(res, async () => ({ entry: await o.watchlists.expire(p.list!, p.entry!, who.name) })),
      ),
    );
    r.on(
      'POST',
      '/api/watchlists/:list/import',
      this.#auth('supervisor', (req, res, p, _u, who) =>
        watchlistCall(res, async () =>
          o.watchlists.importCsv(p.list!, String((await readJson(req)).csv ?? ''), who.name),
        ),
      ),
    );
    r.on(
      'POST',
      '/api/watchlists/:list/publish',
      this.#auth('supervisor', (_req, res, p, _u, who) =>
        watchlistCall(res, () => o.watchlists.publish(p.list!, who.name)),
      ),
    );
    r.on(
      'GET',
      '/api/watchlist-hits',
      this.#auth('analyst', async (_req, res) => sendJson(res, 200, { hits: await o.watchlists.hits() })),
    );
    r.on(
      'POST',
      '/api/watchlist-hits/:site/:lane/:alert/verification',
      this.#auth('analyst', (req, res, p, _u, who) =>
        watchlistCall(res, async () => {
          const b = await readJson(req);
          const note = typeof b.note === 'string' && b.note.trim() ? b.note.trim().slice(0, 2000) : null;
          await o.watchlists.verify(p.site!, p.lane!, p.alert!, String(b.outcome ?? ''), note, who.name);
          return { ok: true };
        }),
      ),
    );
    r.on(
      'GET',
      '/api/audit',
      this.#auth('supervisor', async (_req, res) => sendJson(res, 200, { audit: await o.store.auditLog(500) })),
    );
    r.on(
      'GET',
      '/api/accounts',
      this.#auth('admin', async (_req, res) => sendJson(res, 200, { accounts: await o.store.accounts() })),
    );
    r.on(
      'POST',
      '/api/accounts',
      this.#auth('admin', async (req, res, _p, _u, who) => {
        const b = await readJson(req);
        const name = String(b.name ?? '');
        const role = b.role as Role;
        const password = String(b.password ?? '');
        if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name))
          throw new HttpError(400, 'name: letters, digits, . _ @ -, at most 64');
        if (!ROLES.includes(role)) throw new HttpError(400, `role must be one of ${ROLES.join(', ')}`);
        if (password.length < 10) throw new HttpError(400, 'password: at least 10 characters');
        await o.store.putAccount(name, role, await hashPassword(password));
        await o.store.audit(who.name, 'account-set', name, { role });
        sendJson(res, 200, { name, role });
      }),
    );
    r.on(
      'DELETE',
      '/api/accounts/:name',
      this.#auth('admin', async (_req, res, p, _u, who) => {
        if (p.name === who.name) throw new HttpError(400, 'an admin cannot remove their own account');
        if (!(await o.store.removeAccount(p.name!))) throw new HttpError(404, `no account ${p.name}`);
        await o.store.audit(who.name, 'account-removed', p.name!);
        sendJson(res, 200, { ok: true });
      }),
    );
    r.on(
      'GET',
      '/api/live',
      this.#auth('analyst', async (req, res) => o.live.open(req, res)),
    );
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const m = this.router.match(req.method ?? 'GET', url.pathname);
    if (!m) return false;
    try {
      if (
        req.method !== 'GET' &&
        req.method !== 'HEAD' &&
        !(req.headers['content-type'] ?? '').startsWith('application/json')
      ) {
        // Forms from another site cannot send JSON without a preflight: this is the CSRF guard.
        throw new HttpError(415, 'send the request body as application/json');
      }
      await m.handler(req, res, m.params, url);
    } catch (err) {
      if (err instanceof HttpError) sendJson(res, err.status, { error: err.message });
      else {
        this.o.log.error(
          { err, path: url.pathname },
          `central API ${req.method} ${url.pathname} failed: ${(err as Error).message}`,
        );
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error; see the central log' });
      }
    }
    return true;
  }

  #auth(
    least: Role,
    fn: (req: IncomingMessage, res: ServerResponse, p: Record<string, string>, url: URL, who: Who) => Promise<void>,
  ) {
    return async (req: IncomingMessage, res: ServerResponse, p: Record<string, string>, url: URL) => {
      const token = cookie(req, COOKIE);
      const who = token ? await this.o.store.session(tokenDigest(token)) : null;
      if (!who) throw new HttpError(401, 'log in first (the session is missing or has expired)');
      if (RANK[who.role] < RANK[least])
        throw new HttpError(403, `${who.name} (${who.role}) may not do this: it needs the ${least} role`);
      await fn(req, res, p, url, who);
    };
  }

  async #login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const b = await readJson(req);
    const name = String(b.name ?? '');
    const password = String(b.password ?? '');
    const ip = req.socket.remoteAddress ?? '?';
    const wait = await this.o.store.loginFailures.blockedFor(name, ip);
    if (wait > 0)
      throw new HttpError(429, `too many failed log-ins for ${name}: try again in ${Math.ceil(wait / 1000)} s`);
    const acc = await this.o.store.account(name);
    const ok = await verifyPassword(password, acc?.hash ?? (await dummyPasswordHash()));
    if (!acc || !ok) {
      await this.o.store.loginFailures.failed(name, ip);
      await this.o.store.audit(name || '(empty)', 'log-in-refused', null, { ip });
      throw new HttpError(401, 'wrong name or password');
    }
    await this.o.store.loginFailures.succeeded(name, ip);
    const { token, digest } = newSessionToken();
    await this.o.store.putSession(digest, acc.name, new Date(Date.now() + this.o.sessionTtlMinutes * 60_000));
    await this.o.store.audit(acc.name, 'log-in', null, { ip });
    sendJson(
      res,
      200,
      { name: acc.name, role: acc.role },
      {
        'set-cookie': `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${this.o.sessionTtlMinutes * 60}${this.o.secureCookies ? '; Secure' : ''}`,
      },
    );
  }

  async #logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = cookie(req, COOKIE);
    if (token) await this.o.store.deleteSession(tokenDigest(token));
    sendJson(res, 200, { ok: true }, { 'set-cookie': `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0` });
  }

  async #alertCommand(
    req: IncomingMessage,
    res: ServerResponse,
    p: Record<string, string>,
    who: Who,
    command: 'ack' | 'disposition',
  ): Promise<void> {
    const b = await readJson(req);
    const alert = await this.o.store.alert(p.site!, p.lane!, p.alert!);
    if (!alert) throw new HttpError(404, `no alert ${p.alert} from ${p.site}/${p.lane}`);
    const note = typeof b.note === 'string' && b.note.trim() ? b.note.trim().slice(0, 2000) : undefined;
    const body: Record<string, unknown> = { alertId: p.alert, operator: who.name, ...(note ? { note } : {}) };
    if (command === 'disposition') {
      if (!DISPOSITIONS.includes(b.disposition as (typeof DISPOSITIONS)[number]))
        throw new HttpError(400, `disposition must be one of ${DISPOSITIONS.join(', ')}`);
      body.disposition = b.disposition;
    }
    await this.o.store.audit(who.name, `alert-${command}`, `${p.site}/${p.lane}/${p.alert}`, {
      ...(body.disposition ? { disposition: body.disposition } : {}),
      ...(note ? { note } : {}),
    });
    let answer: CommandResponse;
    try {
      answer = await this.o.commands.send(p.site!, p.lane!, command, body);
    } catch (err) {
      throw new HttpError(504, (err as Error).message);
    }
    if (answer.status === 'error') throw new HttpError(409, `lane ${p.site}/${p.lane} refused: ${answer.error}`);
    sendJson(res, 200, { lane: answer });
  }
}

function range(url: URL): { from?: Date; to?: Date; siteId?: string } {
  const d = (k: string) => {
    const v = url.searchParams.get(k);
    if (!v) return undefined;
    const t = new Date(v);
    if (Number.isNaN(t.getTime())) throw new HttpError(400, `${k}: expected a date (YYYY-MM-DD), got ${v}`);
    return t;
  };
  return { from: d('from'), to: d('to'), siteId: url.searchParams.get('site') ?? undefined };
}

export function figuresCsv(rows: FigureRow[]): string {
  const head =
    'site,lane,day,model_version,scans,persons,unavailable,alerts,dispositions,false_alarms,false_alarm_rate';
  const esc = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[head, ...rows.map((r) => [r.siteId, r.laneId, r.day, r.modelVersion, r.scans, r.persons, r.unavailable, r.alerts, r.dispositions, r.falseAlarms, r.falseAlarmRate === null ? '' : r.falseAlarmRate.toFixed(4)].map(esc).join(','))].join('\n')}\n`;
}

/** Runs a watchlist change; a refused change (what is wrong with it) is a 400. */
async function watchlistCall(res: ServerResponse, fn: () => Promise<unknown>): Promise<void> {
  try {
    sendJson(res, 200, await fn());
  } catch (err) {
    if (err instanceof WatchlistInputError) throw new HttpError(400, err.message);
    throw err;
  }
}
