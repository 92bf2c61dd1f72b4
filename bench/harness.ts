/** What a benchmark file exports: `export default defineBench({...})`. */
export interface BenchFile {
  /** Area, e.g. "parser"; `npm run bench -- --filter parser` selects by area or figure name. */
  area: string;
  run(ctx: BenchContext): Promise<void>;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** How many runs the median was taken over. */
  runs: number;
  note?: string;
}

export interface BenchContext {
  /** Records a figure as the median of the samples: prints `bench <name> <value> <unit>`. */
  report(name: string, samples: number[] | number, unit: string, note?: string): void;
  /** True if this figure name is selected by --filter. */
  wants(name: string): boolean;
}

export function defineBench(b: BenchFile): BenchFile {
  return b;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Runs fn `runs` times (after `warmup` unmeasured runs) and returns each run's milliseconds. */
export async function timeRuns(runs: number, fn: () => unknown | Promise<unknown>, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** CPU time (user + system) in ms spent by this process while fn runs. */
export async function cpuMs(fn: () => unknown | Promise<unknown>): Promise<number> {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}
