import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { SensorSimulator } from '../../../../sim/sensors/sensor-sim.js';
import { ptyPair } from '../../../helpers/pty.js';

const run = promisify(execFile);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The values mbpoll printed, by 0-based register address ("[1]: 	812" with -r 1 is address 0). */
function registers(stdout: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)) out.set(Number(m[1]) - 1, Number(m[2]));
  return out;
}

async function mbpoll(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run('mbpoll', args, { timeout: 10_000 });
    return { ...r, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string; message: string };
    if (e.code === 'ENOENT') throw new Error('mbpoll is not installed: apt-get install mbpoll');
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? e.message, code: typeof e.code === 'number' ? e.code : -1 };
  }
}

describe('Debian mbpoll reads the sensor simulators (real Modbus)', () => {
  it('reads the CO2 probe over Modbus TCP: holding registers 0-3 hold ppm, temperature ×0.1, humidity ×0.1, status', async () => {
    const sim = new SensorSimulator('co2', { seed: 3 });
    cleanup.push(() => sim.stop());
    const { port } = await sim.listenTcp(0);
    // A container with 3 people shut in for 4 hours: far above outdoor air.
    sim.vehicleArrives(
      { plate: 'AB123CD', vehicleClass: 'articulated (container)', people: 3 },
      { hoursInside: 4, doorOpened: false, probeDisconnected: false },
    );
    const r = await mbpoll([
      '-m',
      'tcp',
      '-a',
      '1',
      '-t',
      '4',
      '-r',
      '1',
      '-c',
      '4',
      '-1',
      '-p',
      String(port),
      '127.0.0.1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const regs = registers(r.stdout);
    expect([...regs.keys()]).toEqual([0, 1, 2, 3]);
    expect(regs.get(0)).toBeGreaterThan(1500);
    expect(regs.get(0)).toBeLessThan(10_000);
    expect(regs.get(1)! / 10).toBeGreaterThan(10);
    expect(regs.get(3)).toBe(0);
    expect(sim.slave.counters.answered).toBe(1);
  });

  it('reads the heartbeat detector over Modbus RTU on a socat pty: input registers 0-3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ce-mb-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const pty = await ptyPair(dir);
    cleanup.push(() => pty.kill());
    const sim = new SensorSimulator('heartbeat', { seed: 5, unitId: 7 });
    cleanup.push(() => sim.stop());
    await sim.openSerial(pty.b, 9600);
    sim.vehicleArrives(
      { plate: 'XY987', vehicleClass: 'box-truck', people: 2, cargoDensity: 'empty' },
      { engineRunning: false },
    );
    const r = await mbpoll([
      '-m',
      'rtu',
      '-a',
      '7',
      '-b',
      '9600',
      '-P',
      'none',
      '-d',
      '8',
      '-s',
      '1',
      '-t',
      '3',
      '-r',
      '1',
      '-c',
      '4',
      '-1',
      pty.a,
    ]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const regs = registers(r.stdout);
    expect([...regs.keys()]).toEqual([0, 1, 2, 3]);
    expect(regs.get(0)).toBeGreaterThanOrEqual(0);
    expect(regs.get(0)).toBeLessThanOrEqual(1000);
    expect(regs.get(2)).toBe(1); // engine off
    expect(sim.slave.counters.badCrc).toBe(0);
  });

  it('mbpoll sees the Modbus exception the simulator is told to answer with, and exception 2 for an address outside the map', async () => {
    const sim = new SensorSimulator('co2', { seed: 4 });
    cleanup.push(() => sim.stop());
    const { port } = await sim.listenTcp(0);
    const outside = await mbpoll([
      '-m',
      'tcp',
      '-a',
      '1',
      '-t',
      '4',
      '-r',
      '100',
      '-c',
      '2',
      '-1',
      '-p',
      String(port),
      '127.0.0.1',
    ]);
    expect(outside.code).not.toBe(0);
    expect(`${outside.stdout}${outside.stderr}`).toMatch(/Illegal data address/i);
    sim.slave.faults.exception = 4;
    const failing = await mbpoll([
      '-m',
      'tcp',
      '-a',
      '1',
      '-t',
      '4',
      '-r',
      '1',
      '-c',
      '4',
      '-1',
      '-p',
      String(port),
      '127.0.0.1',
    ]);
    expect(failing.code).not.toBe(0);
    expect(`${failing.stdout}${failing.stderr}`).toMatch(/Slave device or server failure|device failure/i);
  });
});

describe('checkpoint-edge sim co2 / sim heartbeat', () => {
  it('serves a fixed vehicle on Modbus TCP that mbpoll reads, and stops on SIGTERM', async () => {
    const { startCli } = await import('../../../helpers/cli.js');
    const cli = await startCli(
      ['sim', 'co2', '--tcp-port', '0', '--people', '4', '--vehicle-class', 'articulated (container)'],
      /Modbus TCP on 127\.0\.0\.1:(\d+)/,
    );
    cleanup.push(async () => {
      if (cli.child.exitCode === null) {
        cli.child.kill('SIGTERM');
        await cli.exited;
      }
    });
    const port = /Modbus TCP on 127\.0\.0\.1:(\d+)/.exec(cli.out())![1];
    expect(cli.out()).toMatch(/vehicle SIM-1 \(articulated \(container\)\) with 4 people/);
    const r = await mbpoll(['-m', 'tcp', '-a', '1', '-t', '4', '-r', '1', '-c', '4', '-1', '-p', port, '127.0.0.1']);
    expect(r.code, r.stderr).toBe(0);
    expect(registers(r.stdout).get(0)).toBeGreaterThan(1000);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('sim heartbeat --exception 6: mbpoll gets the busy exception', async () => {
    const { startCli } = await import('../../../helpers/cli.js');
    const cli = await startCli(
      ['sim', 'heartbeat', '--tcp-port', '0', '--exception', '6'],
      /Modbus TCP on 127\.0\.0\.1:(\d+)/,
    );
    cleanup.push(async () => {
      if (cli.child.exitCode === null) {
        cli.child.kill('SIGTERM');
        await cli.exited;
      }
    });
    const port = /Modbus TCP on 127\.0\.0\.1:(\d+)/.exec(cli.out())![1];
    const r = await mbpoll(['-m', 'tcp', '-a', '1', '-t', '3', '-r', '1', '-c', '4', '-1', '-p', port, '127.0.0.1']);
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/busy/i);
  });
});
