import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteRuntime } from '../../../app/site-runtime.js';
import { validateConfig } from '../../../config/load.js';
import type { ScanResult } from '../../../core/domain.js';
import { silentLogger } from '../../../core/logger.js';
import { startCli } from '../../helpers/cli.js';
import { waitFor } from '../outputs/mqtt/helpers.js';

type Sim = Awaited<ReturnType<typeof startCli>>;

/** The scanner simulator's CLI in a process of its own; resolves with its TCP port. */
async function scannerSim(args: string[]): Promise<{ sim: Sim; port: number }> {
  const sim = await startCli(
    ['sim', 'scanner', '--tcp', '0', '--line-rate', '4000', '--gap-ms', '200', '--heartbeat-ms', '200', ...args],
    /scanner line stream: tcp:\/\/127\.0\.0\.1:(\d+)/,
    { timeoutMs: 60_000 },
  );
  return { sim, port: Number(/tcp:\/\/127\.0\.0\.1:(\d+)/.exec(sim.out())![1]) };
}

function kill(sim: Sim): Promise<unknown> {
  if (sim.child.exitCode !== null || sim.child.signalCode !== null) return Promise.resolve();
  const gone = new Promise((r) => sim.child.once('exit', r));
  sim.child.kill('SIGKILL');
  return gone;
}

describe('two lanes on one box, with real scanner simulators and the shipped model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-'));
  const decided: Record<string, ScanResult[]> = { 'lane-1': [], 'lane-2': [] };
  let runtime: SiteRuntime;
  let good: { sim: Sim; port: number };
  let bad: { sim: Sim; port: number };

  beforeAll(async () => {
    [good, bad] = await Promise.all([
      scannerSim(['--seed', '3']),
      // Lane 2's scanner sends garbage before one line in five and corrupts more.
      scannerSim(['--seed', '4', '--garbage', '0.2', '--bad-crc', '0.05']),
    ]);
    const lane = (id: string, port: number) => ({
      id,
      scanner: { transport: { type: 'tcp', host: '127.0.0.1', port }, reconnect: { initialMs: 50, maxMs: 200 } },
      model: { path: 'models/person-fcn', threads: 1, warmup: true },
    });
    const config = validateConfig(
      {
        site: { id: 'site-lanes' },
        dataDir: dir,
        http: { host: '127.0.0.1', port: 0 },
        console: { enabled: false },
        lanes: [lane('lane-1', good.port), lane('lane-2', bad.port)],
      },
      'lanes-test',
      {},
    );
    runtime = new SiteRuntime({ config, log: silentLogger(), version: 'test', announce: () => {} });
    await runtime.build();
    for (const l of runtime.lanes)
      l.bus.on('scan.decided', 'test', ({ result }) => {
        decided[l.id]!.push(result);
      });
    // An exception in lane 2's own handling of every line batch.
    runtime.lanes[1]!.bus.on('scan.lines', 'test-faulty-listener', () => {
      throw new Error('simulated fault in lane 2');
    });
    await runtime.start();
  }, 120_000);

  afterAll(async () => {
    await runtime?.stop();
    await Promise.all([good && kill(good.sim), bad && kill(bad.sim)]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a lane whose scanner talks garbage, throws in its listeners and then dies never stalls the other lane's verdicts", async () => {
    await waitFor(
      'verdicts on both lanes',
      () => decided['lane-1']!.length >= 2 && decided['lane-2']!.length >= 1,
      90_000,
      50,
    );
    expect(runtime.lanes[1]!.bus.listenerErrors).toBeGreaterThan(0);
    await kill(bad.sim);
    await waitFor(
      "lane 2's scanner seen as gone",
      () => runtime.lanes[1]!.health.snapshot().devices.some((d) => d.device === 'scanner' && d.state !== 'ok'),
      30_000,
      50,
    );
    const before = decided['lane-1']!.length;
    const lane2Before = decided['lane-2']!.length;
    await waitFor('three more verdicts on lane 1', () => decided['lane-1']!.length >= before + 3, 90_000, 50);
    const after = decided['lane-1']!.slice(before);
    // Real screening on lane 1, not "unavailable": its model, scanner and pipeline are its own.
    expect(after.every((r) => r.laneId === 'lane-1' && r.outcome === 'completed' && r.verdict !== 'unavailable')).toBe(
      true,
    );
    expect(runtime.lanes[0]!.health.snapshot().overall).toBe('ok');
    // Lane 2 decided nothing new after its scanner died, other than what it had in hand.
    expect(decided['lane-2']!.length - lane2Before).toBeLessThanOrEqual(1);
  }, 240_000);
});
