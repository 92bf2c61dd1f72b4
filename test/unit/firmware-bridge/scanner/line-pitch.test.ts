import { describe, expect, it } from 'vitest';
import { linePitch } from '../../../../firmware-bridge/scanner/line-pitch.js';

describe('linePitch', () => {
  it("'pixel' keeps square pixels whatever the speed", () => {
    expect(linePitch('pixel', 5, 20, 300)).toEqual({});
  });

  it("'speed' divides the vehicle's speed by the line rate: 10.8 km/h at 300 lines/s is 10 mm", () => {
    expect(linePitch('speed', 5, 10.8, 300)).toEqual({ lineMm: 10 });
    expect(linePitch('speed', 5, 2.7, 300)).toEqual({ lineMm: 2.5 });
    // the simulator's 5.4 km/h at 300 lines/s is the channels' 5 mm: square, within 1 %
    expect(linePitch('speed', 5, 5.4, 300)).toEqual({});
    expect(linePitch('speed', 5, 5.43, 300)).toEqual({});
  });

  it("'speed' without a speed or a line rate, or with a pitch out of range, says why", () => {
    expect(linePitch('speed', 5, null, 300).problem).toMatch(/no vehicle speed given \(none\)/);
    expect(linePitch('speed', 5, 0, 300).problem).toMatch(/no vehicle speed given \(0\)/);
    expect(linePitch('speed', 5, 10, undefined).problem).toMatch(/no line rate given/);
    expect(linePitch('speed', 5, 200, 300).problem).toMatch(
      /line pitch 185.19 mm from 200 km\/h at 300 lines\/s is outside 0.5-50 mm/,
    );
  });

  it('a fixed pitch applies to every scan', () => {
    expect(linePitch(8, 4, undefined, undefined)).toEqual({ lineMm: 8 });
    expect(linePitch(5, 5, 50, 300)).toEqual({});
  });
});
