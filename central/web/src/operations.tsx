import { useEffect, useState } from 'preact/hooks';
import { api, evidenceUrl, time, type Alert, type Lane, type Me, type Review, type Scan } from './api.js';

function useLoad<T>(
  path: string | null,
  deps: unknown[],
): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!path) return;
    api<T>(path).then(
      (d) => {
        setData(d);
        setError(null);
      },
      (err: Error) => setError(err.message),
    );
  }, [path, n, ...deps]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

const STATE_CLASS: Record<string, string> = {
  screening: 'ok',
  online: 'ok',
  degraded: 'warn',
  down: 'bad',
  unknown: 'muted',
};

export function LanesView(p: { tick: number }) {
  const lanes = useLoad<{ lanes: Lane[] }>('/api/lanes', [p.tick]);
  const down = useLoad<{
    downtime: {
      siteId: string;
      laneId: string;
      state: string;
      reason: string;
      startedAt: string;
      endedAt: string | null;
    }[];
  }>('/api/downtime', [p.tick]);
  return (
    <div class="pad">
      <h2>Sites and lanes</h2>
      {lanes.error && <div class="error">{lanes.error}</div>}
      <table data-testid="lanes">
        <thead>
          <tr>
            <th>Site</th>
            <th>Lane</th>
            <th>State</th>
            <th>Why</th>
            <th>Last scan</th>
            <th>Outbox</th>
            <th>Model</th>
            <th>Edge</th>
          </tr>
        </thead>
        <tbody>
          {lanes.data?.lanes.map((l) => (
            <tr data-testid="lane-row" data-lane={`${l.siteId}/${l.laneId}`} data-state={l.state}>
              <td>{l.siteId}</td>
              <td>{l.name ?? l.laneId}</td>
              <td>
                <span class={`pill ${STATE_CLASS[l.state] ?? ''}`}>{l.state}</span>
              </td>
              <td class="muted">{l.downReason ? `${l.downReason} (since ${time(l.downSince)})` : ''}</td>
              <td>{time(l.lastScanAt)}</td>
              <td>{l.outboxDepth ?? '—'}</td>
              <td>{l.modelVersion ?? '—'}</td>
              <td>{l.edgeVersion ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2 class="gap">Downtime log</h2>
      <table data-testid="downtime">
        <thead>
          <tr>
            <th>Site / lane</th>
            <th>State</th>
            <th>Reason</th>
            <th>From</th>
            <th>To</th>
          </tr>
        </thead>
        <tbody>
          {down.data?.downtime.map((d) => (
            <tr>
              <td>
                {d.siteId}/{d.laneId}
              </td>
              <td>{d.state}</td>
              <td>{d.reason}</td>
              <td>{time(d.startedAt)}</td>
              <td>{d.endedAt ? time(d.endedAt) : 'ongoing'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Pictures(p: { siteId: string; laneId: string; scanId: string | null; evidence: { name: string }[] }) {
  if (!p.scanId || p.evidence.length === 0) return <div class="muted">No pictures.</div>;
  return (
    <div class="pictures">
      {p.evidence.map((e) => (
        <figure>
          <img
            src={evidenceUrl(p.siteId, p.laneId, p.scanId!, e.name)}
            alt={e.name}
            loading="lazy"
            onError={(ev) =>
              ((ev.currentTarget as HTMLImageElement).title = 'the lane could not be reached for this picture')
            }
          />
          <figcaption>{e.name}</figcaption>
        </figure>
      ))}
    </div>
  );
}

export function AlertsView(p: { tick: number }) {
  const [open, setOpen] = useState(true);
  const list = useLoad<{ alerts: Alert[] }>(`/api/alerts${open ? '?open=1' : ''}`, [p.tick]);
  const [sel, setSel] = useState<Alert | null>(null);
  const [note, setNote] = useState('');
  const [dispo, setDispo] = useState('false-alarm');
  const [msg, setMsg] = useState<string | null>(null);
  const act = (path: string, body: unknown) => {
    setMsg(null);
    api<{ lane: { status: string } }>(path, { method: 'POST', body }).then(
      () => {
        setMsg('sent to the lane: done');
        list.reload();
      },
      (err: Error) => setMsg(err.message),
    );
  };
  const base = sel ? `/api/alerts/${[sel.siteId, sel.laneId, sel.alertId].map(encodeURIComponent).join('/')}` : '';
  return (
    <div class="split">
      <div class="pad list">
        <h2>
          Alert queue{' '}
          <label class="muted small">
            <input type="checkbox" checked={open} onChange={(e) => setOpen(e.currentTarget.checked)} /> open only
          </label>
        </h2>
        {list.error && <div class="error">{list.error}</div>}
        <table data-testid="alerts">
          <thead>
            <tr>
              <th>Severity</th>
              <th>Raised</th>
              <th>Site / lane</th>
              <th>Kind</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.alerts.map((a) => (
              <tr
                class={`clickable ${sel?.alertId === a.alertId ? 'sel' : ''}`}
                data-testid="alert-row"
                data-alert-id={a.alertId}
                onClick={() => setSel(a)}
              >
                <td>
                  <span
                    class={`pill ${a.severity === 'critical' ? 'bad' : a.severity === 'warning' ? 'warn' : 'muted'}`}
                  >
                    {a.severity}
                  </span>
                </td>
                <td>{time(a.raisedAt)}</td>
                <td>
                  {a.siteId}/{a.laneId}
                </td>
                <td>{a.kind}</td>
                <td>
                  {a.disposition
                    ? `${a.disposition} (${a.dispositionBy})`
                    : a.acknowledgedBy
                      ? `acknowledged by ${a.acknowledgedBy}`
                      : 'new'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="pad detail">
        {sel ? (
          <div data-testid="alert-detail">
            <h2>
              {sel.kind} · {sel.siteId}/{sel.laneId}
            </h2>
            <p>{sel.message}</p>
            <p class="muted">
              Score {sel.score ?? '—'} · {sel.payload.regions.length} region(s):{' '}
              {sel.payload.regions.map((r) => `(${r.x},${r.y} ${r.w}×${r.h} ${r.score.toFixed(2)})`).join(' ')}
            </p>
            <Pictures siteId={sel.siteId} laneId={sel.laneId} scanId={sel.scanId} evidence={sel.payload.evidence} />
            <div class="row">
              <input placeholder="note" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
              <button type="button" data-testid="ack" onClick={() => act(`${base}/ack`, { note })}>
                Acknowledge
              </button>
              <select value={dispo} onChange={(e) => setDispo(e.currentTarget.value)}>
                <option value="person-found">person found</option>
                <option value="cleared-after-search">cleared after search</option>
                <option value="false-alarm">false alarm</option>
              </select>
              <button
                type="button"
                data-testid="dispose"
                onClick={() => act(`${base}/disposition`, { disposition: dispo, note })}
              >
                Record disposition
              </button>
            </div>
            {msg && (
              <div class="notice" data-testid="alert-msg">
                {msg}
              </div>
            )}
          </div>
        ) : (
          <div class="muted">Choose an alert.</div>
        )}
      </div>
    </div>
  );
}

export function ReviewView(p: { tick: number; me: Me }) {
  const list = useLoad<{ reviews: Review[] }>('/api/reviews?open=1', [p.tick]);
  const [current, setCurrent] = useState<Review | null>(null);
  const [note, setNote] = useState('');
  const [msg, setMsg] = useState<string | null>(null);
  const take = () => {
    setMsg(null);
    api<{ review: Review | null }>('/api/reviews/next', { method: 'POST' }).then(
      (r) => {
        setCurrent(r.review);
        if (!r.review) setMsg('No scan waiting for review.');
        list.reload();
      },
      (err: Error) => setMsg(err.message),
    );
  };
  const decide = (decision: 'clear' | 'search') => {
    if (!current) return;
    const path = `/api/reviews/${[current.siteId, current.laneId, current.scanId].map(encodeURIComponent).join('/')}/decision`;
    api<{ lane: { status: string; error: string | null } }>(path, { method: 'POST', body: { decision, note } }).then(
      (r) => {
        setMsg(
          r.lane.status === 'ok'
            ? `Decision ${decision} sent; lane ${current.siteId}/${current.laneId} confirmed.`
            : `Decision ${decision} recorded; the lane did not confirm: ${r.lane.error}`,
        );
        setCurrent(null);
        setNote('');
        list.reload();
      },
      (err: Error) => setMsg(err.message),
    );
  };
  const scan: Scan | undefined = current?.scan;
  return (
    <div class="split">
      <div class="pad detail">
        <h2>Remote review</h2>
        {!current && (
          <button type="button" class="primary big" data-testid="take-next" onClick={take}>
            Take next scan
          </button>
        )}
        {msg && (
          <div class="notice" data-testid="review-msg">
            {msg}
          </div>
        )}
        {current && (
          <div data-testid="review-current" data-scan-id={current.scanId}>
            <p>
              Scan <strong>{current.scanId}</strong> from {current.siteId}/{current.laneId} · sent for{' '}
              <strong>{current.reason}</strong> · queued {time(current.queuedAt)}
            </p>
            {scan && (
              <p class="muted">
                Lane verdict {scan.verdict} · score {scan.score ?? '—'} · model{' '}
                {scan.model ? `${scan.model.name} ${scan.model.version}` : '—'} · plate {scan.vehicle?.plate ?? '—'}
              </p>
            )}
            {scan && (
              <Pictures
                siteId={current.siteId}
                laneId={current.laneId}
                scanId={current.scanId}
                evidence={scan.evidence}
              />
            )}
            <div class="row">
              <input
                placeholder="note to the lane"
                value={note}
                data-testid="review-note"
                onInput={(e) => setNote(e.currentTarget.value)}
              />
              <button type="button" class="big ok" data-testid="decide-clear" onClick={() => decide('clear')}>
                Clear
              </button>
              <button type="button" class="big bad" data-testid="decide-search" onClick={() => decide('search')}>
                Search
              </button>
            </div>
          </div>
        )}
      </div>
      <div class="pad list">
        <h2>Waiting and in review</h2>
        <table data-testid="reviews">
          <thead>
            <tr>
              <th>Queued</th>
              <th>Site / lane</th>
              <th>Scan</th>
              <th>Reason</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.reviews.map((r) => (
              <tr
                data-testid="review-row"
                data-scan-id={r.scanId}
                data-escalated={r.escalatedAt ? 'yes' : 'no'}
                class={r.escalatedAt && !r.takenBy ? 'escalated' : ''}
              >
                <td>{time(r.queuedAt)}</td>
                <td>
                  {r.siteId}/{r.laneId}
                </td>
                <td>{r.scanId}</td>
                <td>{r.reason}</td>
                <td>
                  {r.takenBy ? `with ${r.takenBy}` : r.escalatedAt ? `ESCALATED ${time(r.escalatedAt)}` : 'waiting'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
