import { useEffect, useState } from 'preact/hooks';
import type { WatchlistHit } from '../../../core/domain.js';
import type { WatchlistEntry as Entry } from '../../../core/watchlist/list-format.js';
import { api } from './api.js';

interface ListSummary {
  listId: string;
  entries: number;
  publishedVersion: number | null;
  publishedAt: string | null;
  publishedBy: string | null;
  changedSince: number;
}
interface Hit {
  siteId: string;
  laneId: string;
  alertId: string;
  scanId: string | null;
  raisedAt: string;
  payload: {
    message: string;
    watchlist?: WatchlistHit;
  };
  outcome: 'confirmed' | 'misread' | null;
  verifiedBy: string | null;
  note: string | null;
}

const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');
const expired = (e: Entry) => e.expiresAt !== undefined && Date.parse(e.expiresAt) <= Date.now();

/** The lists, their entries and the forms that change them; supervisors edit and publish. */
export function WatchlistsView(p: { tick: number; canEdit: boolean }) {
  const [lists, setLists] = useState<ListSummary[]>([]);
  const [listId, setListId] = useState('national');
  const [entries, setEntries] = useState<{ entry: Entry; updatedBy: string }[]>([]);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [csv, setCsv] = useState('');
  const [version, setVersion] = useState(0);
  useEffect(() => {
    void api<{ lists: ListSummary[] }>('/api/watchlists').then((r) => setLists(r.lists));
    void api<{ entries: { entry: Entry; updatedBy: string }[] }>(
      `/api/watchlists/${encodeURIComponent(listId)}/entries`,
    ).then((r) => setEntries(r.entries));
  }, [p.tick, listId, version]);
  const act = (path: string, body: unknown, done: (r: Record<string, unknown>) => string) =>
    api<Record<string, unknown>>(path, { method: 'POST', body }).then(
      (r) => {
        setMessage({ ok: true, text: done(r) });
        setVersion((v) => v + 1);
      },
      (err: Error) => setMessage({ ok: false, text: err.message }),
    );
  const base = `/api/watchlists/${encodeURIComponent(listId)}`;
  return (
    <div class="pad" data-testid="watchlists">
      <h2>Watchlists</h2>
      <div class="row">
        <label>
          List <input value={listId} data-testid="list-id" onChange={(e) => setListId(e.currentTarget.value)} />
        </label>
        {lists.map((l) => (
          <button type="button" class={l.listId === listId ? 'on' : ''} onClick={() => setListId(l.listId)}>
            {l.listId} · {l.entries} entries ·{' '}
            {l.publishedVersion ? `v${l.publishedVersion} by ${l.publishedBy}` : 'not published'}
            {l.changedSince > 0 && l.publishedVersion ? ` · ${l.changedSince} changed since` : ''}
          </button>
        ))}
        {p.canEdit && (
          <button
            type="button"
            class="primary"
            data-testid="publish"
            onClick={() =>
              void act(
                `${base}/publish`,
                {},
                (r) => `${listId} v${r.version} (${r.entries} entries) signed and published to the lanes`,
              )
            }
          >
            Sign and publish
          </button>
        )}
      </div>
      {message && (
        <div class={message.ok ? 'notice' : 'error'} data-testid="watchlist-message">
          {message.text}
        </div>
      )}
      {p.canEdit && (
        <div class="row">
          <form
            class="row"
            data-testid="entry-form"
            onSubmit={(e) => {
              e.preventDefault();
              const f = new FormData(e.currentTarget);
              const get = (k: string) => String(f.get(k) ?? '').trim();
              const entry: Record<string, unknown> = {
                id: get('id'),
                category: get('category'),
                action: get('action'),
                priority: Number(get('priority') || '3'),
                source: get('source'),
                covert: f.get('covert') === 'on',
              };
              for (const k of ['plate', 'country', 'containerCode', 'expiresAt', 'note']) if (get(k)) entry[k] = get(k);
              void act(`${base}/entries`, entry, (r) => `entry ${(r.entry as Entry).id} saved`);
            }}
          >
            <input name="id" placeholder="id" required />
            <input name="plate" placeholder="plate" />
            <input name="country" placeholder="country (DE)" size={6} />
            <input name="containerCode" placeholder="container code" />
            <input name="category" placeholder="category" required />
            <input name="action" placeholder="action" required />
            <input name="priority" placeholder="priority 1-5" size={4} />
            <input name="source" placeholder="source" required />
            <input name="expiresAt" placeholder="expires (ISO)" />
            <input name="note" placeholder="note" />
            <label>
              <input type="checkbox" name="covert" /> covert
            </label>
            <button type="submit">Save entry</button>
          </form>
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              void act(`${base}/import`, { csv }, (r) => `${r.imported} entries imported`);
            }}
          >
            <textarea
              placeholder="CSV: id,plate,country,containerCode,category,action,priority,source,covert,note,expiresAt"
              rows={3}
              cols={60}
              data-testid="csv"
              value={csv}
              onInput={(e) => setCsv(e.currentTarget.value)}
            />
            <button type="submit" data-testid="import">
              Import CSV
            </button>
          </form>
        </div>
      )}
      <table data-testid="entries">
        <thead>
          <tr>
            <th>id</th>
            <th>plate / container</th>
            <th>category</th>
            <th>action</th>
            <th>priority</th>
            <th>source</th>
            <th>in force</th>
            <th>covert</th>
            <th>by</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {entries.map(({ entry: e, updatedBy }) => (
            <tr data-entry-id={e.id} class={expired(e) ? 'muted' : ''}>
              <td>{e.id}</td>
              <td class="mono">{e.plate ? `${e.plate} (${e.country})` : e.containerCode}</td>
              <td>{e.category}</td>
              <td>{e.action}</td>
              <td>{e.priority}</td>
              <td>{e.source}</td>
              <td>
                {expired(e)
                  ? `expired ${when(e.expiresAt)}`
                  : `${e.effectiveFrom ? `from ${when(e.effectiveFrom)} ` : ''}${e.expiresAt ? `until ${when(e.expiresAt)}` : ''}` ||
                    'yes'}
              </td>
              <td>{e.covert ? 'covert' : ''}</td>
              <td>{updatedBy}</td>
              <td>
                {p.canEdit && !expired(e) && (
                  <button
                    type="button"
                    data-testid={`expire-${e.id}`}
                    onClick={() =>
                      void act(`${base}/entries/${encodeURIComponent(e.id)}/expire`, {}, () => `entry ${e.id} expired`)
                    }
                  >
                    Expire
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Hits from every lane, covert ones included, each verified as confirmed or a misread. */
export function HitsView(p: { tick: number }) {
  const [hits, setHits] = useState<Hit[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    void api<{ hits: Hit[] }>('/api/watchlist-hits').then(
      (r) => setHits(r.hits),
      (err: Error) => setError(err.message),
    );
  }, [p.tick, version]);
  const verify = (h: Hit, outcome: 'confirmed' | 'misread') =>
    api(`/api/watchlist-hits/${h.siteId}/${h.laneId}/${encodeURIComponent(h.alertId)}/verification`, {
      method: 'POST',
      body: { outcome },
    }).then(
      () => setVersion((v) => v + 1),
      (err: Error) => setError(err.message),
    );
  return (
    <div class="pad" data-testid="hits">
      <h2>Watchlist hits</h2>
      {error && <div class="error">{error}</div>}
      <table>
        <thead>
          <tr>
            <th>time</th>
            <th>lane</th>
            <th>listed</th>
            <th>read (confidence, input)</th>
            <th>match</th>
            <th>action</th>
            <th>verification</th>
          </tr>
        </thead>
        <tbody>
          {hits.map((h) => {
            const w = h.payload.watchlist;
            return (
              <tr data-alert-id={h.alertId}>
                <td>{when(h.raisedAt)}</td>
                <td>
                  {h.siteId}/{h.laneId}
                  {h.scanId ? ` · ${h.scanId}` : ''}
                </td>
                <td class="mono">
                  {w ? (w.entry.plate ? `${w.entry.plate} (${w.entry.country})` : w.entry.containerCode) : '?'}{' '}
                  {w?.entry.covert && <span class="pill warn">covert</span>}
                </td>
                <td class="mono">
                  {w?.read.value} (
                  {w?.read.confidence === null || !w ? 'no confidence' : `${Math.round(w.read.confidence * 100)} %`},{' '}
                  {w?.read.via})
                </td>
                <td>{w?.score === 1 ? 'exact' : 'one confusable character'}</td>
                <td>{w?.entry.action}</td>
                <td data-testid="verification">
                  {h.outcome ? (
                    <span class={`pill ${h.outcome === 'confirmed' ? 'bad' : 'ok'}`}>
                      {h.outcome} · {h.verifiedBy}
                    </span>
                  ) : (
                    <>
                      <button type="button" onClick={() => void verify(h, 'confirmed')}>
                        Confirmed
                      </button>{' '}
                      <button type="button" onClick={() => void verify(h, 'misread')}>
                        Misread
                      </button>
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
