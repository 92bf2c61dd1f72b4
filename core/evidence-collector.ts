import type { EvidenceRef, ScanImage, ScanResult } from './domain.js';

/**
 * Produces the evidence (scan picture with regions, camera snapshots) for a decided scan. It is
 * awaited before the verdict is published, so it should name the files and return their
 * references promptly, writing them afterwards.
 */
export interface EvidenceCollector {
  collect(result: ScanResult, image: ScanImage | undefined): Promise<EvidenceRef[]>;
}
