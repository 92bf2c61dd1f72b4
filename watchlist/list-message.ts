import type { KeyObject } from 'node:crypto';
import { decodeListBody, openSignedList, versionOf } from '../core/watchlist/list-binary.js';
import type { WatchlistDelta, WatchlistSnapshot } from '../core/watchlist/list-format.js';
import { compactFromColumns, type CompactListData } from './compact-list.js';

/** Why a list version was refused. */
export type RefusalReason = 'oversized' | 'malformed' | 'unsigned' | 'forged' | 'stale';

/** A snapshot as the keeper takes it: its head, and its entries in compact form. */
export interface OpenedSnapshot {
  kind: 'snapshot';
  head: Omit<WatchlistSnapshot, 'entries'>;
  count: number;
  data: CompactListData;
}

export type OpenedMessage =
  | { ok: true; version: OpenedSnapshot | WatchlistDelta }
  | { ok: false; refusal: { reason: RefusalReason; detail: string } };

/**
 * Checks one list message as the lane takes it, in this order: size, form, signature, body (every
 * entry validated); a snapshot's entries come back in compact form, ready to look up: views on a
 * copy of the message, with the hash tables built. The heavy part of the keeper, run in a worker
 * thread for a large message (list-worker.ts), which hands over a message of its own.
 */
export function openListMessage(
  bytes: Uint8Array,
  keys: ReadonlyMap<string, KeyObject>,
  maxBytes: number,
  own = false,
): OpenedMessage {
  if (bytes.length > maxBytes) {
    return {
      ok: false,
      refusal: {
        reason: 'oversized',
        detail: `${bytes.length} bytes, more than watchlist.maxBytes (${maxBytes}); not read`,
      },
    };
  }
  const opened = openSignedList(bytes, keys);
  if (!opened.ok) return { ok: false, refusal: { reason: opened.reason, detail: opened.detail } };
  // The index keeps views on the body: on a copy, unless the caller handed the message over (a
  // buffer from the MQTT client may be a slice of a larger one, or be reused).
  const decoded = decodeListBody(own ? opened.body : new Uint8Array(opened.body));
  if (!decoded.ok)
    return {
      ok: false,
      refusal: { reason: 'malformed', detail: `signed, but not a valid list version: ${decoded.problems.join('; ')}` },
    };
  const d = decoded.body;
  if (d.head.kind === 'delta') return { ok: true, version: versionOf(d) as WatchlistDelta };
  const { format, listId, version, issuedAt } = d.head;
  return {
    ok: true,
    version: {
      kind: 'snapshot',
      head: { format, listId, version, issuedAt, kind: 'snapshot' },
      count: d.columns.count,
      data: compactFromColumns(d.columns, d.idTable),
    },
  };
}
