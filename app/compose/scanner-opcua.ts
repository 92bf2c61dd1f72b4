import { join, resolve } from 'node:path';
import type { LaneContext } from '../context.js';
import { ScannerOpcuaClient } from '../../firmware-bridge/scanner/opcua/scanner-opcua-client.js';

/**
 * The OPC UA client of a lane's scanner, from the lane's config (lane.scanner.opcua), or null
 * when the lane has none. Its certificate store is scanner.opcua.pkiDir, by default
 * <lane data dir>/pki/opcua. Its device.status name is '<scanner.id>.opcua' ('scanner.opcua').
 */
export function createScannerOpcuaService(ctx: LaneContext): ScannerOpcuaClient | null {
  const scanner = ctx.lane.scanner;
  if (!scanner.opcua) return null;
  return new ScannerOpcuaClient({
    laneId: ctx.lane.id,
    config: scanner.opcua,
    reconnect: scanner.reconnect,
    pkiDir: scanner.opcua.pkiDir ? resolve(scanner.opcua.pkiDir) : join(ctx.dataDir, 'pki', 'opcua'),
    bus: ctx.bus,
    log: ctx.log.child({ part: 'scanner.opcua' }),
    device: `${scanner.id}.opcua`,
  });
}
