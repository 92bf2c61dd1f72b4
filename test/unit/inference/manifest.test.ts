import { describe, expect, it } from 'vitest';
import { type ModelManifest, operatingThresholds } from '../../../inference/manifest.js';

const withPoint = (operatingPoint: ModelManifest['operatingPoint']) => ({ operatingPoint }) as ModelManifest;

describe('the thresholds a manifest names', () => {
  it("decides a lane's default at the operating point, or at the held-out point where laneDefault says so", () => {
    expect(operatingThresholds(withPoint(undefined))).toEqual({});
    expect(operatingThresholds(withPoint({ scoreThreshold: 0.39 }))).toEqual({ operatingThreshold: 0.39 });
    const both = { scoreThreshold: 0.39, heldOut: { scoreThreshold: 0.96 } };
    expect(operatingThresholds(withPoint(both))).toEqual({ operatingThreshold: 0.39, heldOutThreshold: 0.96 });
    expect(operatingThresholds(withPoint({ ...both, laneDefault: 'heldOut' }))).toEqual({
      operatingThreshold: 0.96,
      heldOutThreshold: 0.96,
    });
    // A laneDefault naming a point the manifest lacks falls back to the operating point.
    expect(operatingThresholds(withPoint({ scoreThreshold: 0.39, laneDefault: 'heldOut' }))).toEqual({
      operatingThreshold: 0.39,
    });
  });
});
