import type { Logger } from '../runtime/logger.js';
import { startDemoCameras } from './camera/demo.js';

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
  return {
    cameraBaseUrl: cameras.baseUrl,
    missing: ['scanner simulator (no scans will arrive)', 'OPC UA scanner simulator'],
    async stop() {
      await cameras.stop();
    },
  };
}
