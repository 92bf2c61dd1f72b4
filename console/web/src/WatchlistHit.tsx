import type { WatchlistHit } from '../../../core/domain.js';

/**
 * A watchlist hit as the officer verifies it: the listed entry and the action beside the read as
 * the reader gave it, with its confidence and how it matched. Readers misread: the plate on the
 * camera picture decides, not the hit.
 */
export function WatchlistHitView(p: { hit: WatchlistHit }) {
  const { hit } = p;
  const e = hit.entry;
  const listed = e.plate !== undefined ? `${e.plate} (${e.country ?? '?'})` : e.containerCode;
  return (
    <div class={`watchlist-hit p${e.priority}`} data-testid="watchlist-hit" data-entry-id={e.id}>
      <div class="watchlist-action">{e.action}</div>
      <dl class="facts">
        <dt>Listed</dt>
        <dd class="plate">{listed}</dd>
        <dt>Read</dt>
        <dd class="plate">
          {hit.read.value}
          <span class="muted">
            {' '}
            ·{' '}
            {hit.read.confidence === null
              ? 'confidence not given'
              : `${Math.round(hit.read.confidence * 100)} % confidence`}{' '}
            · {hit.read.via}
            {hit.read.cameraId ? ` (${hit.read.cameraId})` : ''}
          </span>
        </dd>
        <dt>Match</dt>
        <dd class={hit.score === 1 ? '' : 'warn-text'}>
          {hit.score === 1 ? 'exact' : 'one character differs (O/0, I/1 or B/8): check the plate'}
        </dd>
        <dt>Reason</dt>
        <dd>
          {e.category} · priority {e.priority} · {e.source} · list {hit.listId} v{hit.listVersion}
        </dd>
        {e.note && (
          <>
            <dt>Note</dt>
            <dd>{e.note}</dd>
          </>
        )}
      </dl>
      <div class="muted">Compare the plate on the camera picture with the listed one before acting.</div>
    </div>
  );
}
