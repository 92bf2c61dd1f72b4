import type { EventBus } from '../../core/event-bus.js';
import type { CameraSnapshot, LaneEvents } from '../../core/events.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import type { CameraFrame } from './frame-ring.js';

/** What the snapshotter needs of a camera (a CameraFeed). */
export interface SnapshotCamera {
  readonly cameraId: string;
  readonly role: string;
  readonly state: string;
  latest(): CameraFrame | null;
  preRoll(): CameraFrame | null;
}

/**
 * Ties the lane's cameras to its scans: at scan begin, the pre-roll picture (the vehicle
 * entering) and the current one from each camera; at scan end or abort, the current one.
 * Each goes on the bus as 'camera.snapshot' with the scan id.
 */
export class ScanSnapshotter implements Service {
  readonly name: string;
  readonly #bus: EventBus<LaneEvents>;
  readonly #cameras: SnapshotCamera[];
  readonly #log: Logger;
  #off: (() => void)[] = [];

  constructor(o: { laneId: string; bus: EventBus<LaneEvents>; cameras: SnapshotCamera[]; log: Logger }) {
    this.name = `camera-snapshots:${o.laneId}`;
    this.#bus = o.bus;
    this.#cameras = o.cameras;
    this.#log = o.log;
  }

  async start(): Promise<void> {
    this.#off = [
      this.#bus.on('scan.begin', this.name, (m) => void this.take(m.scanId, 'scan-begin')),
      this.#bus.on('scan.end', this.name, (s) => void this.take(s.meta.scanId, 'scan-end')),
      this.#bus.on('scan.aborted', this.name, (a) => void this.take(a.scanId, 'scan-end')),
    ];
  }

  async stop(): Promise<void> {
    for (const off of this.#off) off();
    this.#off = [];
  }

  /** Emits the snapshots of one moment of a scan; returns how many were taken. */
  take(scanId: string | null, moment: 'scan-begin' | 'scan-end' | 'manual'): number {
    let n = 0;
    for (const cam of this.#cameras) {
      const latest = cam.latest();
      if (moment === 'scan-begin') {
        const pre = cam.preRoll();
        if (pre && pre !== latest) {
          this.#emit(cam, scanId, 'pre-roll', pre);
          n++;
        }
      }
      if (!latest) {
        this.#log.warn(
          { camera: cam.cameraId, scanId, state: cam.state },
          `camera.${cam.cameraId} has no recent picture for ${moment} of scan ${scanId} (camera ${cam.state})`,
        );
        continue;
      }
      this.#emit(cam, scanId, moment, latest);
      n++;
    }
    return n;
  }

  #emit(cam: SnapshotCamera, scanId: string | null, moment: CameraSnapshot['moment'], f: CameraFrame): void {
    this.#bus.emit('camera.snapshot', {
      cameraId: cam.cameraId,
      role: cam.role,
      scanId,
      moment,
      at: new Date(f.at).toISOString(),
      jpeg: f.jpeg,
    });
  }
}
