import type { SiteContext } from '../context.js';
import { sendJson } from '../http-server.js';
import type { Service } from '../service.js';

/** Builds the operator console (web UI and its JSON API) on the runtime's HTTP port. */
export function createConsoleServices(ctx: SiteContext): Service[] {
  if (!ctx.config.console.enabled) return [];
  return [
    {
      name: 'console',
      async start() {
        ctx.http.route('/api/lanes', 'console', (_req, res) => {
          sendJson(res, 200, { lanes: ctx.lanes.map((l) => ({ id: l.id, name: l.name, health: l.health.snapshot(), scan: l.pipeline.session.state })) });
          return true;
        });
        ctx.announce(`console: ${ctx.http.url}/api/lanes (the web console is not part of this build; lane status as JSON)`);
      },
      async stop() {},
    },
  ];
}
