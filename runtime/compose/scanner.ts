import type { LaneContext } from '../context.js';
import { deviceStatus } from '../lane-health.js';
import type { Service } from '../service.js';

/** Builds the scanner bridge services of a lane (line stream, OPC UA, file drop). */
export function createScannerServices(ctx: LaneContext): Service[] {
  return [
    {
      name: `scanner:${ctx.lane.id}`,
      async start() {
        ctx.bus.emit('device.status', deviceStatus('scanner', 'unavailable', 'the scanner bridge is not part of this build: no scans can arrive'));
      },
      async stop() {},
    },
  ];
}
