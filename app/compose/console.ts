import { ConsoleService } from '../../console/server/console-service.js';
import type { Service } from '../../core/service.js';
import type { SiteContext } from '../context.js';

/** Builds the operator console (web UI, JSON API, live events) on the runtime's HTTP port. */
export function createConsoleServices(ctx: SiteContext): Service[] {
  if (!ctx.config.console.enabled) return [];
  const lanes = ctx.lanes.map((l) => ({
    id: l.id,
    name: l.name,
    bus: l.bus,
    health: l.health,
    scanState: () => l.pipeline.session.state,
  }));
  // Alerts left open by the previous run count in /metrics (open, unacknowledged, age) from the start.
  const openAlertsAtStart = (
    alerts: { laneId: string; alertId: string; raisedAt: string; acknowledged: boolean }[],
  ) => {
    for (const a of alerts) ctx.metrics.lanes.alerts(a.laneId)?.seed(a.alertId, a.raisedAt, a.acknowledged);
  };
  const pictures = ctx.pictures;
  return [
    new ConsoleService({
      ...ctx,
      lanes,
      openAlertsAtStart,
      ...(pictures ? { renderView: (image, view) => pictures.consolePng(image, view) } : {}),
    }),
  ];
}
