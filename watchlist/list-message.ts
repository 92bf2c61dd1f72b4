import type { KeyObject } from 'node:crypto';
import { parseWatchlistVersion, type WatchlistDelta, type WatchlistSnapshot } from '../core/watchlist/list-format.js';
import { openEnvelope } from '../core/watchlist/signing.js';
import { buildCompactList, type CompactListData } from './compact-list.js';

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
 * Checks one list message as the lane takes it, in this order: size, envelope, signature, body
 * (every entry validated); a snapshot's entries come back in compact form, ready to index. The
 * heavy part of the keeper, run in a worker thread for a large message (list-worker.ts).
 */
export function openListMessage(
  bytes: Uint8Array,
  keys: ReadonlyMap<string, KeyObject>,
  maxBytes: number,
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
  const env = openEnvelope(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), keys);
  if (!env.ok) return { ok: false, refusal: { reason: env.reason, detail: env.detail } };
  const parsed = parseWatchlistVersion(env.body);
  if (!parsed.ok)
    return {
      ok: false,
      refusal: { reason: 'malformed', detail: `signed, but not a valid list version: ${parsed.problems.join('; ')}` },
    };
  const v = parsed.version;
  if (v.kind === 'delta') return { ok: true, version: v };
  const { entries, ...head } = v;
  return { ok: true, version: { kind: 'snapshot', head, count: entries.length, data: buildCompactList(entries) } };
}
