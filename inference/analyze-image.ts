import type { Detector } from '../core/detector.js';
import type { Detection, ScanImage, ScanMeta } from '../core/domain.js';

/** Analyses a whole image at once (files, evaluation): the same path a streamed scan ends in. */
export async function analyzeImage(detector: Detector, image: ScanImage, scanId = 'file'): Promise<Detection> {
  const meta: ScanMeta = {
    scanId,
    laneId: 'offline',
    startedAt: new Date().toISOString(),
    channels: image.height,
    energies: image.low ? 2 : 1,
    pixelMm: image.pixelMm,
    ...(image.lineMm !== undefined ? { lineMm: image.lineMm } : {}),
    source: 'file',
  };
  return detector.begin(meta).finish({ meta, endedAt: meta.startedAt, image });
}
