/**
 * One lane's scanner for the lane benchmarks, in a process of its own:
 * `node bin/run-ts.js bench/lane-scanner.ts --seed 11 --scans 12 --period-ms 10000 --line-rate 500`.
 *
 * Synthesizes `--distinct` dual-energy vehicles (1,000 channels, 5 mm; sim/xray) first, then
 * streams `--scans` of them, round and round, on the scanner line protocol over TCP. With
 * --period-ms, a vehicle begins every period (the pause after each scan is what is left of it);
 * with --gap-ms, the pause is fixed. With --pause-every N --pause-ms M, the scanner also rests
 * M ms after every N scans (the memory bench samples the runtime at rest then). Prints
 * `listening <port>` once the scans are made, and `done` when every scan has been sent.
 */
import { parseArgs } from 'node:util';
import { ScannerStreamSim } from '../sim/scanner/line-stream-sim.js';
import { arraySource, type ScanSource, synthSource, type SimScan } from '../sim/scanner/scan-source.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    scans: { type: 'string' },
    distinct: { type: 'string' },
    'period-ms': { type: 'string' },
    'gap-ms': { type: 'string' },
    'line-rate': { type: 'string' },
    'pause-every': { type: 'string' },
    'pause-ms': { type: 'string' },
  },
});
const seed = Number(values.seed ?? 11);
const distinct = Number(values.distinct ?? 4);
const lineRateHz = Number(values['line-rate'] ?? 500);

const synth = synthSource({ seed, personShare: 0.25 });
const scans: SimScan[] = [];
for (let i = 0; i < distinct; i++) scans.push(await synth.next(i));
await synth.close();
const meanMs = (scans.reduce((n, s) => n + s.width, 0) / scans.length / lineRateHz) * 1000;
const gapMs =
  values['period-ms'] !== undefined
    ? Math.max(100, Math.round(Number(values['period-ms']) - meanMs))
    : Number(values['gap-ms'] ?? 1000);

const pauseEvery = Number(values['pause-every'] ?? 0);
const pauseMs = Number(values['pause-ms'] ?? 0);
const made = arraySource(scans);
// The simulator asks for scan i before streaming it: resting there rests the scanner.
const source: ScanSource = {
  describe: made.describe,
  next: async (i) => {
    if (pauseEvery > 0 && i > 0 && i % pauseEvery === 0) await new Promise((r) => setTimeout(r, pauseMs));
    return made.next(i);
  },
  close: () => made.close(),
};
const sim = new ScannerStreamSim({
  source,
  scans: Number(values.scans ?? 10),
  lineRateHz,
  gapMs,
  heartbeatMs: 1000,
  seed,
});
const { port } = await sim.listenTcp(0);
process.stdout.write(
  `listening ${port} (${scans.map((s) => `${s.width}x${s.height}`).join(' ')}; ${lineRateHz} lines/s, ${gapMs} ms between vehicles)\n`,
);
await sim.finished;
process.stdout.write('done\n');
await sim.stop();
process.exit(0);
