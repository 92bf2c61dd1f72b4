import type { CompletedScan, Detection, LineBatch, ModelIdentity, ScanMeta } from './domain.js';

/** Whether a detector can analyse scans now, and if not, why (shown to operators as is). */
export type DetectorStatus =
  | { state: 'ready'; model: ModelIdentity }
  | { state: 'unavailable'; reason: string; model?: ModelIdentity };

/** One scan being analysed while its lines arrive. */
export interface StreamingAnalysis {
  /** Feeds lines as they arrive; work may start before the scan ends. Never throws. */
  pushLines(batch: LineBatch): void;
  /** The scan is complete: finish the analysis. Rejects on an inference error. */
  finish(scan: CompletedScan): Promise<Detection>;
  /** The scan was aborted: drop any pending work. */
  cancel(): void;
}

/**
 * What the lane needs from a concealed-person detector (implemented in inference/).
 * status is read before each scan; begin() is only called while status is ready.
 */
export interface Detector {
  readonly status: DetectorStatus;
  /** Subscribe to status changes (model loaded, model lost, inference errors). */
  onStatus(listener: (status: DetectorStatus) => void): () => void;
  begin(meta: ScanMeta): StreamingAnalysis;
}

/** The detector used when none is configured or the model could not be loaded. */
export class UnavailableDetector implements Detector {
  readonly status: DetectorStatus;

  constructor(reason: string) {
    this.status = { state: 'unavailable', reason };
  }

  onStatus(): () => void {
    return () => {};
  }

  begin(): StreamingAnalysis {
    throw new Error(`detection unavailable: ${this.status.state === 'unavailable' ? this.status.reason : ''}`);
  }
}
