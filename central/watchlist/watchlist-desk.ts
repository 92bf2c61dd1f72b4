import type { KeyObject } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import { entriesFromCsv } from '../../core/watchlist/entries-file.js';
import { signedListMessage } from '../../core/watchlist/list-binary.js';
import {
  checkEntry,
  LIST_FORMAT,
  type WatchlistEntry,
  type WatchlistSnapshot,
} from '../../core/watchlist/list-format.js';
import type { CentralStore } from '../store/central-store.js';
import { watchlistTopic } from '../../core/mqtt-topics.js';

export const VERIFICATION_OUTCOMES = ['confirmed', 'misread'] as const;
export type VerificationOutcome = (typeof VERIFICATION_OUTCOMES)[number];

const LIST_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** A change refused, with what is wrong: the API answers it as 400. */
export class WatchlistInputError extends Error {}

export interface WatchlistDeskOptions {
  store: CentralStore;
  /** Publishes a message retained, QoS 1, on the lanes' broker. */
  publishRetained(topic: string, payload: Buffer | string): Promise<void>;
  prefix: string;
  /** Central's signing key; null: lists can be edited but not published. */
  signer: { keyId: string; privateKey: KeyObject } | null;
  log: Logger;
}

export interface ListSummary {
  listId: string;
  entries: number;
  publishedVersion: number | null;
  publishedAt: Date | null;
  publishedBy: string | null;
  /** Entries changed since the last published version. */
  changedSince: number;
}

export interface HitRow {
  siteId: string;
  laneId: string;
  alertId: string;
  scanId: string | null;
  raisedAt: Date;
  payload: { watchlist?: unknown; message: string };
  outcome: VerificationOutcome | null;
  verifiedBy: string | null;
  verifiedAt: Date | null;
  note: string | null;
}

/**
 * Central's side of the watchlists: the entries of each list as people edit them (create, edit,
 * expire, import CSV), each version signed with central's key and published retained to the lanes,
 * the hits the lanes report with their verification (confirmed or misread), and an audit line for
 * every change and every verification.
 */
export class WatchlistDesk {
  constructor(private readonly o: WatchlistDeskOptions) {}

  async lists(): Promise<ListSummary[]> {
    return this.o.store.db.query<ListSummary>(
      `select l.list_id as "listId",
              (select count(*)::int from watchlist_entries e where e.list_id = l.list_id) as entries,
              v.version as "publishedVersion", v.published_at as "publishedAt", v.published_by as "publishedBy",
              (select count(*)::int from watchlist_entries e where e.list_id = l.list_id and (v.published_at is null or e.updated_at > v.published_at)) as "changedSince"
       from (select list_id from watchlist_entries union select list_id from watchlist_versions) l
       left join lateral (select version, published_at, published_by from watchlist_versions w where w.list_id = l.list_id order by version desc limit 1) v on true
       order by l.list_id`,
    );
  }

  async entries(listId: string): Promise<{ entry: WatchlistEntry; updatedAt: Date; updatedBy: string }[]> {
    return this.o.store.db.query(
      `select entry, updated_at as "updatedAt", updated_by as "updatedBy" from watchlist_entries where list_id = $1 order by entry_id`,
      [listId],
    );
  }

  /** Creates or replaces one entry; the error names each field that is wrong. */
  async putEntry(listId: string, raw: unknown, who: string): Promise<WatchlistEntry> {
    checkListId(listId);
    const problems: string[] = [];
    const entry = checkEntry(raw, 'entry', problems);
    if (!entry) throw new WatchlistInputError(`entry not saved: ${problems.join('; ')}`);
    await this.#upsert(listId, [entry], who);
    await this.o.store.audit(who, 'watchlist-entry-set', `${listId}/${entry.id}`, { entry });
    return entry;
  }

  /** Expires an entry now (it stays in the list, matching no more, until removed). */
  async expire(listId: string, entryId: string, who: string): Promise<WatchlistEntry> {
    const rows = await this.o.store.db.query<{ entry: WatchlistEntry }>(
      'select entry from watchlist_entries where list_id = $1 and entry_id = $2',
      [listId, entryId],
    );
    if (!rows[0]) throw new WatchlistInputError(`no entry ${entryId} in list ${listId}`);
    const entry: WatchlistEntry = { ...rows[0].entry, expiresAt: new Date().toISOString() };
    if (entry.effectiveFrom && Date.parse(entry.effectiveFrom) >= Date.parse(entry.expiresAt!))
      delete entry.effectiveFrom;
    await this.#upsert(listId, [entry], who);
    await this.o.store.audit(who, 'watchlist-entry-expired', `${listId}/${entryId}`, { expiresAt: entry.expiresAt });
    return entry;
  }

  /** Imports CSV entries (added or replaced by id): all of them, or none when one is wrong. */
  async importCsv(listId: string, csv: string, who: string): Promise<{ imported: number }> {
    checkListId(listId);
    let raws: unknown[];
    try {
      raws = entriesFromCsv(csv, 'CSV');
    } catch (err) {
      throw new WatchlistInputError((err as Error).message);
    }
    const problems: string[] = [];
    const entries = raws
      .map((r, i) => checkEntry(r, `line ${i + 2}`, problems))
      .filter((e): e is WatchlistEntry => e !== null);
    if (problems.length)
      throw new WatchlistInputError(
        `nothing imported: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}`,
      );
    await this.#upsert(listId, entries, who);
    await this.o.store.audit(who, 'watchlist-imported', listId, { entries: entries.length });
    return { imported: entries.length };
  }

  /** Signs the list as it is now as the next version and publishes it retained to every lane. */
  async publish(listId: string, who: string): Promise<{ version: number; entries: number; topic: string }> {
    const signer = this.o.signer;
    if (!signer)
      throw new WatchlistInputError(
        'central has no signing key (watchlist.privateKey in the central config): lists cannot be published',
      );
    const rows = await this.entries(listId);
    const last = await this.o.store.db.query<{ version: number }>(
      'select max(version) as version from watchlist_versions where list_id = $1',
      [listId],
    );
    const version = Number(last[0]?.version ?? 0) + 1;
    const body: WatchlistSnapshot = {
      format: LIST_FORMAT,
      listId,
      version,
      issuedAt: new Date().toISOString(),
      kind: 'snapshot',
      entries: rows.map((r) => r.entry),
    };
    const message = signedListMessage(body, signer.keyId, signer.privateKey);
    const topic = watchlistTopic(this.o.prefix, listId, 'snapshot');
    await this.o.publishRetained(topic, message);
    await this.o.publishRetained(watchlistTopic(this.o.prefix, listId, 'delta'), '');
    await this.o.store.db.query(
      'insert into watchlist_versions (list_id, version, entries, published_by) values ($1,$2,$3,$4)',
      [listId, version, rows.length, who],
    );
    await this.o.store.audit(who, 'watchlist-published', listId, {
      version,
      entries: rows.length,
      keyId: signer.keyId,
    });
    this.o.log.info(
      { listId, version, entries: rows.length, by: who },
      `watchlist ${listId} v${version} (${rows.length} entries) signed and published by ${who}`,
    );
    return { version, entries: rows.length, topic };
  }

  /** The watchlist hits of every lane, newest first, with their verification. */
  async hits(limit = 500): Promise<HitRow[]> {
    return this.o.store.db.query<HitRow>(
      `select a.site_id as "siteId", a.lane_id as "laneId", a.alert_id as "alertId", a.scan_id as "scanId", a.raised_at as "raisedAt", a.payload,
              v.outcome, v.verified_by as "verifiedBy", v.verified_at as "verifiedAt", v.note
       from alerts a left join watchlist_verifications v on v.site_id = a.site_id and v.lane_id = a.lane_id and v.alert_id = a.alert_id
       where a.kind = 'watchlist' order by a.raised_at desc limit $1`,
      [limit],
    );
  }

  /** Records whether a hit was confirmed or a misread (once; a second verification replaces it, audited). */
  async verify(
    siteId: string,
    laneId: string,
    alertId: string,
    outcome: string,
    note: string | null,
    who: string,
  ): Promise<void> {
    if (!(VERIFICATION_OUTCOMES as readonly string[]).includes(outcome))
      throw new WatchlistInputError(`outcome must be ${VERIFICATION_OUTCOMES.join(' or ')}`);
    const hit = await this.o.store.db.query(
      "select 1 from alerts where site_id = $1 and lane_id = $2 and alert_id = $3 and kind = 'watchlist'",
      [siteId, laneId, alertId],
    );
    if (!hit.length) throw new WatchlistInputError(`no watchlist hit ${alertId} from ${siteId}/${laneId}`);
    await this.o.store.db.query(
      `insert into watchlist_verifications (site_id, lane_id, alert_id, outcome, note, verified_by) values ($1,$2,$3,$4,$5,$6)
       on conflict (site_id, lane_id, alert_id) do update set outcome = excluded.outcome, note = excluded.note, verified_by = excluded.verified_by, verified_at = now()`,
      [siteId, laneId, alertId, outcome, note, who],
    );
    await this.o.store.audit(who, 'watchlist-hit-verified', `${siteId}/${laneId}/${alertId}`, { outcome, note });
  }

  async #upsert(listId: string, entries: WatchlistEntry[], who: string): Promise<void> {
    await this.o.store.db.transaction(async (tx) => {
      for (const e of entries) {
        await tx.query(
          `insert into watchlist_entries (list_id, entry_id, entry, updated_by) values ($1,$2,$3,$4)
           on conflict (list_id, entry_id) do update set entry = excluded.entry, updated_by = excluded.updated_by, updated_at = now()`,
          [listId, e.id, JSON.stringify(e), who],
        );
      }
    });
  }
}

function checkListId(listId: string): void {
  if (!LIST_ID.test(listId)) throw new WatchlistInputError(`list id "${listId}": letters, digits, - and _, at most 64`);
}
