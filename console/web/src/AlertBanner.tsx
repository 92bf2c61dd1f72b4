import { useState } from 'preact/hooks';
import { DISPOSITIONS, type Disposition } from '../../../core/domain.js';
import type { AlertRecord } from '../../server/messages.js';
import { api } from './api.js';
import { actor, DISPOSITION_LABEL, score, time } from './format.js';
import { WatchlistHitView } from './WatchlistHit.js';

const KIND_TITLE: Record<string, string> = {
  'person-suspected': 'PERSON SUSPECTED',
  'person-suspected-by-sensors': 'PEOPLE SUSPECTED BY SENSORS',
  'detection-unavailable': 'SCAN NOT SCREENED',
  'scan-aborted': 'SCAN ABORTED',
  watchlist: 'WATCHLIST HIT',
  test: 'TEST ALERT',
};

const who = actor;

/**
 * One open alert: red and flashing until acknowledged, then amber with the disposition form.
 * Acknowledgements and dispositions from central command show up here as they arrive.
 */
export function AlertBanner(p: { rec: AlertRecord; laneName: string; compact?: boolean; onShowScan?: () => void }) {
  const { rec } = p;
  const a = rec.alert;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [choice, setChoice] = useState<Disposition | null>(null);
  const [note, setNote] = useState('');

  const act = async (path: string, body?: unknown) => {
    setBusy(true);
    setError(null);
    try {
      await api(path, { method: 'POST', body });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const id = encodeURIComponent(a.alertId);
  return (
    <section
      class={`alert-banner ${rec.state} ${a.severity}${p.compact && rec.state === 'new' ? ' compact' : ''}`}
      data-testid="alert-banner"
      data-alert-id={a.alertId}
      data-state={rec.state}
      role="alert"
    >
      <div class="alert-main">
        <div class="alert-title">
          <span class="alert-kind">{KIND_TITLE[a.kind] ?? a.kind.toUpperCase()}</span>
          <span class="alert-meta">
            {p.laneName}
            {a.scanId && ` · scan ${a.scannerScanId ?? a.scanId}`} · {time(a.raisedAt)}
            {a.score !== null && a.kind !== 'watchlist' && ` · score ${score(a.score)}`}
            {a.regions.length > 0 && ` · ${a.regions.length} region${a.regions.length > 1 ? 's' : ''}`}
          </span>
        </div>
        {a.watchlist ? <WatchlistHitView hit={a.watchlist} /> : <div class="alert-message">{a.message}</div>}
        {rec.state === 'acknowledged' && (
          <div class="alert-ack" data-testid="ack-info">
            Acknowledged by {who(rec.acknowledgedBy, rec.acknowledgedOrigin)} at {time(rec.acknowledgedAt)}. Record the
            outcome of the search:
          </div>
        )}
        {error && <div class="alert-error">{error}</div>}
      </div>
      <div class="alert-actions">
        {p.onShowScan && a.scanId && (
          <button type="button" class="ghost" onClick={p.onShowScan}>
            Show scan
          </button>
        )}
        {rec.state === 'new' && (
          <button
            type="button"
            class="big ack"
            data-testid="ack"
            disabled={busy}
            onClick={() => void act(`/api/alerts/${id}/ack`)}
          >
            ACKNOWLEDGE
          </button>
        )}
        {rec.state === 'acknowledged' && (
          <form
            class="dispo"
            onSubmit={(e) => {
              e.preventDefault();
              if (choice) void act(`/api/alerts/${id}/disposition`, { disposition: choice, note });
            }}
          >
            <div class="dispo-choices" role="radiogroup" aria-label="Disposition">
              {DISPOSITIONS.map((d) => (
                // biome-ignore lint/a11y/useSemanticElements: large touch targets that act as one radio group (ARIA radio pattern)
                <button
                  type="button"
                  role="radio"
                  aria-checked={choice === d}
                  class={`choice ${d} ${choice === d ? 'on' : ''}`}
                  data-testid={`dispo-${d}`}
                  onClick={() => setChoice(d)}
                >
                  {DISPOSITION_LABEL[d]}
                </button>
              ))}
            </div>
            <textarea
              placeholder="Note (what was found, where, who searched)"
              value={note}
              maxLength={2000}
              data-testid="dispo-note"
              onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)}
            />
            <button type="submit" class="big" disabled={!choice || busy} data-testid="dispo-submit">
              Record disposition
            </button>
          </form>
        )}
      </div>
    </section>
  );
}

/** Recent alerts, closed ones with their disposition. */
export function AlertLog(p: { alerts: AlertRecord[]; laneNames: Map<string, string> }) {
  if (p.alerts.length === 0) return <div class="muted">No alerts yet.</div>;
  return (
    <ul class="alert-log" data-testid="alert-log">
      {p.alerts.map((r) => (
        <li class={`alert-row ${r.state}`} data-alert-id={r.alert.alertId} data-state={r.state}>
          <div class="alert-row-head">
            <span class={`dot ${r.alert.severity}`} />
            <span class="alert-row-kind">{KIND_TITLE[r.alert.kind] ?? r.alert.kind}</span>
            <span class="muted">{time(r.alert.raisedAt)}</span>
          </div>
          <div class="alert-row-body">
            {p.laneNames.get(r.alert.laneId) ?? r.alert.laneId}
            {r.alert.scanId && ` · scan ${r.alert.scannerScanId ?? r.alert.scanId}`}
          </div>
          <div class="alert-row-state" data-testid="alert-row-state">
            {r.state === 'new' && <span class="pill bad">unacknowledged</span>}
            {r.state === 'acknowledged' && (
              <span class="pill warn">acknowledged by {who(r.acknowledgedBy, r.acknowledgedOrigin)}</span>
            )}
            {r.state === 'closed' && (
              <span class={`pill ${r.disposition === 'person-found' ? 'bad' : 'ok'}`}>
                {DISPOSITION_LABEL[r.disposition!]} · {who(r.dispositionBy, r.dispositionOrigin)}
              </span>
            )}
          </div>
          {r.note && <div class="alert-row-note">“{r.note}”</div>}
        </li>
      ))}
    </ul>
  );
}
