/**
 * The MQTT output of a site, run from a config file with synthetic scans, for tests that kill
 * the edge process: `node bin/run-ts.js test/integration/outputs/mqtt/edge-runner.ts <config.yaml>
 * [--produce n] [--interval-ms ms] [--first k]`. Prints `ready`, then `produced <lane> <kind>
 * <id>` after each message is in the outbox, then `produced-all`. Stops cleanly on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../../../config/load.js';
import { alertFor } from '../../../../pipeline/lane-pipeline.js';
import { createLogger } from '../../../../core/logger.js';
import { fakeScan, mqttSite } from './helpers.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { produce: { type: 'string' }, 'interval-ms': { type: 'string' }, first: { type: 'string' } },
});
const config = loadConfig(positionals[0]);
const log = createLogger({ level: process.env.EDGE_LOG_LEVEL ?? 'warn', stderr: true });
const { lanes, services } = mqttSite(config, log);

for (const s of services) await s.start();
for (const lane of lanes) {
  lane.bus.on('device.status', 'runner', (s) => {
    if (s.device === 'mqtt') process.stdout.write(`mqtt ${lane.id} ${s.state} ${s.detail ?? ''}\n`);
  });
}
process.stdout.write('ready\n');

const n = Number(values.produce ?? 0);
const intervalMs = Number(values['interval-ms'] ?? 0);
const first = Number(values.first ?? 1);
const verdicts = ['clear', 'person', 'clear', 'unavailable'] as const;

function produce(i: number): void {
  for (const lane of lanes) {
    const result = fakeScan(config.site.id, lane.id, i, verdicts[i % verdicts.length]);
    lane.bus.emit('scan.decided', { result });
    process.stdout.write(`produced ${lane.id} scan ${result.scanId}\n`);
    const alert = alertFor(result);
    if (alert) {
      lane.bus.emit('alert.raised', alert);
      process.stdout.write(`produced ${lane.id} alert ${alert.alertId}\n`);
    }
  }
}

for (let i = first; i < first + n; i++) {
  produce(i);
  if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
}
process.stdout.write('produced-all\n');

process.once('SIGTERM', () => {
  void (async () => {
    for (const s of [...services].reverse()) await s.stop();
    process.stdout.write('stopped\n');
    process.exit(0);
  })();
});
setInterval(() => {}, 1 << 30);
