import type { LaneContext } from '../context.js';
import { UnavailableDetector, type Detector } from '../detector.js';

/** Builds the lane's concealed-person detector, or one that says why detection is unavailable. */
export async function createDetector(ctx: LaneContext): Promise<Detector> {
  if (!ctx.lane.model) return new UnavailableDetector(`no model is configured for lane ${ctx.lane.id} (lanes[].model)`);
  return new UnavailableDetector('the ONNX model runtime is not part of this build');
}
