import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { EvidenceRef, ScanResult } from '../../../core/domain.js';
import type { FusedDecision, Sense } from '../../../core/senses.js';
import { scanImageUrl } from './api.js';
import { score, time, VERDICT_LABEL } from './format.js';
import { ImageRaster } from './raster.js';
import type { ViewName } from './ScanViewer.js';
import { WatchlistHitView } from './WatchlistHit.js';

/** Loads the full-resolution picture of a decided scan; null until loaded or when there is none. */
export function useScanImage(
  laneId: string | null,
  scanId: string | null,
  view: ViewName,
  available: ViewName[],
): { raster: ImageRaster | null; error: string | null } {
  const [state, setState] = useState<{ key: string; raster: ImageRaster | null; error: string | null }>({
    key: '',
    raster: null,
    error: null,
  });
  const key = laneId && scanId && available.includes(view) ? `${laneId}/${scanId}/${view}` : '';
  useEffect(() => {
    if (!key) {
      setState({ key: '', raster: null, error: null });
      return;
    }
    let cancelled = false;
    setState((s) => (s.key === key ? s : { key, raster: null, error: null }));
    ImageRaster.load(scanImageUrl(laneId!, scanId!, view)).then(
      (raster) => !cancelled && setState({ key, raster, error: null }),
      (err: Error) => !cancelled && setState({ key, raster: null, error: err.message }),
    );
    return () => {
      cancelled = true;
    };
  }, [key]);
  return state.key === key ? { raster: state.raster, error: state.error } : { raster: null, error: null };
}

export type ScanPhase =
  | { kind: 'idle' }
  | { kind: 'scanning'; lines: number; scanId: string }
  | { kind: 'deciding'; scanId: string }
  | { kind: 'decided'; result: ScanResult };

export function VerdictCard(p: { phase: ScanPhase }) {
  const { phase } = p;
  if (phase.kind === 'idle') {
    return (
      <div class="verdict idle" data-testid="verdict" data-verdict="none">
        <div class="verdict-big">WAITING</div>
        <div class="verdict-sub">No vehicle in the scanner.</div>
      </div>
    );
  }
  if (phase.kind === 'scanning' || phase.kind === 'deciding') {
    return (
      <div class="verdict scanning" data-testid="verdict" data-verdict="scanning">
        <div class="verdict-big">{phase.kind === 'scanning' ? 'SCANNING' : 'ANALYSING'}</div>
        <div class="verdict-sub">
          Scan {phase.scanId}
          {phase.kind === 'scanning' && ` · ${phase.lines} lines`}
        </div>
      </div>
    );
  }
  const r = phase.result;
  const cls = r.verdict === 'person' ? 'bad' : r.verdict === 'clear' ? 'ok' : 'warn';
  return (
    <div class={`verdict ${cls}`} data-testid="verdict" data-verdict={r.verdict} data-scan-id={r.scanId}>
      <div class="verdict-big">{VERDICT_LABEL[r.verdict].toUpperCase()}</div>
      <div class="verdict-sub">
        {r.verdict === 'unavailable'
          ? r.unavailableReason
          : `score ${score(r.score)}${r.threshold !== undefined ? ` (alert at ${score(r.threshold)})` : ''} · ${r.regions.length} region${r.regions.length === 1 ? '' : 's'}`}
      </div>
      <dl class="facts">
        <dt>Scan</dt>
        <dd>{r.scannerScanId ?? r.scanId}</dd>
        {r.scannerScanId !== undefined && (
          <>
            <dt>Edge id</dt>
            <dd class="mono">{r.scanId}</dd>
          </>
        )}
        <dt>Plate</dt>
        <dd class="plate">{r.vehicle?.plate ?? r.vehicle?.containerCode ?? '—'}</dd>
        <dt>Time</dt>
        <dd>{time(r.startedAt)}</dd>
        <dt>Lines</dt>
        <dd>
          {r.lines}
          {r.missingLines > 0 && <span class="warn-text"> ({r.missingLines} missing)</span>}
        </dd>
        <dt>Model</dt>
        <dd>{r.model ? `${r.model.name} ${r.model.version}` : '—'}</dd>
        {r.outcome === 'aborted' && (
          <>
            <dt>Aborted</dt>
            <dd class="warn-text">
              {r.abortReason}: {r.abortDetail}
            </dd>
          </>
        )}
      </dl>
      {r.watchlist && r.watchlist.length > 0 && (
        <div class="verdict-watchlist" data-testid="verdict-watchlist">
          <div class="verdict-watchlist-title">WATCHLIST HIT on this vehicle</div>
          {r.watchlist.map((h) => (
            <WatchlistHitView key={`${h.listId}/${h.entry.id}`} hit={h} />
          ))}
        </div>
      )}
      {r.fusion && <Senses fusion={r.fusion} />}
    </div>
  );
}

const SENSE_LABEL: Record<Sense, string> = { xray: 'X-ray', co2: 'CO2', heartbeat: 'Heartbeat' };
const SUPPORT_LABEL = {
  supported: 'CO2 and heartbeat support the X-ray alert',
  'not-supported': 'CO2 and heartbeat do not support the X-ray alert: search all the same',
  'no-evidence': 'CO2 and heartbeat give no evidence either way',
} as const;

/** Each sense's evidence on this vehicle, the fused decision, and the senses that were missing. */
function Senses(p: { fusion: FusedDecision }) {
  const f = p.fusion;
  return (
    <div class="senses" data-testid="senses">
      <div
        class={`senses-fused ${f.verdict === 'person' ? 'bad-text' : ''}`}
        data-testid="fused"
        data-verdict={f.verdict}
      >
        Fused: {f.verdict === 'person' ? 'PERSON' : f.verdict === 'clear' ? 'clear' : 'not screened'} (
        {(f.posterior * 100).toFixed(0)} %)
        {f.addedAlert && ' · alert raised by the sensors'}
        {f.xraySupport && <div class="muted">{SUPPORT_LABEL[f.xraySupport]}</div>}
      </div>
      <dl class="facts">
        {f.senses.map((s) => (
          <Fragment key={s.sense}>
            <dt>{SENSE_LABEL[s.sense]}</dt>
            <dd class={s.state === 'evidence' ? '' : 'warn-text'} data-testid={`sense-${s.sense}`} data-state={s.state}>
              {s.state === 'evidence' ? s.detail : `${s.state}: ${s.detail}`}
            </dd>
          </Fragment>
        ))}
      </dl>
      {f.missing.length > 0 && (
        <div class="muted" data-testid="senses-missing">
          Missing for this vehicle: {f.missing.map((m) => SENSE_LABEL[m]).join(', ')}
        </div>
      )}
    </div>
  );
}

function Snapshot(p: { ev: EvidenceRef }) {
  const [failed, setFailed] = useState(false);
  return (
    <figure class="snapshot">
      {failed ? (
        <div class="snapshot-missing">picture not available</div>
      ) : (
        <img src={p.ev.url} alt={`camera ${p.ev.name}`} loading="lazy" onError={() => setFailed(true)} />
      )}
      <figcaption>{p.ev.name.replace(/\.(jpe?g|png)$/i, '')}</figcaption>
    </figure>
  );
}

/** Camera pictures stored with a decided scan. */
export function CameraSnapshots(p: { result: ScanResult | null }) {
  const cams = (p.result?.evidence ?? []).filter((e) => e.kind === 'camera');
  if (!p.result) return <div class="muted">Camera pictures of the vehicle appear when its scan is decided.</div>;
  if (cams.length === 0)
    return (
      <div class="muted" data-testid="no-snapshots">
        No camera pictures with scan {p.result.scanId}.
      </div>
    );
  return (
    <div class="snapshots" data-testid="snapshots">
      {cams.map((e) => (
        <Snapshot key={e.url} ev={e} />
      ))}
    </div>
  );
}
