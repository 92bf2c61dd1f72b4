import { ConsoleService } from '../../console/server/console-service.js';
import type { Service } from '../../core/service.js';
import type { SiteContext } from '../context.js';

/** Builds the operator console (web UI, JSON API, live events) on the runtime's HTTP port. */
export function createConsoleServices(ctx: SiteContext): Service[] {
  if (!ctx.config.console.enabled) return [];
  const lanes = ctx.lanes.map((l) => ({ id: l.id, name: l.name, bus: l.bus, health: l.health, scanState: () => l.pipeline.session.state }));
  return [new ConsoleService({ ...ctx, lanes })];
}
