import type { LaneContext } from '../context.js';
import { deviceStatus } from '../lane-health.js';
import type { EvidenceCollector } from '../lane-pipeline.js';
import type { Service } from '../service.js';

/** Builds the lane's camera sources and its evidence store. */
export function createCameraServices(ctx: LaneContext): { services: Service[]; evidence?: EvidenceCollector } {
  return {
    services: ctx.lane.cameras.map((c) => ({
      name: `camera:${ctx.lane.id}:${c.id}`,
      async start() {
        ctx.bus.emit('device.status', deviceStatus(`camera.${c.id}`, 'unavailable', 'camera ingest is not part of this build'));
      },
      async stop() {},
    })),
  };
}
