import type { Logger } from '../../runtime/logger.js';
import { CameraSimulator } from './camera-sim.js';

export interface DemoCameras {
  sim: CameraSimulator;
  /** Base URL of the cameras: <baseUrl>/<id>/mjpeg and <baseUrl>/<id>/snapshot.jpg. */
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * The demo lane's cameras on a free port. Vehicles pass by themselves every gapMs; whatever
 * drives the simulated scanner should call `sim.vehicleEntering(plate)` as each vehicle enters,
 * so that the pictures match the scans.
 */
export async function startDemoCameras(o: { log: Logger; gapMs: number; host?: string; port?: number }): Promise<DemoCameras> {
  const sim = new CameraSimulator({ host: o.host ?? '127.0.0.1', port: o.port ?? 0, autoTrafficMs: Math.max(1000, o.gapMs), passMs: 6000 });
  await sim.start();
  o.log.info({ url: sim.url }, `camera simulator on ${sim.url}/`);
  return { sim, baseUrl: sim.url, stop: () => sim.stop() };
}
