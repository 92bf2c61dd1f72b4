import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ScannerStreamSim } from '../../../../sim/scanner/line-stream-sim.js';
import { arraySource } from '../../../../sim/scanner/scan-source.js';
import { patternScan } from '../../../helpers/line-stream.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('scanner simulator listeners', () => {
  it('waiting for the host to drain a slow link, and reconnecting, leave no listeners behind (no MaxListenersExceededWarning)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => void warnings.push(w);
    process.on('warning', onWarning);
    cleanup.push(() => void process.off('warning', onWarning));
    // Wide lines, fast: the socket buffer fills, so the simulator waits for 'drain' many times.
    const sim = new ScannerStreamSim({
      source: arraySource([patternScan(1, 6000, 2048), patternScan(2, 6000, 2048), patternScan(3, 6000, 2048)]),
      scans: 3,
      lineRateHz: 20_000,
      gapMs: 0,
      heartbeatMs: 1000,
    });
    const addr = await sim.listenTcp(0);
    cleanup.push(() => sim.stop());
    let received = 0;
    for (let connection = 1; connection <= 2; connection++) {
      const host = connect(addr.port, addr.host);
      host.on('error', () => {});
      host.on('data', (d: Buffer) => {
        received += d.length;
        // a slow reader: pause a little every chunk
        host.pause();
        setTimeout(() => host.resume(), 1);
      });
      await once(host, 'connect');
      await expect.poll(() => sim.report.connections, { timeout: 5000 }).toBe(connection);
      const before = received;
      await expect.poll(() => received - before, { timeout: 20_000 }).toBeGreaterThan(3_000_000);
      host.destroy(); // the host goes away mid-scan; the next connection continues
      await new Promise((r) => setTimeout(r, 300)); // the simulator sees the close before the next connection
    }
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
  });

  it('streaming over a serial pty through an unplug and a replug leaves no listeners behind (no MaxListenersExceededWarning)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => void warnings.push(w);
    process.on('warning', onWarning);
    cleanup.push(() => void process.off('warning', onWarning));
    const dir = mkdtempSync(join(tmpdir(), 'sim-pty-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    /** socat links two ptys: a null-modem cable between a and b; killing it is an unplug. */
    const plug = async (): Promise<ChildProcess> => {
      const proc = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
      for (let i = 0; i < 100 && !(existsSync(a) && existsSync(b)); i++) await sleep(20);
      if (!existsSync(a) || !existsSync(b)) throw new Error('socat made no pty pair in 2 s (is socat installed?)');
      return proc;
    };
    const unplug = async (proc: ChildProcess) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = once(proc, 'exit');
      proc.kill('SIGKILL');
      await gone;
    };
    let received = 0;
    const read = () => {
      const host = createReadStream(b, { highWaterMark: 4096 });
      host.on('error', () => {});
      host.on('data', (d) => {
        received += d.length;
      });
      return host;
    };
    let cable = await plug();
    cleanup.push(() => unplug(cable));
    const sim = new ScannerStreamSim({
      source: arraySource([patternScan(1, 4000, 1000)]),
      lineRateHz: 2000,
      gapMs: 0,
      heartbeatMs: 200,
    });
    cleanup.push(() => sim.stop());
    await sim.openSerial(a, 3_000_000);
    let host = read();
    await expect.poll(() => received, { timeout: 10_000 }).toBeGreaterThan(2_000_000);
    host.destroy();
    await unplug(cable);
    cable = await plug();
    host = read();
    cleanup.push(() => void host.destroy());
    const before = received;
    await expect.poll(() => received - before, { timeout: 15_000 }).toBeGreaterThan(2_000_000);
    expect(sim.report.connections).toBeGreaterThanOrEqual(2);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
  }, 40_000);
});
