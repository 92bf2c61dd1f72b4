import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Me } from './api.js';
import { AlertsView, LanesView, ReviewView } from './operations.js';
import { AccountsView, AuditView, FiguresView, MovementsView } from './records.js';
import { HitsView, WatchlistsView } from './watchlists.js';
import './styles.css';

type Tab = 'lanes' | 'alerts' | 'review' | 'hits' | 'watchlists' | 'movements' | 'figures' | 'audit' | 'accounts';
const RANK = { analyst: 0, supervisor: 1, admin: 2 } as const;

function Login(p: { onIn: (me: Me) => void }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="login"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        api<Me>('/api/login', { method: 'POST', body: { name: f.get('user'), password: f.get('password') } }).then(
          p.onIn,
          (err: Error) => setError(err.message),
        );
      }}
    >
      <h1>
        <span class="brand-mark">◆</span> CHECKPOINT <span class="muted">central command</span>
      </h1>
      <input name="user" placeholder="name" autocomplete="username" required />
      <input name="password" type="password" placeholder="password" autocomplete="current-password" required />
      <button type="submit" class="primary">
        Log in
      </button>
      {error && (
        <div class="error" data-testid="login-error">
          {error}
        </div>
      )}
    </form>
  );
}

/** Counts "something changed" notes from the live stream; views reload when it moves. */
function useLiveTick(): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const es = new EventSource('/api/live');
    es.onmessage = () => {
      timer ??= setTimeout(() => {
        timer = null;
        setTick((t) => t + 1);
      }, 150);
    };
    const every = setInterval(() => setTick((t) => t + 1), 10_000);
    return () => {
      if (timer) clearTimeout(timer);
      es.close();
      clearInterval(every);
    };
  }, []);
  return tick;
}

function Shell(p: { me: Me; onOut: () => void }) {
  const [tab, setTab] = useState<Tab>('alerts');
  const tick = useLiveTick();
  const tabs: [Tab, string, keyof typeof RANK][] = [
    ['lanes', 'Sites & lanes', 'analyst'],
    ['alerts', 'Alerts', 'analyst'],
    ['review', 'Remote review', 'analyst'],
    ['hits', 'Watchlist hits', 'analyst'],
    ['watchlists', 'Watchlists', 'analyst'],
    ['movements', 'Movements', 'analyst'],
    ['figures', 'Figures', 'supervisor'],
    ['audit', 'Audit', 'supervisor'],
    ['accounts', 'Accounts', 'admin'],
  ];
  return (
    <div class="shell">
      <header class="topbar">
        <div class="brand">
          <span class="brand-mark">◆</span> CHECKPOINT <span class="brand-sub">central command</span>
        </div>
        <nav class="tabs">
          {tabs
            .filter(([, , least]) => RANK[p.me.role] >= RANK[least])
            .map(([id, label]) => (
              <button type="button" class={tab === id ? 'on' : ''} data-testid={`tab-${id}`} onClick={() => setTab(id)}>
                {label}
              </button>
            ))}
        </nav>
        <span class="spacer" />
        <span class="user" data-testid="user">
          {p.me.name} <span class="muted">({p.me.role})</span>
        </span>
        <button type="button" onClick={() => void api('/api/logout', { method: 'POST' }).finally(p.onOut)}>
          Log out
        </button>
      </header>
      <main>
        {tab === 'lanes' && <LanesView tick={tick} />}
        {tab === 'alerts' && <AlertsView tick={tick} />}
        {tab === 'review' && <ReviewView tick={tick} me={p.me} />}
        {tab === 'hits' && <HitsView tick={tick} />}
        {tab === 'watchlists' && <WatchlistsView tick={tick} canEdit={RANK[p.me.role] >= RANK.supervisor} />}
        {tab === 'movements' && <MovementsView />}
        {tab === 'figures' && <FiguresView tick={tick} />}
        {tab === 'audit' && <AuditView tick={tick} />}
        {tab === 'accounts' && <AccountsView />}
      </main>
    </div>
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  useEffect(() => {
    api<Me>('/api/me').then(setMe, () => setMe(null));
  }, []);
  if (me === undefined) return <div class="pad muted">…</div>;
  return me ? <Shell me={me} onOut={() => setMe(null)} /> : <Login onIn={setMe} />;
}

render(<App />, document.getElementById('app')!);
