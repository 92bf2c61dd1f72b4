import { ScannerStreamSim, type ScannerSimOptions } from './line-stream-sim.js';
import { imageDirSource, synthSource, type ScanSource, withLinePitch, withLowEnergyScale } from './scan-source.js';

export { ScannerStreamSim, type ScannerSimReport, type SimScanRecord, type SimVehicle } from './line-stream-sim.js';
export {
  arraySource,
  imageDirSource,
  resampleLines,
  synthSource,
  withLinePitch,
  type ScanSource,
  type SimScan,
} from './scan-source.js';
export { writeFileDropScan, SIM_XML_FIELDS, type FileDropFormat } from './file-drop-writer.js';
export type { FaultOptions, InjectedFaults } from './faults.js';

/** How to start a simulator: where it serves, where its scans come from, and the simulator's own options. */
export interface ScannerStreamSimStart extends Omit<ScannerSimOptions, 'source'> {
  /** TCP port to serve on (0 = any free port); or give `serial`. */
  tcpPort?: number;
  host?: string;
  /** Serial device to stream on instead of TCP. */
  serial?: { path: string; baudRate?: number };
  /** Folder of scan images; default: the X-ray synthesizer. */
  images?: string;
  /** Share of synthesized vehicles carrying people (default 0.25). */
  personShare?: number;
  /** Low-energy attenuation multiplied by this (a scanner of another energy pair); default 1. */
  lowEnergyScale?: number;
  /** Lines this far apart in mm (a fixed line rate; scan-begin sends the speed that makes it); default: square pixels. */
  lineMm?: number;
}

/** Starts a scanner line-stream simulator (the demo and `sim scanner` use this). */
export async function startScannerStreamSim(
  o: ScannerStreamSimStart,
): Promise<{ sim: ScannerStreamSim; source: ScanSource; tcp?: { host: string; port: number } }> {
  const seed = o.seed ?? 1;
  const scans = o.images
    ? await imageDirSource(o.images)
    : synthSource({ seed, personShare: o.personShare ?? 0.25, dual: true });
  const scaled =
    o.lowEnergyScale !== undefined && o.lowEnergyScale !== 1 ? withLowEnergyScale(scans, o.lowEnergyScale) : scans;
  const source = o.lineMm !== undefined ? withLinePitch(scaled, o.lineMm) : scaled;
  const {
    tcpPort: _port,
    host: _host,
    serial: _serial,
    images: _images,
    personShare: _share,
    lowEnergyScale: _low,
    lineMm: _lineMm,
    ...given
  } = o;
  // Options left undefined keep the simulator's defaults.
  const simOptions = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Omit<
    ScannerSimOptions,
    'source'
  >;
  const sim = new ScannerStreamSim({ ...simOptions, source, seed });
  if (o.serial) {
    await sim.openSerial(o.serial.path, o.serial.baudRate);
    return { sim, source };
  }
  const tcp = await sim.listenTcp(o.tcpPort ?? 0, o.host ?? '127.0.0.1');
  return { sim, source, tcp };
}
