import type { Detection, Region } from '../../../core/domain.js';
import type { Detector, DetectorStatus, StreamingAnalysis } from '../../../core/detector.js';

/**
 * Stands in for the ONNX model in console tests: the lane pipeline, bus and console are real;
 * the detection a scan gets is the one the test queued.
 */
export class ScriptedDetector implements Detector {
  readonly status: DetectorStatus = { state: 'ready', model: { name: 'scripted-test-model', version: '1' } };
  readonly #queue: { score: number; regions: Region[] }[] = [];

  onStatus(): () => void {
    return () => {};
  }

  /** The detection of the next scan that ends. */
  next(score: number, regions: Region[]): void {
    this.#queue.push({ score, regions });
  }

  begin(): StreamingAnalysis {
    return {
      pushLines: () => {},
      finish: async (): Promise<Detection> => {
        const d = this.#queue.shift();
        if (!d) throw new Error('scripted detector: the test queued no detection for this scan');
        return { ...d, model: { name: 'scripted-test-model', version: '1' }, msAfterEnd: 1, msInference: 1 };
      },
      cancel: () => {},
    };
  }
}

export const scriptedDetector = new ScriptedDetector();
