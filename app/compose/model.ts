import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxDetector } from '../../inference/onnx-detector.js';
import type { TileScheduler } from '../../inference/tile-scheduler.js';
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
  if (ctx.lane.thresholds.alert === 'held-out' && manifest && !manifest.operatingPoint?.heldOut)
    // Said at start as well as at the first scan (lane pipeline): the lane alarms more often than asked.
    ctx.log.warn(
      { lane: ctx.lane.id, model: `${manifest.name} ${manifest.version}` },
      `lane ${ctx.lane.id}: lanes[].thresholds.alert is held-out, but model ${manifest.name} ${manifest.version} names no held-out operating point (operatingPoint.heldOut in its manifest.json): it decides at the model's own point`,
    );
  return detector;
}

export function modelDir(path: string): string {
  if (isAbsolute(path)) return path;
  const fromCwd = resolve(path);
  if (existsSync(fromCwd)) return fromCwd;
  const fromPackage = resolve(PACKAGE_ROOT, path);
  return existsSync(fromPackage) ? fromPackage : fromCwd;
}
