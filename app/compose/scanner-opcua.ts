import { join, resolve } from 'node:path';
import type { LaneContext } from '../context.js';
import type { Service } from '../../core/service.js';

/** The OPC UA client as the lane's services see it before it is loaded. */
export interface ScannerOpcuaService extends Service {
  /** Its device.status name: '<scanner.id>.opcua'. */
  readonly device: string;
}

/**
 * The OPC UA client of a lane's scanner, from the lane's config (lane.scanner.opcua), or null
 * when the lane has none. Its certificate store is scanner.opcua.pkiDir, by default
 * <lane data dir>/pki/opcua. Its device.status name is '<scanner.id>.opcua' ('scanner.opcua').
 * node-opcua is loaded when the client starts, and only then: it costs about 80 MiB of memory
 * (lanes.memory rows of docs/benchmarks.md), which a lane without OPC UA does not pay.
 */
export function createScannerOpcuaService(ctx: LaneContext): ScannerOpcuaService | null {
  const scanner = ctx.lane.scanner;
  const opcua = scanner.opcua;
  if (!opcua) return null;
  const device = `${scanner.id}.opcua`;
  let client: Service | null = null;
  return {
    name: `${device}:${ctx.lane.id}`,
    device,
    async start() {
      const { ScannerOpcuaClient } = await import('../../firmware-bridge/scanner/opcua/scanner-opcua-client.js');
      client = new ScannerOpcuaClient({
        laneId: ctx.lane.id,
        config: opcua,
        reconnect: scanner.reconnect,
        pkiDir: opcua.pkiDir ? resolve(opcua.pkiDir) : join(ctx.dataDir, 'pki', 'opcua'),
        bus: ctx.bus,
        log: ctx.log.child({ part: 'scanner.opcua' }),
        device,
      });
      await client.start();
    },
    async stop() {
      await client?.stop();
      client = null;
    },
  };
}
