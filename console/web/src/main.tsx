import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { SessionInfo } from '../../server/messages.js';
import { api, HttpError, SESSION_ENDED } from './api.js';
import { AuditView, HistoryView } from './HistoryView.js';
import { LiveState } from './live-state.js';
import { LiveView } from './LiveView.js';
import { beep, soundBlocked, unlockSound } from './sound.js';
import './styles.css';

/** Repeats the alert tone while an alert waits for acknowledgement. */
const REMIND_MS = 4000;

function Login(p: { notice: string | null; onDone(s: SessionInfo): void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    unlockSound();
    setBusy(true);
    setError(null);
    try {
      p.onDone(await api<SessionInfo>('/api/login', { method: 'POST', body: { user, password } }));
    } catch (err) {
      setError(
        err instanceof HttpError && err.status === 401 ? 'Wrong user name or password.' : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="login-page">
      <form class="login" onSubmit={submit} data-testid="login-form">
        <div class="brand big">
          <span class="brand-mark">◆</span> CHECKPOINT <span class="brand-sub">lane console</span>
        </div>
        {p.notice && <div class="notice">{p.notice}</div>}
        <label>
          User
          <input
            name="user"
            autocomplete="username"
            value={user}
            onInput={(e) => setUser((e.target as HTMLInputElement).value)}
            autofocus
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        {error && (
          <div class="error-box" data-testid="login-error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" class="primary big" disabled={busy}>
          Log in
        </button>
      </form>
    </div>
  );
}

function Clock() {
  const [now, setNow] = useState(new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(t);
  }, []);
  return <span class="clock">{now.toLocaleTimeString([], { hour12: false })}</span>;
}

type Tab = 'live' | 'history' | 'audit';

function Shell(p: { session: SessionInfo; onLogout(reason: string | null): void }) {
  const [, setTick] = useState(0);
  const state = useMemo(
    () => new LiveState((reason) => p.onLogout(`Your session ended (${reason}). Log in again.`)),
    [],
  );
  const [tab, setTab] = useState<Tab>('live');
  const [laneId, setLaneId] = useState<string | null>(null);
  const [muted, setMuted] = useState(soundBlocked());

  useEffect(() => {
    const off = state.subscribe(() => setTick((t) => t + 1));
    state.connect();
    return () => {
      off();
      state.close();
    };
  }, []);

  // The alert tone: at once for a new alert, then every few seconds until acknowledged.
  const unacked = [...state.alerts.values()].filter((r) => r.state === 'new');
  const raisedCount = state.raised.length;
  useEffect(() => {
    if (raisedCount > 0 && unacked.length > 0)
      beep(unacked.some((r) => r.alert.severity === 'critical') ? 'critical' : 'warning');
  }, [raisedCount]);
  useEffect(() => {
    if (unacked.length === 0) return;
    const sev = unacked.some((r) => r.alert.severity === 'critical') ? 'critical' : 'warning';
    const t = setInterval(() => beep(sev), REMIND_MS);
    return () => clearInterval(t);
  }, [unacked.length]);

  const lane = state.lanes.find((l) => l.id === laneId) ?? state.lanes[0];
  const logout = async () => {
    try {
      await api('/api/logout', { method: 'POST' });
    } finally {
      state.close();
      p.onLogout(null);
    }
  };
  return (
    <div class={`shell ${unacked.length ? 'alarm' : ''}`}>
      <header class="topbar">
        <div class="brand">
          <span class="brand-mark">◆</span> CHECKPOINT{' '}
          <span class="brand-sub">{state.site.name || 'lane console'}</span>
        </div>
        {state.lanes.length > 1 && (
          <nav class="lanes">
            {state.lanes.map((l) => (
              <button type="button" class={l.id === lane?.id ? 'on' : ''} onClick={() => setLaneId(l.id)}>
                <span
                  class={`dot ${l.health.overall === 'ok' ? 'ok' : l.health.overall === 'degraded' ? 'warn' : 'bad'}`}
                />{' '}
                {l.name}
              </button>
            ))}
          </nav>
        )}
        <nav class="tabs">
          <button
            type="button"
            class={tab === 'live' ? 'on' : ''}
            onClick={() => setTab('live')}
            data-testid="tab-live"
          >
            Live{unacked.length > 0 && <span class="badge">{unacked.length}</span>}
          </button>
          <button
            type="button"
            class={tab === 'history' ? 'on' : ''}
            onClick={() => setTab('history')}
            data-testid="tab-history"
          >
            History
          </button>
          {p.session.role === 'supervisor' && (
            <button
              type="button"
              class={tab === 'audit' ? 'on' : ''}
              onClick={() => setTab('audit')}
              data-testid="tab-audit"
            >
              Audit
            </button>
          )}
        </nav>
        <span class="spacer" />
        {muted && (
          <button
            type="button"
            class="warn-btn"
            onClick={() => {
              unlockSound();
              setTimeout(() => setMuted(soundBlocked()), 100);
            }}
          >
            Enable alert sound
          </button>
        )}
        <span class={`conn ${state.connection}`} title="Live connection to the lane">
          {state.connection === 'live' ? 'LIVE' : state.connection === 'lost' ? 'OFFLINE' : '…'}
        </span>
        <Clock />
        <span class="user" data-testid="user">
          {p.session.user} <span class="muted">({p.session.role})</span>
        </span>
        <button type="button" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <main>
        {state.reviewDecisions.map((d) => (
          <section
            class={`review-decision ${d.decision}`}
            data-testid="review-decision"
            data-scan-id={d.scanId}
            data-decision={d.decision}
            role="status"
          >
            <strong>Central review: {d.decision === 'search' ? 'SEARCH THE VEHICLE' : 'CLEAR'}</strong> · scan{' '}
            {d.scanId} · {state.lanes.find((l) => l.id === d.laneId)?.name ?? d.laneId} · analyst {d.analyst}
            {d.note && <span class="review-note"> · “{d.note}”</span>}
            <button
              type="button"
              class="ghost"
              onClick={() => {
                state.reviewDecisions = state.reviewDecisions.filter((x) => x !== d);
                setTick((t) => t + 1);
              }}
            >
              Dismiss
            </button>
          </section>
        ))}
        {tab === 'live' &&
          (lane ? <LiveView state={state} lane={lane} /> : <div class="muted pad">Connecting to the lane…</div>)}
        {tab === 'history' && <HistoryView lanes={state.lanes} />}
        {tab === 'audit' && <AuditView />}
      </main>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    api<SessionInfo>('/api/session').then(setSession, () => setSession(null));
    const ended = (e: Event) => {
      setNotice(`Your session ended (${(e as CustomEvent<string>).detail}). Log in again.`);
      setSession(null);
    };
    window.addEventListener(SESSION_ENDED, ended);
    return () => window.removeEventListener(SESSION_ENDED, ended);
  }, []);
  if (session === undefined) return <div class="muted pad">Loading…</div>;
  if (!session)
    return (
      <Login
        notice={notice}
        onDone={(s) => {
          setNotice(null);
          setSession(s);
        }}
      />
    );
  return (
    <Shell
      session={session}
      onLogout={(reason) => {
        setNotice(reason);
        setSession(null);
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
