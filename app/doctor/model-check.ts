import type { LaneConfig } from '../../config/schema.js';
import type { CompletedScan, LineBatch } from '../../core/domain.js';
import { OnnxDetector } from '../../inference/onnx-detector.js';
import { alertThreshold } from '../../pipeline/lane-pipeline.js';
import { modelDir } from '../compose/model.js';
import { type DoctorResult, fail, ok, warn } from './doctor-check.js';

/** A scan whose answer is known, streamed to the model as a lane streams a vehicle. */
export interface SelfTestScan {
  /** e.g. "synthetic car with 2 people (seed 2000010)". */
  name: string;
  expectPerson: boolean;
  batches: LineBatch[];
  scan: CompletedScan;
}

/**
 * Loads the lane's model as the lane does and streams known scans through it: a scan with
 * people must reach the lane's alert threshold (thresholds.alert, else the model's operating
 * point), a scan without must stay below it.
 */
export async function checkModel(lane: LaneConfig, scans: readonly SelfTestScan[]): Promise<DoctorResult> {
  const m = lane.model!;
  const dir = modelDir(m.path);
  const target = `${lane.id} ${dir}`;
  const det = await OnnxDetector.open({ path: dir, threads: m.threads, warmup: false, retryMs: 0 });
  try {
    if (det.status.state !== 'ready')
      return fail(
        'model',
        target,
        det.status.reason,
        'check lanes[].model.path: a folder with manifest.json and the ONNX file it names (validate-config --check)',
      );
    const model = det.status.model;
    const results: string[] = [];
    let asked: { source: string } | undefined;
    for (const s of scans) {
      const a = det.begin({ ...s.scan.meta, laneId: lane.id });
      for (const b of s.batches) a.pushLines(b);
      const d = await a.finish(s.scan);
      const decided = alertThreshold(lane.thresholds, d);
      if (decided.warning) asked = decided;
      const threshold = decided.value;
      const person = d.score >= threshold;
      const line = `${s.name}: score ${d.score.toFixed(3)} (threshold ${threshold}), ${Math.round(d.msInference)} ms`;
      if (person !== s.expectPerson)
        return fail(
          'model',
          target,
          `${model.name} ${model.version} ${person ? 'alarms on' : 'misses'} the self-test ${line}`,
          'a damaged or wrong model, or a lanes[].thresholds.alert that does not suit it: reinstall the release, or check the threshold against the model card',
        );
      results.push(line);
    }
    const loaded = `${model.name} ${model.version} loaded; self-test ${results.join('; ')}`;
    if (asked)
      return warn(
        'model',
        target,
        `${loaded}; ${asked.source}`,
        'install a model whose manifest.json names operatingPoint.heldOut, or set lanes[].thresholds.alert to a score',
      );
    return ok('model', target, loaded);
  } finally {
    await det.close();
  }
}
