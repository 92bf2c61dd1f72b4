import type { SqlDriver } from './sql.js';

/**
 * The store's schema, as numbered migrations applied in order, each once, in one transaction
 * under an advisory lock (several central workers may start at the same moment). Never edit a
 * released migration: add the next one.
 */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'lanes, scans, alerts, events, downtime, reviews, accounts, audit',
    sql: `
create table sites (
  site_id text primary key,
  name text
);
create table lanes (
  site_id text not null,
  lane_id text not null,
  name text,
  availability text not null default 'unknown',
  availability_at timestamptz,
  overall text,
  status jsonb,
  status_at timestamptz,
  last_scan_at timestamptz,
  last_scan_id text,
  model_version text,
  edge_version text,
  outbox_depth integer,
  updated_at timestamptz not null default now(),
  primary key (site_id, lane_id)
);
create table scans (
  site_id text not null,
  lane_id text not null,
  message_id text not null,
  scan_id text not null,
  decided_at timestamptz not null,
  verdict text not null,
  outcome text not null,
  score double precision,
  model_name text,
  model_version text,
  plate text,
  plate_norm text,
  container text,
  container_norm text,
  review_reason text,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  primary key (site_id, lane_id, message_id)
);
create index scans_plate_norm on scans (plate_norm, decided_at desc) where plate_norm is not null;
create index scans_container_norm on scans (container_norm, decided_at desc) where container_norm is not null;
create index scans_decided on scans (decided_at);
create table alerts (
  site_id text not null,
  lane_id text not null,
  message_id text not null,
  alert_id text not null,
  scan_id text,
  raised_at timestamptz not null,
  kind text not null,
  severity text not null,
  severity_rank smallint not null,
  score double precision,
  message text not null,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  primary key (site_id, lane_id, message_id)
);
create index alerts_queue on alerts (severity_rank, raised_at);
create table alert_events (
  site_id text not null,
  lane_id text not null,
  message_id text not null,
  alert_id text not null,
  at timestamptz not null,
  type text not null,
  operator text not null,
  note text,
  origin text not null,
  received_at timestamptz not null default now(),
  primary key (site_id, lane_id, message_id)
);
create index alert_events_alert on alert_events (site_id, lane_id, alert_id);
create table downtime (
  id bigserial primary key,
  site_id text not null,
  lane_id text not null,
  state text not null,
  reason text not null,
  started_at timestamptz not null,
  ended_at timestamptz
);
create index downtime_open on downtime (site_id, lane_id) where ended_at is null;
create table reviews (
  site_id text not null,
  lane_id text not null,
  scan_id text not null,
  reason text not null,
  queued_at timestamptz not null,
  taken_by text,
  taken_at timestamptz,
  decided_at timestamptz,
  decision text,
  note text,
  escalated_at timestamptz,
  primary key (site_id, lane_id, scan_id)
);
create index reviews_open on reviews (queued_at) where decided_at is null;
create table accounts (
  name text primary key,
  role text not null,
  hash text not null,
  created_at timestamptz not null default now(),
  work_started_at timestamptz,
  last_work_at timestamptz
);
create table sessions (
  token_hash text primary key,
  name text not null references accounts(name) on delete cascade,
  expires_at timestamptz not null
);
create table audit (
  id bigserial primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  target text,
  detail jsonb
);
`,
  },
  {
    version: 2,
    name: 'watchlists: entries, published versions, verification of hits',
    sql: `
create table watchlist_entries (
  list_id text not null,
  entry_id text not null,
  entry jsonb not null,
  updated_at timestamptz not null default now(),
  updated_by text not null,
  primary key (list_id, entry_id)
);
create table watchlist_versions (
  list_id text not null,
  version integer not null,
  entries integer not null,
  published_at timestamptz not null default now(),
  published_by text not null,
  primary key (list_id, version)
);
create table watchlist_verifications (
  site_id text not null,
  lane_id text not null,
  alert_id text not null,
  outcome text not null,
  note text,
  verified_by text not null,
  verified_at timestamptz not null default now(),
  primary key (site_id, lane_id, alert_id)
);
`,
  },
  {
    version: 3,
    name: 'failed log-ins, shared by every central process',
    sql: `
create table login_failures (
  ip text not null,
  name text not null,
  count integer not null,
  first_at timestamptz not null,
  locked_until timestamptz,
  primary key (ip, name)
);
`,
  },
];

/** Applies the migrations not yet applied; returns their versions. */
export async function migrate(db: SqlDriver): Promise<number[]> {
  await db.exec(
    'create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())',
  );
  return db.transaction(async (tx) => {
    // One migrator at a time across processes; released at commit.
    await tx.query('select pg_advisory_xact_lock(741852963)');
    const done = new Set(
      (await tx.query<{ version: number }>('select version from schema_migrations')).map((r) => Number(r.version)),
    );
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const stmt of m.sql
        .split(/;\s*\n/)
        .map((s) => s.trim())
        .filter(Boolean))
        await tx.query(stmt);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
