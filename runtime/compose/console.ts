import { ConsoleService } from '../../console/server/console-service.js';
import type { SiteContext } from '../context.js';
import type { Service } from '../service.js';

/** Builds the operator console (web UI, JSON API, live events) on the runtime's HTTP port. */
export function createConsoleServices(ctx: SiteContext): Service[] {
  if (!ctx.config.console.enabled) return [];
  return [new ConsoleService(ctx)];
}
