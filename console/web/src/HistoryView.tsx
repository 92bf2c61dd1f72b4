import { useEffect, useState } from 'preact/hooks';
import type { Verdict } from '../../../core/domain.js';
import type { AuditEntry, ScanDetail, ScanRow } from '../../server/messages.js';
import { api } from './api.js';
import { alertSummary, dateTime, DISPOSITION_LABEL, score, VERDICT_LABEL } from './format.js';
import type { LaneState } from './live-state.js';
import { CameraSnapshots, useScanImage, VerdictCard } from './scan-panels.js';
import { ScanViewer, type ViewName } from './ScanViewer.js';

interface Filters {
  lane: string;
  from: string;
  to: string;
  plate: string;
  verdict: '' | Verdict;
}

function toIso(local: string): string {
  return local ? new Date(local).toISOString() : '';
}

/** Recent scans, searchable by time, plate and verdict; a scan opens with its picture and alert. */
export function HistoryView(p: { lanes: LaneState[] }) {
  const [f, setF] = useState<Filters>({ lane: '', from: '', to: '', plate: '', verdict: '' });
  const [rows, setRows] = useState<ScanRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [detail, setDetail] = useState<ScanDetail | null>(null);
  const [view, setView] = useState<ViewName>('high');

  const search = async (filters: Filters) => {
    const q = new URLSearchParams();
    if (filters.lane) q.set('lane', filters.lane);
    if (filters.from) q.set('from', toIso(filters.from));
    if (filters.to) q.set('to', toIso(filters.to));
    if (filters.plate.trim()) q.set('plate', filters.plate.trim());
    if (filters.verdict) q.set('verdict', filters.verdict);
    q.set('limit', '200');
    setError(null);
    try {
      setRows((await api<{ scans: ScanRow[] }>(`/api/scans?${q}`)).scans);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  useEffect(() => void search(f), []);

  const open = async (r: ScanRow) => {
    try {
      setDetail(
        await api<ScanDetail>(
          `/api/scans/${encodeURIComponent(r.result.laneId)}/${encodeURIComponent(r.result.scanId)}`,
        ),
      );
      setView('high');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const img = useScanImage(detail?.result.laneId ?? null, detail?.result.scanId ?? null, view, detail?.views ?? []);
  const laneName = (id: string) => p.lanes.find((l) => l.id === id)?.name ?? id;

  return (
    <div class="history">
      <form
        class="filters panel"
        data-testid="history-filters"
        onSubmit={(e) => {
          e.preventDefault();
          void search(f);
        }}
      >
        <label>
          Lane
          <select value={f.lane} onChange={(e) => setF({ ...f, lane: (e.target as HTMLSelectElement).value })}>
            <option value="">all</option>
            {p.lanes.map((l) => (
              <option value={l.id}>{l.name}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input
            type="datetime-local"
            value={f.from}
            onInput={(e) => setF({ ...f, from: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label>
          To
          <input
            type="datetime-local"
            value={f.to}
            onInput={(e) => setF({ ...f, to: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label>
          Plate
          <input
            type="search"
            placeholder="any part"
            value={f.plate}
            data-testid="filter-plate"
            onInput={(e) => setF({ ...f, plate: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label>
          Verdict
          <select
            value={f.verdict}
            data-testid="filter-verdict"
            onChange={(e) => setF({ ...f, verdict: (e.target as HTMLSelectElement).value as Filters['verdict'] })}
          >
            <option value="">any</option>
            <option value="person">person suspected</option>
            <option value="clear">clear</option>
            <option value="unavailable">not screened</option>
          </select>
        </label>
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      {error && <div class="error-box">{error}</div>}
      <div class="history-grid">
        <div class="panel table-wrap">
          <table class="scans" data-testid="history-table">
            <thead>
              <tr>
                <th>Time</th>
                {p.lanes.length > 1 && <th>Lane</th>}
                <th>Scan</th>
                <th>Plate</th>
                <th>Verdict</th>
                <th>Score</th>
                <th>Alert</th>
              </tr>
            </thead>
            <tbody>
              {rows?.map((r) => (
                <tr
                  class={detail?.result.scanId === r.result.scanId ? 'sel' : ''}
                  onClick={() => void open(r)}
                  data-scan-id={r.result.scanId}
                >
                  <td title={r.result.startedAt}>{dateTime(r.result.startedAt)}</td>
                  {p.lanes.length > 1 && <td>{laneName(r.result.laneId)}</td>}
                  <td class="mono" title={`edge id ${r.result.scanId}`}>
                    {r.result.scannerScanId ?? r.result.scanId}
                  </td>
                  <td class="plate">{r.result.vehicle?.plate ?? r.result.vehicle?.containerCode ?? '—'}</td>
                  <td>
                    <span
                      class={`pill ${r.result.verdict === 'person' ? 'bad' : r.result.verdict === 'clear' ? 'ok' : 'warn'}`}
                    >
                      {VERDICT_LABEL[r.result.verdict]}
                    </span>
                  </td>
                  <td>{score(r.result.score)}</td>
                  <td>{r.disposition ? DISPOSITION_LABEL[r.disposition] : (r.alertState ?? '')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows && rows.length === 0 && <div class="muted pad">No scan matches.</div>}
        </div>
        <div class="panel history-detail">
          {detail ? (
            <>
              <ScanViewer
                raster={img.raster}
                regions={detail.result.regions}
                alarm={detail.result.verdict === 'person'}
                live={false}
                views={detail.views}
                view={view}
                onView={setView}
                emptyText={detail.views.length === 0 ? 'No picture kept for this scan.' : (img.error ?? 'Loading…')}
                caption={`Scan ${detail.result.scannerScanId ?? detail.result.scanId}`}
                testId="history-viewer"
              />
              <div class="history-facts">
                <VerdictCard phase={{ kind: 'decided', result: detail.result }} />
                <CameraSnapshots result={detail.result} />
                {detail.alert && (
                  <div class="muted" data-testid="history-alert">
                    {alertSummary(detail.alert)}
                  </div>
                )}
              </div>
            </>
          ) : (
            <div class="muted pad">Choose a scan to see its picture.</div>
          )}
        </div>
      </div>
    </div>
  );
}

/** The audit log (supervisors). */
export function AuditView() {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<{ entries: AuditEntry[] }>('/api/audit?limit=300').then(
      (r) => setEntries(r.entries),
      (err: Error) => setError(err.message),
    );
  useEffect(() => void load(), []);
  return (
    <div class="panel table-wrap audit">
      <div class="panel-head">
        <h2>Audit log</h2>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {error && <div class="error-box">{error}</div>}
      <table class="scans" data-testid="audit-table">
        <thead>
          <tr>
            <th>Time</th>
            <th>User</th>
            <th>Role</th>
            <th>Action</th>
            <th>Target</th>
            <th>Result</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {entries?.map((e) => (
            <tr>
              <td>{dateTime(e.at)}</td>
              <td>{e.user ?? '—'}</td>
              <td>{e.role ?? '—'}</td>
              <td>{e.action}</td>
              <td class="mono">{e.target ?? ''}</td>
              <td>{e.ok ? <span class="pill ok">ok</span> : <span class="pill bad">refused</span>}</td>
              <td class="mono small">{e.detail ? JSON.stringify(e.detail) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
