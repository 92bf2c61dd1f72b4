import type { ScanMeta, ScanResult } from '../../core/domain.js';

/**
 * Test builders: a plausible domain object whose fields a test overrides where they matter to it,
 * so that a new field of the type is added here once.
 */

/** A completed, clear scan of lane-1 at site-a, decided by model m 1. */
export function scanResult(overrides: Partial<ScanResult> = {}): ScanResult {
  return {
    scanId: 'S-1',
    laneId: 'lane-1',
    siteId: 'site-a',
    startedAt: '2026-01-14T10:00:00.000Z',
    endedAt: '2026-01-14T10:00:10.000Z',
    decidedAt: '2026-01-14T10:00:11.000Z',
    outcome: 'completed',
    verdict: 'clear',
    score: 0.1,
    regions: [],
    model: { name: 'm', version: '1' },
    lines: 100,
    channels: 64,
    missingLines: 0,
    evidence: [],
    ...overrides,
  };
}

/** The start of a single-energy streamed scan of lane-1: 64 channels at 5 mm, started now. */
export function scanMeta(overrides: Partial<ScanMeta> = {}): ScanMeta {
  return {
    scanId: 'S-1',
    laneId: 'lane-1',
    startedAt: new Date().toISOString(),
    channels: 64,
    energies: 1,
    pixelMm: 5,
    source: 'stream',
    ...overrides,
  };
}
