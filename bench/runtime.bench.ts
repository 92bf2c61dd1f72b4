import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineBench } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'bin', 'checkpoint-edge.js');

/** Peak resident memory (VmHWM) of a whole demo lane process while it decides `scans` scans. */
async function demoPeakRssMb(scans: number): Promise<{ peakMb: number; ms: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-demo-'));
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      CLI,
      'demo',
      '--scans',
      String(scans),
      '--gap-ms',
      '200',
      '--seed',
      '11',
      '--port',
      '0',
      '--mqtt-port',
      '0',
      '--no-central',
      '--data-dir',
      dataDir,
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let peakKb = 0;
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // the process has exited
    }
  };
  const timer = setInterval(read, 100);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearInterval(timer);
  rmSync(dataDir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`demo exited with ${code}`);
  return { peakMb: peakKb / 1024, ms: performance.now() - t0 };
}

export default defineBench({
  area: 'runtime',
  async run(ctx) {
    if (!ctx.wants('runtime.demo-lane.peak-rss')) return;
    const peaks: number[] = [];
    for (let i = 0; i < 3; i++) peaks.push((await demoPeakRssMb(6)).peakMb);
    ctx.report(
      'runtime.demo-lane.peak-rss',
      peaks,
      'MiB',
      'whole demo process (scanner, OPC UA and camera simulators, embedded broker, runtime with model, console) deciding 6 synthesized 1,000-channel dual-energy scans; VmHWM',
    );
  },
});
