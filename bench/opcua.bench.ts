import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opcua } from '../config/schema/scanner.js';
import { ScannerOpcuaClient } from '../firmware-bridge/scanner/opcua/scanner-opcua-client.js';
import type { DeviceStatus } from '../core/domain.js';
import { EventBus } from '../core/event-bus.js';
import type { LaneEvents } from '../core/events.js';
import { silentLogger } from '../core/logger.js';
import { ScannerOpcuaServer } from '../sim/scanner/opcua-server.js';
import { defineBench, percentile } from './harness.js';

/**
 * The scanner's OPC UA control path against the simulator on localhost: how long a state change
 * on the server takes to reach the lane bus as device.status (samplingMs 100, the default), and
 * the round trip of a method call.
 */
export default defineBench({
  area: 'opcua',
  async run(ctx) {
    const log = silentLogger();
    const sim = new ScannerOpcuaServer({ port: 0, log });
    const t0 = performance.now();
    const endpoint = await sim.start();
    const serverStartMs = performance.now() - t0;
    const pkiDir = mkdtempSync(join(tmpdir(), 'opcua-bench-'));
    const bus = new EventBus<LaneEvents>(log);
    let waiter: ((s: DeviceStatus) => void) | null = null;
    bus.on('device.status', 'bench', (s) => waiter?.(s));
    const until = (match: (s: DeviceStatus) => boolean) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('opcua bench: no status within 10 s')), 10_000);
        waiter = (s) => {
          if (!match(s)) return;
          clearTimeout(timer);
          waiter = null;
          resolve(performance.now());
        };
      });
    const client = new ScannerOpcuaClient({
      laneId: 'bench',
      config: opcua.parse({ endpoint }),
      reconnect: { initialMs: 100, maxMs: 500 },
      pkiDir,
      bus,
      log,
    });
    try {
      const c0 = performance.now();
      const connected = until((s) => s.state === 'ok');
      await client.start();
      const connectMs = (await connected) - c0;

      const latency: number[] = [];
      for (let i = 0; i < 20; i++) {
        const target = i % 2 === 0 ? 'Off' : 'Ready';
        const seen = until((s) => s.info?.scannerState === target);
        const t = performance.now();
        if (target === 'Off') sim.powerOff();
        else sim.powerOn();
        latency.push((await seen) - t);
      }
      ctx.report(
        'opcua.state-change-to-status',
        latency,
        'ms',
        `samplingMs 100; p95 ${percentile(latency, 95).toFixed(1)} ms; acceptance < 500 ms`,
      );

      const calls: number[] = [];
      for (let i = 0; i < 10; i++) {
        calls.push((await client.arm()).ms);
        calls.push((await client.abort()).ms);
      }
      ctx.report('opcua.method-call', calls, 'ms', 'Arm and Abort, security None');
      ctx.report('opcua.first-connection', connectMs, 'ms', 'includes making the client certificate');
      ctx.report('opcua.simulator-start', serverStartMs, 'ms', 'node-opcua loading its standard address space');
    } finally {
      await client.stop();
      await sim.stop();
      rmSync(pkiDir, { recursive: true, force: true });
    }
  },
});
