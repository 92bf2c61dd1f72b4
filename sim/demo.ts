import type { Logger } from '../runtime/logger.js';
import { startDemoCameras } from './camera/demo.js';
import { startScannerStreamSim } from './scanner/index.js';
import { freeTcpPort, ScannerOpcuaServer, simEndpointUrl } from './scanner/opcua-server.js';

/** Line rate of the demo scanner: the fast end of real scanners (100-1,000 lines/s), so a truck takes seconds. */
const DEMO_LINE_RATE_HZ = 1000;

/** The simulated devices of the demo lane, and where they listen. */
export interface DemoSimulators {
  /** Scanner line stream server (TCP). */
  scanner?: { host: string; port: number };
  /** OPC UA scanner server endpoint. */
  opcuaEndpoint?: string;
  /** Camera simulator base URL; cameras at <base>/<id>/mjpeg and <base>/<id>/snapshot.jpg. */
  cameraBaseUrl?: string;
  /** Simulators this build does not have, said to the user at start. */
  missing: string[];
  stop(): Promise<void>;
}

export interface DemoSimulatorOptions {
  log: Logger;
  /** Share of vehicles with concealed people (0-1). */
  personShare: number;
  seed: number;
  /** Pause between vehicles. */
  gapMs: number;
}

/** Starts every simulator the demo lane uses. */
export async function startDemoSimulators(_opts: DemoSimulatorOptions): Promise<DemoSimulators> {
  const cameras = await startDemoCameras({ log: _opts.log.child({ sim: 'camera' }), gapMs: _opts.gapMs });
  const scanner = await startScannerStreamSim({ tcpPort: 0, personShare: _opts.personShare, seed: _opts.seed, gapMs: _opts.gapMs, lineRateHz: DEMO_LINE_RATE_HZ, log: _opts.log.child({ sim: 'scanner' }) }).catch(async (err: Error) => {
    await cameras.stop();
    throw new Error(`demo: the scanner simulator did not start: ${err.message}`, { cause: err });
  });
  // node-opcua takes seconds to start a server; the lane's OPC UA client retries until it is up,
  // so it starts in the background on a port chosen now.
  const opcuaPort = await freeTcpPort();
  const opcuaLog = _opts.log.child({ sim: 'opcua' });
  const opcua = new ScannerOpcuaServer({ port: opcuaPort, log: opcuaLog });
  const opcuaStarted = opcua.start().then(
    () => true,
    (err: Error) => {
      opcuaLog.error({ err }, `demo: the OPC UA scanner simulator did not start: ${err.message}`);
      return false;
    },
  );
  return {
    cameraBaseUrl: cameras.baseUrl,
    scanner: scanner.tcp,
    opcuaEndpoint: simEndpointUrl('127.0.0.1', opcuaPort),
    missing: [],
    async stop() {
      if (await opcuaStarted) await opcua.stop();
      await scanner.sim.stop();
      await cameras.stop();
    },
  };
}
