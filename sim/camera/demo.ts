import type { Logger } from '../../core/logger.js';
import { CameraSimulator } from './camera-sim.js';

export interface DemoCameras {
  sim: CameraSimulator;
  /** Base URL of the cameras: <baseUrl>/<id>/mjpeg and <baseUrl>/<id>/snapshot.jpg. */
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * The demo lane's cameras on a free port. No vehicle passes by itself: whatever drives the
 * simulated scanner calls `sim.vehicleEntering(plate, {kind, passMs, position})` as each vehicle
 * enters, so that the pictures show the vehicle being scanned.
 */
export async function startDemoCameras(o: { log: Logger; host?: string; port?: number }): Promise<DemoCameras> {
  const sim = new CameraSimulator({ host: o.host ?? '127.0.0.1', port: o.port ?? 0, autoTrafficMs: 0, passMs: 6000 });
  await sim.start();
  o.log.info({ url: sim.url }, `camera simulator on ${sim.url}/`);
  return { sim, baseUrl: sim.url, stop: () => sim.stop() };
}
