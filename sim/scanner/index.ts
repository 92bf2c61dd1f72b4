import type { Logger } from '../../runtime/logger.js';
import type { FaultOptions } from './faults.js';
import { ScannerStreamSim } from './line-stream-sim.js';
import { imageDirSource, synthSource, type ScanSource } from './scan-source.js';

export { ScannerStreamSim, type ScannerSimReport, type SimScanRecord, type SimVehicle } from './line-stream-sim.js';
export { arraySource, imageDirSource, synthSource, type ScanSource, type SimScan } from './scan-source.js';
export { writeFileDropScan, SIM_XML_FIELDS, type FileDropFormat } from './file-drop-writer.js';
export type { FaultOptions, InjectedFaults } from './faults.js';

export interface ScannerStreamSimStart {
  /** TCP port to serve on (0 = any free port); or give `serial`. */
  tcpPort?: number;
  host?: string;
  /** Serial device to stream on instead of TCP. */
  serial?: { path: string; baudRate?: number };
  /** Folder of scan images; default: the X-ray synthesizer. */
  images?: string;
  personShare?: number;
  seed?: number;
  scans?: number;
  lineRateHz?: number;
  gapMs?: number;
  /** The 'vehicle' event comes this long before each scan begins (see ScannerSimOptions). */
  vehicleLeadMs?: number;
  heartbeatMs?: number;
  faults?: FaultOptions;
  log?: Logger;
}

/** Starts a scanner line-stream simulator (the demo and `sim scanner` use this). */
export async function startScannerStreamSim(o: ScannerStreamSimStart): Promise<{ sim: ScannerStreamSim; source: ScanSource; tcp?: { host: string; port: number } }> {
  const seed = o.seed ?? 1;
  const source = o.images ? await imageDirSource(o.images) : synthSource({ seed, personShare: o.personShare ?? 0.25, dual: true });
  const sim = new ScannerStreamSim({
    source,
    seed,
    ...(o.scans !== undefined ? { scans: o.scans } : {}),
    ...(o.lineRateHz !== undefined ? { lineRateHz: o.lineRateHz } : {}),
    ...(o.gapMs !== undefined ? { gapMs: o.gapMs } : {}),
    ...(o.vehicleLeadMs !== undefined ? { vehicleLeadMs: o.vehicleLeadMs } : {}),
    ...(o.heartbeatMs !== undefined ? { heartbeatMs: o.heartbeatMs } : {}),
    ...(o.faults ? { faults: o.faults } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  if (o.serial) {
    await sim.openSerial(o.serial.path, o.serial.baudRate);
    return { sim, source };
  }
  const tcp = await sim.listenTcp(o.tcpPort ?? 0, o.host ?? '127.0.0.1');
  return { sim, source, tcp };
}
