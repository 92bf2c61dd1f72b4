import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type Config } from '../../config/schema.js';
import type { LaneContext } from '../../app/context.js';
import type { DeviceStatus } from '../../core/domain.js';
import { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import { RuntimeHttpServer } from '../../app/http-server.js';
import { LaneHealth } from '../../pipeline/lane-health.js';
import { silentLogger } from '../../core/logger.js';
import { RuntimeMetrics } from '../../app/runtime-metrics.js';

/** Polls until check() returns a value that is not undefined/false, or fails naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | null,
  timeoutMs = 8000,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A lane context as the composition root builds it, with a config holding the given cameras. */
export function laneContext(
  cameras: unknown[],
  extra: Record<string, unknown> = {},
): { ctx: LaneContext; statuses: DeviceStatus[]; http: RuntimeHttpServer; config: Config } {
  const dataDir = mkdtempSync(join(tmpdir(), 'cam-it-'));
  const config = configSchema.parse({
    site: { id: 's1' },
    dataDir,
    http: { host: '127.0.0.1', port: 0 },
    lanes: [{ id: 'l1', scanner: { transport: { type: 'tcp', host: '127.0.0.1', port: 1 } }, cameras }],
    ...extra,
  });
  const log = silentLogger();
  const bus = new EventBus<LaneEvents>(log);
  const health = new LaneHealth('l1');
  health.attach(bus);
  const statuses: DeviceStatus[] = [];
  bus.on('device.status', 'test', (s) => void statuses.push(s));
  const http = new RuntimeHttpServer({ host: '127.0.0.1', port: 0, log });
  const ctx: LaneContext = {
    config,
    lane: config.lanes[0],
    bus,
    health,
    log,
    dataDir: join(dataDir, 'lanes', 'l1'),
    http,
    metrics: new RuntimeMetrics(),
  };
  return { ctx, statuses, http, config };
}
