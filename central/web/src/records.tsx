import { useEffect, useState } from 'preact/hooks';
import { api, evidenceUrl, type Figure, type Movement, time } from './api.js';

export function MovementsView() {
  const [q, setQ] = useState('');
  const [rows, setRows] = useState<Movement[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="pad">
      <h2>Movements</h2>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          api<{ movements: Movement[] }>(`/api/movements?q=${encodeURIComponent(q)}`).then(
            (r) => {
              setRows(r.movements);
              setError(null);
            },
            (err: Error) => setError(err.message),
          );
        }}
      >
        <input
          placeholder="plate or container code"
          value={q}
          data-testid="movement-q"
          onInput={(e) => setQ(e.currentTarget.value)}
        />
        <button type="submit" class="primary">
          Search
        </button>
        <span class="muted small">Spaces and dashes ignored; O and 0, I and 1 match each other.</span>
      </form>
      {error && <div class="error">{error}</div>}
      {rows && (
        <table data-testid="movements">
          <thead>
            <tr>
              <th>Time</th>
              <th>Site / lane</th>
              <th>Plate</th>
              <th>Container</th>
              <th>Verdict</th>
              <th>Disposition</th>
              <th>Pictures</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  No crossing found.
                </td>
              </tr>
            )}
            {rows.map((m) => (
              <tr data-testid="movement-row">
                <td>{time(m.decidedAt)}</td>
                <td>
                  {m.siteId}/{m.laneId}
                </td>
                <td>{m.plate ?? '—'}</td>
                <td>{m.container ?? '—'}</td>
                <td>
                  {m.verdict}
                  {m.score !== null ? ` (${m.score.toFixed(2)})` : ''}
                </td>
                <td>{m.disposition ?? '—'}</td>
                <td>
                  {(m.evidence ?? []).map((e) => (
                    <a href={evidenceUrl(m.siteId, m.laneId, m.scanId, e.name)} target="_blank" rel="noreferrer">
                      {e.name}{' '}
                    </a>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Scans per day as bars (persons in red): enough to see a trend without a chart library. */
function DayChart(p: { rows: Figure[] }) {
  const days = new Map<string, { scans: number; persons: number }>();
  for (const r of p.rows) {
    const d = days.get(r.day) ?? { scans: 0, persons: 0 };
    d.scans += r.scans;
    d.persons += r.persons;
    days.set(r.day, d);
  }
  const list = [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).slice(-30);
  const max = Math.max(1, ...list.map(([, d]) => d.scans));
  const w = 24;
  return (
    <svg
      class="chart"
      width={list.length * w + 10}
      height={140}
      data-testid="figures-chart"
      role="img"
      aria-label="scans per day"
    >
      {list.map(([day, d], i) => (
        <g>
          <title>{`${day}: ${d.scans} scans, ${d.persons} person verdicts`}</title>
          <rect
            x={5 + i * w}
            y={120 - (100 * d.scans) / max}
            width={w - 6}
            height={(100 * d.scans) / max}
            class="bar"
          />
          <rect
            x={5 + i * w}
            y={120 - (100 * d.persons) / max}
            width={w - 6}
            height={(100 * d.persons) / max}
            class="bar person"
          />
          <text x={5 + i * w} y={135} class="tick">
            {day.slice(8)}
          </text>
        </g>
      ))}
    </svg>
  );
}

export function FiguresView(p: { tick: number }) {
  const [rows, setRows] = useState<Figure[]>([]);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const qs = new URLSearchParams({ ...(from ? { from } : {}), ...(to ? { to } : {}) }).toString();
  useEffect(() => {
    api<{ figures: Figure[] }>(`/api/figures${qs ? `?${qs}` : ''}`).then(
      (r) => setRows(r.figures),
      () => setRows([]),
    );
  }, [qs, p.tick]);
  return (
    <div class="pad">
      <h2>Figures per site, lane, day and model</h2>
      <div class="row">
        from <input type="date" value={from} onInput={(e) => setFrom(e.currentTarget.value)} /> to{' '}
        <input type="date" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        <a class="button" href={`/api/figures.csv${qs ? `?${qs}` : ''}`} data-testid="figures-csv">
          Export CSV
        </a>
      </div>
      <DayChart rows={rows} />
      <table data-testid="figures">
        <thead>
          <tr>
            <th>Day</th>
            <th>Site / lane</th>
            <th>Model</th>
            <th>Scans</th>
            <th>Person</th>
            <th>Not screened</th>
            <th>Alerts</th>
            <th>Dispositions</th>
            <th>False alarms</th>
            <th>False-alarm rate</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <td>{r.day}</td>
              <td>
                {r.siteId}/{r.laneId}
              </td>
              <td>{r.modelVersion ?? '—'}</td>
              <td>{r.scans}</td>
              <td>{r.persons}</td>
              <td>{r.unavailable}</td>
              <td>{r.alerts}</td>
              <td>{r.dispositions}</td>
              <td>{r.falseAlarms}</td>
              <td>{r.falseAlarmRate === null ? '—' : `${(100 * r.falseAlarmRate).toFixed(1)} %`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AuditView(p: { tick: number }) {
  const [rows, setRows] = useState<
    { at: string; actor: string; action: string; target: string | null; detail: unknown }[]
  >([]);
  useEffect(() => {
    api<{ audit: typeof rows }>('/api/audit').then(
      (r) => setRows(r.audit),
      () => setRows([]),
    );
  }, [p.tick]);
  return (
    <div class="pad">
      <h2>Audit log</h2>
      <table data-testid="audit">
        <thead>
          <tr>
            <th>Time</th>
            <th>Who</th>
            <th>What</th>
            <th>On</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <td>{time(r.at)}</td>
              <td>{r.actor}</td>
              <td>{r.action}</td>
              <td>{r.target ?? ''}</td>
              <td class="muted">{r.detail ? JSON.stringify(r.detail) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AccountsView() {
  const [rows, setRows] = useState<{ name: string; role: string; createdAt: string }[]>([]);
  const [msg, setMsg] = useState<string | null>(null);
  const load = () =>
    void api<{ accounts: typeof rows }>('/api/accounts').then(
      (r) => setRows(r.accounts),
      (err: Error) => setMsg(err.message),
    );
  useEffect(load, []);
  return (
    <div class="pad">
      <h2>Accounts</h2>
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Since</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <td>{r.name}</td>
              <td>{r.role}</td>
              <td>{time(r.createdAt)}</td>
              <td>
                <button
                  type="button"
                  onClick={() =>
                    void api(`/api/accounts/${encodeURIComponent(r.name)}`, { method: 'DELETE' }).then(
                      load,
                      (err: Error) => setMsg(err.message),
                    )
                  }
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="row gap"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          api('/api/accounts', {
            method: 'POST',
            body: { name: f.get('name'), role: f.get('role'), password: f.get('password') },
          }).then(
            () => {
              setMsg('saved');
              load();
            },
            (err: Error) => setMsg(err.message),
          );
        }}
      >
        <input name="name" placeholder="name" required />
        <select name="role">
          <option>analyst</option>
          <option>supervisor</option>
          <option>admin</option>
        </select>
        <input name="password" type="password" placeholder="password (10+ characters)" required />
        <button type="submit" class="primary">
          Add or change
        </button>
      </form>
      {msg && <div class="notice">{msg}</div>}
    </div>
  );
}
