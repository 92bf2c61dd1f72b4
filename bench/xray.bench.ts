import { defineBench, median } from './harness.js';
import { type SynthOptions, synthesizeScan } from '../sim/xray/index.js';

/**
 * X-ray synthesizer speed on one core (this thread; the synthesizer is single-threaded). Target for
 * the full-size scan: under 1 s. Both wall time and this process's CPU time are reported: on a
 * machine shared with other work the wall time includes waiting for a core, the CPU time does not.
 * Seeds rotate so that scenes vary (cargo kinds differ in cost); the same seeds on every run.
 */
const TARGET_MS = 1000;

function measure(runs: number, opts: (k: number) => SynthOptions): { wall: number[]; cpu: number[] } {
  for (let k = 0; k < 2; k++) synthesizeScan(opts(1000 + k)); // warm-up (JIT)
  const wall: number[] = [],
    cpu: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    synthesizeScan(opts(k));
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall, cpu };
}

/** The full-size bench scan k: 1,000 channels x 3,000 lines at 5 mm, both energies, an articulated truck. */
const fullScan = (k: number): SynthOptions => ({
  seed: 500 + k,
  dual: true,
  channels: 1000,
  lines: 3000,
  pixelMm: 5,
  vehicleClass: 'articulated',
  personShare: 0.5,
});

const verdict = (ms: number) => `target < ${TARGET_MS} ms: ${ms < TARGET_MS ? 'met' : 'NOT met'}`;

export default defineBench({
  area: 'xray',
  async run(ctx) {
    if (ctx.wants('xray.generate_1000x3000_dual') || ctx.wants('xray.generate_1000x3000_dual_cpu')) {
      const { wall, cpu } = measure(9, fullScan);
      ctx.report(
        'xray.generate_1000x3000_dual',
        wall,
        'ms',
        `1,000 channels x 3,000 lines, both energies, articulated truck, wall time on one thread; ${verdict(median(wall))}`,
      );
      ctx.report(
        'xray.generate_1000x3000_dual_cpu',
        cpu,
        'ms',
        `same scans, CPU time of the generating thread; ${verdict(median(cpu))}`,
      );
    }
    if (ctx.wants('xray.generate_10mm_dual')) {
      const { wall } = measure(9, (k) => ({ seed: 900 + k, dual: true, pixelMm: 10 }));
      ctx.report(
        'xray.generate_10mm_dual',
        wall,
        'ms',
        'training-size scan: 10 mm pitch, 500 channels, mixed vehicles, both energies, one thread',
      );
    }
    if (ctx.wants('xray.generate_1000x3000_dual_fan')) {
      const { wall } = measure(9, (k) => ({ ...fullScan(k), fanBeam: true }));
      ctx.report(
        'xray.generate_1000x3000_dual_fan',
        wall,
        'ms',
        `the scans of xray.generate_1000x3000_dual projected with a fan beam (geometry drawn per scan), wall time on one thread; ${verdict(median(wall))}`,
      );
    }
  },
});
