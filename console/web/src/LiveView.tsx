import { useEffect, useState } from 'preact/hooks';
import type { ScanResult } from '../../../core/domain.js';
import type { AlertRecord, ScanDetail } from '../../server/messages.js';
import { AlertBanner, AlertLog } from './AlertBanner.js';
import { api } from './api.js';
import { DeviceTiles, laneBanner, StatusBanner } from './LaneStatus.js';
import type { LaneState, LiveState } from './live-state.js';
import type { Raster } from './raster.js';
import { CameraSnapshots, useScanImage, VerdictCard, type ScanPhase } from './scan-panels.js';
import { ScanViewer, type ViewName } from './ScanViewer.js';

/** Open alerts shown as banners; the newest in full, the next ones on one line each. */
const MAX_BANNERS = 4;

/** The live lane: status, open alerts, the scan building up and its verdict, cameras, devices. */
export function LiveView(p: { state: LiveState; lane: LaneState }) {
  const { state, lane } = p;
  const [view, setView] = useState<ViewName>('high');
  const [pinned, setPinned] = useState<ScanDetail | null>(null);
  const laneNames = new Map(state.lanes.map((l) => [l.id, l.name]));

  const live = lane.live;
  const decided = pinned ? pinned.result : lane.lastDecided;
  const showingLive = !pinned && live !== null;
  const decidedMatches = decided !== null && (!showingLive || decided.scanId === live!.scanId);
  const fullViews: ViewName[] = pinned ? pinned.views : decidedMatches ? lane.views : [];
  const full = useScanImage(
    decidedMatches ? decided!.laneId : null,
    decidedMatches ? decided!.scanId : null,
    view,
    fullViews,
  );

  let raster: Raster | null = full.raster;
  if (!raster && showingLive) raster = view === 'low' && live!.low ? live!.low : live!.high;
  const liveViews: ViewName[] = showingLive ? (live!.low ? ['high', 'low'] : ['high']) : [];
  const views = [...new Set([...liveViews, ...fullViews])];
  useEffect(() => {
    if (!views.includes(view)) setView('high');
  }, [views.join(), view]);

  let phase: ScanPhase = { kind: 'idle' };
  if (pinned) phase = { kind: 'decided', result: pinned.result };
  else if (live && !live.ended)
    phase = {
      kind: 'scanning',
      lines: live.high.width * live.begin.factor,
      scanId: live.begin.meta.scannerScanId ?? live.scanId,
    };
  else if (live && !decidedMatches) phase = { kind: 'deciding', scanId: live.begin.meta.scannerScanId ?? live.scanId };
  else if (decided) phase = { kind: 'decided', result: decided };
  const shownResult: ScanResult | null = phase.kind === 'decided' ? phase.result : null;

  const open = [...state.alerts.values()]
    .filter((r) => r.state !== 'closed')
    .sort((a, b) => b.alert.raisedAt.localeCompare(a.alert.raisedAt));
  const recent = [...state.alerts.values()]
    .sort((a, b) => b.alert.raisedAt.localeCompare(a.alert.raisedAt))
    .slice(0, 6);

  const showScan = async (rec: AlertRecord) => {
    if (!rec.alert.scanId) return;
    if (!pinned && lane.lastDecided?.scanId === rec.alert.scanId && rec.alert.laneId === lane.id) return;
    try {
      setPinned(
        await api<ScanDetail>(
          `/api/scans/${encodeURIComponent(rec.alert.laneId)}/${encodeURIComponent(rec.alert.scanId)}`,
        ),
      );
    } catch (err) {
      window.alert((err as Error).message);
    }
  };

  let caption = '';
  if (pinned) caption = `Scan ${pinned.result.scannerScanId ?? pinned.result.scanId} (from ${pinned.result.laneId})`;
  else if (live)
    caption = `Scan ${live.begin.meta.scannerScanId ?? live.scanId}${live.aborted ? ` — ABORTED (${live.aborted.reason}): ${live.aborted.detail}` : ''}${!full.raster ? ' · live preview' : ''}`;
  else if (decided) caption = `Scan ${decided.scannerScanId ?? decided.scanId}`;
  if (full.error && fullViews.length) caption += ' · full picture not available';

  return (
    <div class="live">
      <StatusBanner banner={laneBanner(lane.health, state.connection)} laneName={lane.name} />
      {open.slice(0, MAX_BANNERS).map((r, i) => (
        <AlertBanner
          key={r.alert.alertId}
          rec={r}
          compact={i > 0}
          laneName={laneNames.get(r.alert.laneId) ?? r.alert.laneId}
          onShowScan={shownResult?.scanId === r.alert.scanId ? undefined : () => void showScan(r)}
        />
      ))}
      {open.length > MAX_BANNERS && (
        <div class="alert-more">
          {open.length - MAX_BANNERS} more open alert(s) wait below these: they move up as these are handled.
        </div>
      )}
      <div class="live-grid">
        <div class="live-main">
          <div class="panel viewer-panel">
            {pinned && (
              <div class="pinned-bar">
                Showing an earlier scan. {live && !live.ended && <strong>A vehicle is being scanned now. </strong>}
                <button type="button" onClick={() => setPinned(null)}>
                  Back to live
                </button>
              </div>
            )}
            <ScanViewer
              raster={raster}
              regions={shownResult?.regions ?? []}
              alarm={shownResult?.verdict === 'person'}
              live={phase.kind === 'scanning'}
              views={views}
              view={view}
              onView={setView}
              emptyText={
                decided && !showingLive
                  ? full.error
                    ? `No picture of scan ${decided.scanId}: ${full.error}`
                    : 'Loading the scan picture…'
                  : 'Waiting for the next vehicle…'
              }
              caption={caption}
            />
          </div>
          <div class="below-viewer">
            <div class="panel">
              <h2>Cameras</h2>
              <CameraSnapshots result={shownResult} />
            </div>
            <div class="panel">
              <h2>Recent alerts</h2>
              <AlertLog alerts={recent} laneNames={laneNames} />
            </div>
          </div>
        </div>
        <aside class="live-side">
          <div class="panel">
            <h2>Verdict</h2>
            <VerdictCard phase={phase} />
          </div>
          <div class="panel">
            <h2>Lane devices</h2>
            <DeviceTiles health={lane.health} />
            <div class="panel-foot">
              <button
                type="button"
                class="ghost small-btn"
                data-testid="test-alert"
                onClick={() =>
                  void api(`/api/lanes/${encodeURIComponent(lane.id)}/test-alert`, { method: 'POST' }).catch(
                    (err: Error) => window.alert(err.message),
                  )
                }
                title="Raises a test alert on this lane: banner, tone, and a message to central command"
              >
                Send a test alert
              </button>
            </div>
          </div>
        </aside>
      </div>
    </div>
  );
}
