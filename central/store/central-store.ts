import type { AlertPayload, EventPayload, ScanPayload, StatusPayload } from '../../core/mqtt-payloads.js';
import { LoginFailures } from './login-failures.js';
import { normaliseCode } from '../normalise.js';
import { migrate } from './migrations.js';
import type { SqlDriver, SqlQueryable } from './sql.js';

export type Role = 'analyst' | 'supervisor' | 'admin';
export const ROLES: readonly Role[] = ['analyst', 'supervisor', 'admin'];
export type ReviewDecision = 'clear' | 'search';
export const REVIEW_DECISIONS: readonly ReviewDecision[] = ['clear', 'search'];

const SEVERITY_RANK: Record<AlertPayload['severity'], number> = { critical: 0, warning: 1, info: 2 };

export interface LaneRow {
  siteId: string;
  laneId: string;
  name: string | null;
  availability: string;
  overall: string | null;
  state: 'online' | 'screening' | 'degraded' | 'down' | 'unknown';
  lastScanAt: Date | null;
  lastScanId: string | null;
  modelVersion: string | null;
  edgeVersion: string | null;
  outboxDepth: number | null;
  statusAt: Date | null;
  downSince: Date | null;
  downReason: string | null;
}

export interface AlertRow {
  siteId: string;
  laneId: string;
  alertId: string;
  scanId: string | null;
  raisedAt: Date;
  kind: string;
  severity: string;
  score: number | null;
  message: string;
  payload: AlertPayload;
  acknowledgedBy: string | null;
  disposition: string | null;
  dispositionBy: string | null;
}

export interface ReviewRow {
  siteId: string;
  laneId: string;
  scanId: string;
  reason: string;
  queuedAt: Date;
  takenBy: string | null;
  takenAt: Date | null;
  decidedAt: Date | null;
  decision: ReviewDecision | null;
  note: string | null;
  escalatedAt: Date | null;
  scan?: ScanPayload;
}

export interface MovementRow {
  siteId: string;
  laneId: string;
  scanId: string;
  decidedAt: Date;
  verdict: string;
  plate: string | null;
  container: string | null;
  score: number | null;
  disposition: string | null;
  evidence: ScanPayload['evidence'];
}

export interface FigureRow {
  siteId: string;
  laneId: string;
  day: string;
  modelVersion: string | null;
  scans: number;
  persons: number;
  unavailable: number;
  alerts: number;
  dispositions: number;
  falseAlarms: number;
  falseAlarmRate: number | null;
}

export interface AccountRow {
  name: string;
  role: Role;
  hash: string;
  workStartedAt: Date | null;
  lastWorkAt: Date | null;
}

/** A lane that screens and reported a scan within this time shows as screening. */
const SCREENING_WINDOW_MS = 10 * 60_000;

/**
 * Everything central command keeps, in PostgreSQL (a server, or PGlite embedded): one SQL text
 * for both. Every lane message is stored idempotently: scans, alerts and events once per
 * (site, lane, messageId), a status or availability only when newer than the one held, so a
 * redelivery (MQTT QoS 1, JetStream after a worker died) changes nothing.
 */
export class CentralStore {
  /** Failed log-ins, counted across every process on this database. */
  readonly loginFailures: LoginFailures;

  constructor(readonly db: SqlDriver) {
    this.loginFailures = new LoginFailures(db);
  }

  async migrate(): Promise<number[]> {
    return migrate(this.db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  // ---- sites and lanes

  async declareLanes(sites: { id: string; name?: string; lanes: { id: string; name?: string }[] }[]): Promise<void> {
    for (const s of sites) {
      await this.db.query(
        'insert into sites (site_id, name) values ($1, $2) on conflict (site_id) do update set name = coalesce(excluded.name, sites.name)',
        [s.id, s.name ?? null],
      );
      for (const l of s.lanes) {
        await this.db.query(
          'insert into lanes (site_id, lane_id, name) values ($1, $2, $3) on conflict (site_id, lane_id) do update set name = coalesce(excluded.name, lanes.name)',
          [s.id, l.id, l.name ?? null],
        );
      }
    }
  }

  /** Lanes whose row is known to be committed: their messages skip two statements. */
  readonly #knownLanes = new Set<string>();

  async #touchLane(tx: SqlQueryable, siteId: string, laneId: string): Promise<void> {
    if (this.#knownLanes.has(`${siteId}/${laneId}`)) return;
    await tx.query('insert into sites (site_id) values ($1) on conflict do nothing', [siteId]);
    await tx.query('insert into lanes (site_id, lane_id) values ($1, $2) on conflict do nothing', [siteId, laneId]);
  }

  /** Runs one message's transaction; afterwards its lane's row is known to exist. */
  async #ingest<T>(siteId: string, laneId: string, fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const out = await this.db.transaction(fn);
    if (this.#knownLanes.size < 100_000) this.#knownLanes.add(`${siteId}/${laneId}`);
    return out;
  }

  // ---- ingest (each returns true when the message was new)

  async ingestScan(p: ScanPayload): Promise<boolean> {
    return this.#ingest(p.siteId, p.laneId, async (tx) => {
      await this.#touchLane(tx, p.siteId, p.laneId);
      const plate = p.vehicle?.plate ?? null;
      const container = p.vehicle?.containerCode ?? null;
      const reason = p.review?.reason ?? null;
      const rows = await tx.query(
        `insert into scans (site_id, lane_id, message_id, scan_id, decided_at, verdict, outcome, score, model_name, model_version, plate, plate_norm, container, container_norm, review_reason, payload)
         values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) on conflict do nothing returning message_id`,
        [
          p.siteId,
          p.laneId,
          p.messageId,
          p.scanId,
          p.decidedAt,
          p.verdict,
          p.outcome,
          p.score,
          p.model?.name ?? null,
          p.model?.version ?? null,
          plate,
          normaliseCode(plate),
          container,
          normaliseCode(container),
          reason,
          JSON.stringify(p),
        ],
      );
      if (rows.length === 0) return false;
      await tx.query(
        `update lanes set last_scan_at = $3, last_scan_id = $4, model_version = coalesce($5, model_version), updated_at = now()
         where site_id = $1 and lane_id = $2 and (last_scan_at is null or last_scan_at <= $3)`,
        [p.siteId, p.laneId, p.decidedAt, p.scanId, p.model?.version ?? null],
      );
      if (reason) {
        await tx.query(
          'insert into reviews (site_id, lane_id, scan_id, reason, queued_at) values ($1,$2,$3,$4,$5) on conflict do nothing',
          [p.siteId, p.laneId, p.scanId, reason, new Date()],
        );
      }
      return true;
    });
  }

  async ingestAlert(p: AlertPayload): Promise<boolean> {
    return this.#ingest(p.siteId, p.laneId, async (tx) => {
      await this.#touchLane(tx, p.siteId, p.laneId);
      const rows = await tx.query(
        `insert into alerts (site_id, lane_id, message_id, alert_id, scan_id, raised_at, kind, severity, severity_rank, score, message, payload)
         values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) on conflict do nothing returning message_id`,
        [
          p.siteId,
          p.laneId,
          p.messageId,
          p.alertId,
          p.scanId,
          p.raisedAt,
          p.kind,
          p.severity,
          SEVERITY_RANK[p.severity],
          p.score,
          p.message,
          JSON.stringify(p),
        ],
      );
      return rows.length > 0;
    });
  }

  async ingestEvent(p: EventPayload): Promise<boolean> {
    return this.#ingest(p.siteId, p.laneId, async (tx) => {
      await this.#touchLane(tx, p.siteId, p.laneId);
      const rows = await tx.query(
        `insert into alert_events (site_id, lane_id, message_id, alert_id, at, type, operator, note, origin)
         values ($1,$2,$3,$4,$5,$6,$7,$8,$9) on conflict do nothing returning message_id`,
        [p.siteId, p.laneId, p.messageId, p.alertId, p.at, p.type, p.operator, p.note ?? null, p.origin],
      );
      return rows.length > 0;
    });
  }

  /** A status report: applied when newer than the one held; opens or closes a degraded period. */
  async ingestStatus(p: StatusPayload): Promise<boolean> {
    return this.#ingest(p.siteId, p.laneId, async (tx) => {
      await this.#touchLane(tx, p.siteId, p.laneId);
      const rows = await tx.query(
        `update lanes set overall = $3, status = $4, status_at = $5, edge_version = $6, model_version = coalesce($7, model_version), outbox_depth = $8, updated_at = now()
         where site_id = $1 and lane_id = $2 and (status_at is null or status_at < $5) returning lane_id`,
        [p.siteId, p.laneId, p.overall, JSON.stringify(p), p.at, p.versions.edge, p.versions.model, p.outbox.depth],
      );
      if (rows.length === 0) return false;
      if (p.overall === 'ok') {
        await this.#closeDowntime(tx, p.siteId, p.laneId, ['degraded', 'detection-unavailable'], p.at);
      } else {
        const reason =
          p.devices
            .filter((d) => d.state !== 'ok')
            .map((d) => `${d.device} ${d.state}${d.detail ? `: ${d.detail}` : ''}`)
            .join('; ') || p.overall;
        await this.#openDowntime(tx, p.siteId, p.laneId, p.overall, reason, p.at);
      }
      return true;
    });
  }

  /** online / offline (retained; offline is the lane's last will). `at` is when the broker or stream received it. */
  async ingestAvailability(siteId: string, laneId: string, value: 'online' | 'offline', at: Date): Promise<boolean> {
    return this.#ingest(siteId, laneId, async (tx) => {
      await this.#touchLane(tx, siteId, laneId);
      const rows = await tx.query(
        `update lanes set availability = $3, availability_at = $4, updated_at = now()
         where site_id = $1 and lane_id = $2 and (availability_at is null or availability_at < $4) returning lane_id`,
        [siteId, laneId, value, at],
      );
      if (rows.length === 0) return false;
      if (value === 'online') await this.#closeDowntime(tx, siteId, laneId, ['offline'], at.toISOString());
      else
        await this.#openDowntime(
          tx,
          siteId,
          laneId,
          'offline',
          'lane offline: stopped, or its link died (last will)',
          at.toISOString(),
        );
      return true;
    });
  }

  async #openDowntime(
    tx: SqlQueryable,
    siteId: string,
    laneId: string,
    state: string,
    reason: string,
    at: string,
  ): Promise<void> {
    const open = await tx.query<{ id: number; state: string; reason: string }>(
      'select id, state, reason from downtime where site_id = $1 and lane_id = $2 and ended_at is null',
      [siteId, laneId],
    );
    const same = open.find((d) => d.state === state);
    if (same) {
      if (same.reason !== reason) await tx.query('update downtime set reason = $2 where id = $1', [same.id, reason]);
      return;
    }
    // degraded and detection-unavailable replace each other; offline stands beside them.
    if (state !== 'offline') await this.#closeDowntime(tx, siteId, laneId, ['degraded', 'detection-unavailable'], at);
    await tx.query('insert into downtime (site_id, lane_id, state, reason, started_at) values ($1,$2,$3,$4,$5)', [
      siteId,
      laneId,
      state,
      reason,
      at,
    ]);
  }

  async #closeDowntime(tx: SqlQueryable, siteId: string, laneId: string, states: string[], at: string): Promise<void> {
    await tx.query(
      'update downtime set ended_at = greatest($4::timestamptz, started_at) where site_id = $1 and lane_id = $2 and state = any($3::text[]) and ended_at is null',
      [siteId, laneId, states, at],
    );
  }

  async lanes(now = new Date()): Promise<LaneRow[]> {
    const rows = await this.db.query<Omit<LaneRow, 'state'>>(
      `select l.site_id as "siteId", l.lane_id as "laneId", l.name, l.availability, l.overall, l.last_scan_at as "lastScanAt", l.last_scan_id as "lastScanId",
              l.model_version as "modelVersion", l.edge_version as "edgeVersion", l.outbox_depth as "outboxDepth", l.status_at as "statusAt",
              d.started_at as "downSince", d.reason as "downReason"
       from lanes l left join lateral (
         select started_at, reason from downtime where site_id = l.site_id and lane_id = l.lane_id and ended_at is null order by (state = 'offline') desc, started_at limit 1
       ) d on true
       order by l.site_id, l.lane_id`,
    );
    return rows.map((r) => ({ ...r, state: laneState(r, now) }));
  }

  async downtime(
    opts: { siteId?: string; laneId?: string; limit?: number } = {},
  ): Promise<
    { siteId: string; laneId: string; state: string; reason: string; startedAt: Date; endedAt: Date | null }[]
  > {
    return this.db.query(
      `select site_id as "siteId", lane_id as "laneId", state, reason, started_at as "startedAt", ended_at as "endedAt" from downtime
       where ($1::text is null or site_id = $1) and ($2::text is null or lane_id = $2) order by started_at desc limit $3`,
      [opts.siteId ?? null, opts.laneId ?? null, opts.limit ?? 200],
    );
  }

  // ---- alerts

  /** The queue: severity first, then oldest first; open = not yet dispositioned. */
  async alerts(opts: { open?: boolean; limit?: number; siteId?: string } = {}): Promise<AlertRow[]> {
    return this.db.query<AlertRow>(
      `select a.site_id as "siteId", a.lane_id as "laneId", a.alert_id as "alertId", a.scan_id as "scanId", a.raised_at as "raisedAt", a.kind, a.severity, a.score, a.message, a.payload,
              ack.operator as "acknowledgedBy", dis.type as disposition, dis.operator as "dispositionBy"
       from alerts a
       left join lateral (select operator from alert_events e where e.site_id = a.site_id and e.lane_id = a.lane_id and e.alert_id = a.alert_id and e.type = 'acknowledged' order by at limit 1) ack on true
       left join lateral (select type, operator from alert_events e where e.site_id = a.site_id and e.lane_id = a.lane_id and e.alert_id = a.alert_id and e.type <> 'acknowledged' order by at limit 1) dis on true
       where ($1::boolean is not true or dis.type is null) and ($3::text is null or a.site_id = $3)
       order by a.severity_rank, a.raised_at
       limit $2`,
      [opts.open ?? false, opts.limit ?? 500, opts.siteId ?? null],
    );
  }

  async alert(siteId: string, laneId: string, alertId: string): Promise<AlertRow | null> {
    const rows = await this.db.query<AlertRow>(
      `select site_id as "siteId", lane_id as "laneId", alert_id as "alertId", scan_id as "scanId", raised_at as "raisedAt", kind, severity, score, message, payload, null as "acknowledgedBy", null as disposition, null as "dispositionBy"
       from alerts where site_id = $1 and lane_id = $2 and alert_id = $3`,
      [siteId, laneId, alertId],
    );
    return rows[0] ?? null;
  }

  async alertEvents(
    siteId: string,
    laneId: string,
    alertId: string,
  ): Promise<{ type: string; operator: string; note: string | null; origin: string; at: Date }[]> {
    return this.db.query(
      'select type, operator, note, origin, at from alert_events where site_id = $1 and lane_id = $2 and alert_id = $3 order by at',
      [siteId, laneId, alertId],
    );
  }

  async countAlerts(): Promise<{ rows: number; distinct: number }> {
    const [r] = await this.db.query<{ rows: number; distinct: number }>(
      'select count(*)::int as rows, count(distinct (site_id, lane_id, alert_id))::int as distinct from alerts',
    );
    return r!;
  }

  async scan(siteId: string, laneId: string, scanId: string): Promise<ScanPayload | null> {
    const rows = await this.db.query<{ payload: ScanPayload }>(
      'select payload from scans where site_id = $1 and lane_id = $2 and scan_id = $3',
      [siteId, laneId, scanId],
    );
    return rows[0]?.payload ?? null;
  }

  // ---- remote review

  /** The next untaken review, oldest first, given to this analyst (SKIP LOCKED: two analysts never get the same). */
  async takeNextReview(analyst: string, now = new Date()): Promise<ReviewRow | null> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<ReviewRow>(
        `update reviews r set taken_by = $1, taken_at = $2
         from (select site_id, lane_id, scan_id from reviews where taken_by is null and decided_at is null order by queued_at limit 1 for update skip locked) n
         where r.site_id = n.site_id and r.lane_id = n.lane_id and r.scan_id = n.scan_id
         returning ${REVIEW_COLUMNS('r')}`,
        [analyst, now],
      );
      const row = rows[0];
      if (!row) return null;
      const scan = await tx.query<{ payload: ScanPayload }>(
        'select payload from scans where site_id = $1 and lane_id = $2 and scan_id = $3',
        [row.siteId, row.laneId, row.scanId],
      );
      return { ...row, scan: scan[0]?.payload };
    });
  }

  /** Records the decision of the analyst who holds the review; null when they do not hold it (or it is decided). */
  async decideReview(
    k: { siteId: string; laneId: string; scanId: string },
    analyst: string,
    decision: ReviewDecision,
    note: string | null,
    now = new Date(),
  ): Promise<ReviewRow | null> {
    const rows = await this.db.query<ReviewRow>(
      `update reviews set decision = $5, note = $6, decided_at = $7 where site_id = $1 and lane_id = $2 and scan_id = $3 and taken_by = $4 and decided_at is null returning ${REVIEW_COLUMNS('reviews')}`,
      [k.siteId, k.laneId, k.scanId, analyst, decision, note, now],
    );
    return rows[0] ?? null;
  }

  /** Puts a taken review back at its place in the queue (an analyst going on a break, or logging out). */
  async releaseReview(k: { siteId: string; laneId: string; scanId: string }, analyst: string): Promise<boolean> {
    const rows = await this.db.query(
      'update reviews set taken_by = null, taken_at = null where site_id = $1 and lane_id = $2 and scan_id = $3 and taken_by = $4 and decided_at is null returning scan_id',
      [k.siteId, k.laneId, k.scanId, analyst],
    );
    return rows.length > 0;
  }

  /** Marks as escalated every review still untaken after `afterS` seconds; returns them. */
  async escalateReviews(afterS: number, now = new Date()): Promise<ReviewRow[]> {
    return this.db.query<ReviewRow>(
      `update reviews set escalated_at = $2 where taken_by is null and decided_at is null and escalated_at is null and queued_at <= $1 returning ${REVIEW_COLUMNS('reviews')}`,
      [new Date(now.getTime() - afterS * 1000), now],
    );
  }

  async reviews(opts: { open?: boolean; limit?: number } = {}): Promise<ReviewRow[]> {
    return this.db.query<ReviewRow>(
      `select ${REVIEW_COLUMNS('reviews')} from reviews where ($1::boolean is not true or decided_at is null) order by queued_at desc limit $2`,
      [opts.open ?? false, opts.limit ?? 200],
    );
  }

  // ---- movements and figures

  /** Every crossing of a plate or container code (normalised), newest first. */
  async movements(code: string, limit = 200): Promise<MovementRow[]> {
    const norm = normaliseCode(code);
    if (!norm) return [];
    return this.db.query<MovementRow>(
      `select s.site_id as "siteId", s.lane_id as "laneId", s.scan_id as "scanId", s.decided_at as "decidedAt", s.verdict, s.plate, s.container, s.score,
              (select e.type from alerts a join alert_events e on e.site_id = a.site_id and e.lane_id = a.lane_id and e.alert_id = a.alert_id and e.type <> 'acknowledged'
                where a.site_id = s.site_id and a.lane_id = s.lane_id and a.scan_id = s.scan_id order by e.at limit 1) as disposition,
              s.payload->'evidence' as evidence
       from (select * from scans where plate_norm = $1 union all select * from scans where container_norm = $1 and (plate_norm is null or plate_norm <> $1)) s
       order by s.decided_at desc limit $2`,
      [norm, limit],
    );
  }

  /** Scans, alerts, dispositions and the false-alarm rate per site, lane, UTC day and model version. */
  async figures(opts: { from?: Date; to?: Date; siteId?: string } = {}): Promise<FigureRow[]> {
    const rows = await this.db.query<Omit<FigureRow, 'falseAlarmRate'>>(
      `with s as (
         select site_id, lane_id, to_char(decided_at at time zone 'UTC', 'YYYY-MM-DD') as day, model_version,
                count(*)::int as scans, count(*) filter (where verdict = 'person')::int as persons, count(*) filter (where verdict = 'unavailable')::int as unavailable
         from scans where ($1::timestamptz is null or decided_at >= $1) and ($2::timestamptz is null or decided_at < $2) and ($3::text is null or site_id = $3)
         group by 1, 2, 3, 4),
       a as (
         select a.site_id, a.lane_id, to_char(a.raised_at at time zone 'UTC', 'YYYY-MM-DD') as day, sc.model_version,
                count(*)::int as alerts,
                count(d.type)::int as dispositions,
                count(*) filter (where d.type = 'false-alarm')::int as false_alarms
         from alerts a
         left join scans sc on sc.site_id = a.site_id and sc.lane_id = a.lane_id and sc.scan_id = a.scan_id
         left join lateral (select type from alert_events e where e.site_id = a.site_id and e.lane_id = a.lane_id and e.alert_id = a.alert_id and e.type <> 'acknowledged' order by at limit 1) d on true
         where a.kind <> 'test' and ($1::timestamptz is null or a.raised_at >= $1) and ($2::timestamptz is null or a.raised_at < $2) and ($3::text is null or a.site_id = $3)
         group by 1, 2, 3, 4)
       select coalesce(s.site_id, a.site_id) as "siteId", coalesce(s.lane_id, a.lane_id) as "laneId", coalesce(s.day, a.day) as day, coalesce(s.model_version, a.model_version) as "modelVersion",
              coalesce(s.scans, 0) as scans, coalesce(s.persons, 0) as persons, coalesce(s.unavailable, 0) as unavailable,
              coalesce(a.alerts, 0) as alerts, coalesce(a.dispositions, 0) as dispositions, coalesce(a.false_alarms, 0) as "falseAlarms"
       from s full join a on a.site_id = s.site_id and a.lane_id = s.lane_id and a.day = s.day and a.model_version is not distinct from s.model_version
       order by 3 desc, 1, 2, 4`,
      [opts.from ?? null, opts.to ?? null, opts.siteId ?? null],
    );
    return rows.map((r) => ({ ...r, falseAlarmRate: r.dispositions > 0 ? r.falseAlarms / r.dispositions : null }));
  }

  // ---- accounts, sessions, audit

  async accountCount(): Promise<number> {
    const [r] = await this.db.query<{ n: number }>('select count(*)::int as n from accounts');
    return r!.n;
  }

  async putAccount(name: string, role: Role, hash: string): Promise<void> {
    await this.db.query(
      'insert into accounts (name, role, hash) values ($1,$2,$3) on conflict (name) do update set role = excluded.role, hash = excluded.hash',
      [name, role, hash],
    );
    // A new password or role ends the account's sessions.
    await this.db.query('delete from sessions where name = $1', [name]);
  }

  async removeAccount(name: string): Promise<boolean> {
    return (await this.db.query('delete from accounts where name = $1 returning name', [name])).length > 0;
  }

  async account(name: string): Promise<AccountRow | null> {
    const rows = await this.db.query<AccountRow>(
      'select name, role, hash, work_started_at as "workStartedAt", last_work_at as "lastWorkAt" from accounts where name = $1',
      [name],
    );
    return rows[0] ?? null;
  }

  async accounts(): Promise<{ name: string; role: Role; createdAt: Date }[]> {
    return this.db.query('select name, role, created_at as "createdAt" from accounts order by name');
  }

  async setWork(name: string, startedAt: Date | null, lastAt: Date | null): Promise<void> {
    await this.db.query('update accounts set work_started_at = $2, last_work_at = $3 where name = $1', [
      name,
      startedAt,
      lastAt,
    ]);
  }

  async putSession(tokenHash: string, name: string, expiresAt: Date): Promise<void> {
    await this.db.query('insert into sessions (token_hash, name, expires_at) values ($1,$2,$3)', [
      tokenHash,
      name,
      expiresAt,
    ]);
  }

  async session(tokenHash: string, now = new Date()): Promise<{ name: string; role: Role } | null> {
    const rows = await this.db.query<{ name: string; role: Role }>(
      'select a.name, a.role from sessions s join accounts a on a.name = s.name where s.token_hash = $1 and s.expires_at > $2',
      [tokenHash, now],
    );
    return rows[0] ?? null;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.query('delete from sessions where token_hash = $1', [tokenHash]);
  }

  async audit(
    actor: string,
    action: string,
    target: string | null,
    detail: Record<string, unknown> | null = null,
  ): Promise<void> {
    await this.db.query('insert into audit (actor, action, target, detail) values ($1,$2,$3,$4)', [
      actor,
      action,
      target,
      detail ? JSON.stringify(detail) : null,
    ]);
  }

  async auditLog(
    limit = 200,
  ): Promise<{ at: Date; actor: string; action: string; target: string | null; detail: unknown }[]> {
    return this.db.query('select at, actor, action, target, detail from audit order by id desc limit $1', [limit]);
  }
}

const REVIEW_COLUMNS = (t: string) =>
  `${t}.site_id as "siteId", ${t}.lane_id as "laneId", ${t}.scan_id as "scanId", ${t}.reason, ${t}.queued_at as "queuedAt", ${t}.taken_by as "takenBy", ${t}.taken_at as "takenAt",
   ${t}.decided_at as "decidedAt", ${t}.decision, ${t}.note, ${t}.escalated_at as "escalatedAt"`;

function laneState(r: Omit<LaneRow, 'state'>, now: Date): LaneRow['state'] {
  if (r.availability === 'offline') return 'down';
  if (r.overall === 'detection-unavailable') return 'down';
  if (r.overall === 'degraded') return 'degraded';
  if (r.availability === 'unknown' && !r.overall) return 'unknown';
  if (r.lastScanAt && now.getTime() - new Date(r.lastScanAt).getTime() < SCREENING_WINDOW_MS) return 'screening';
  return 'online';
}
