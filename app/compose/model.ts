import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxDetector } from '../../inference/onnx-detector.js';
import type { TileScheduler } from '../../inference/tile-scheduler.js';
import { operatingThresholds } from '../../inference/manifest.js';
import { alertThreshold } from '../../pipeline/lane-pipeline.js';
import type { LaneContext } from '../context.js';
import { UnavailableDetector, type Detector } from '../../core/detector.js';

/** How often a lane retries a model that failed to load or to run. */
const MODEL_RETRY_MS = 30_000;
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Builds the lane's concealed-person detector, or one that says why detection is unavailable.
 * A relative model path is taken from the working directory, else from the installed package
 * (where models/ ships). Each lane has its own onnxruntime session; its tiles wait for their turn on
 * the site's scheduler, shared by every lane.
 */
export async function createDetector(ctx: LaneContext, tiles?: TileScheduler): Promise<Detector> {
  const m = ctx.lane.model;
  if (!m) return new UnavailableDetector(`no model is configured for lane ${ctx.lane.id} (lanes[].model)`);
  const path = modelDir(m.path);
  // Status changes reach the log through the lane's device.status 'model'.
  const detector = await OnnxDetector.open({
    path,
    threads: m.threads,
    warmup: m.warmup,
    retryMs: MODEL_RETRY_MS,
    ...(tiles ? { queue: tiles.lane(ctx.lane.id) } : {}),
  });
  const manifest = detector.manifest;
  if (manifest) {
    // A threshold the lane asked for and the model lacks is said at start, not only at the first scan.
    const decided = alertThreshold(ctx.lane.thresholds, {
      model: { name: manifest.name, version: manifest.version },
      ...operatingThresholds(manifest),
    });
    if (decided.warning) ctx.log.warn({ lane: ctx.lane.id }, `lane ${ctx.lane.id}: ${decided.source}`);
  }
  return detector;
}

export function modelDir(path: string): string {
  if (isAbsolute(path)) return path;
  const fromCwd = resolve(path);
  if (existsSync(fromCwd)) return fromCwd;
  const fromPackage = resolve(PACKAGE_ROOT, path);
  return existsSync(fromPackage) ? fromPackage : fromCwd;
}
