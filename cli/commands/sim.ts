import { EXIT, type CliCommand } from '../../core/command-line.js';

/** Simulators, each in its own sim/<name>/cli.ts, loaded on demand. */
const SIMS: Record<string, { summary: string; load: () => Promise<((argv: string[]) => Promise<number>) | null> }> = {
  camera: {
    summary: 'lane cameras over HTTP: MJPEG, snapshots, fault injection',
    load: async () => (await import('../../sim/camera/cli.js')).default,
  },
  opcua: {
    summary: 'scanner control over OPC UA: state machine, interlocks, Arm/Abort, faults',
    load: async () => (await import('../../sim/scanner/opcua-cli.js')).default,
  },
  filedrop: {
    summary: 'scanner file export: 16-bit PNG + JSON or 8-bit JPEG + vendor XML into a drop folder',
    load: async () => (await import('../../sim/scanner/cli.js')).runFileDropSim,
  },
  scanner: {
    summary: 'scanner line stream over TCP or serial: realistic line rate, fault injection',
    load: async () => (await import('../../sim/scanner/cli.js')).runScannerSim,
  },
  co2: {
    summary: 'CO2 probe on Modbus TCP/RTU: people raise CO2 by volume and leakage, faults',
    load: async () => (await import('../../sim/sensors/cli.js')).runCo2Sim,
  },
  heartbeat: {
    summary: 'heartbeat detector on Modbus TCP/RTU: score, signal quality, engine off, faults',
    load: async () => (await import('../../sim/sensors/cli.js')).runHeartbeatSim,
  },
  xray: {
    summary: 'labelled data sets of synthetic dual-energy vehicle X-ray scans',
    load: async () => (await import('../../sim/xray/cli.js')).runXraySim,
  },
};

const cmd: CliCommand = {
  name: 'sim',
  summary: 'simulators',
  get usage() {
    const names = Object.keys(SIMS);
    return `Usage: checkpoint-edge sim <simulator> [options]

Simulators that speak the same protocols as the real devices:
${names.length ? names.map((n) => `  ${n.padEnd(10)} ${SIMS[n].summary}`).join('\n') : '  (none in this build)'}

Run 'checkpoint-edge sim <simulator> --help' for its options.`;
  },
  async run(argv) {
    const [name, ...rest] = argv;
    if (!name || name === '--help' || name === '-h') {
      process.stdout.write(`${cmd.usage}\n`);
      return name ? EXIT.ok : EXIT.usage;
    }
    const sim = SIMS[name];
    if (!sim) {
      process.stderr.write(`sim: unknown simulator "${name}"\n\n${cmd.usage}\n`);
      return EXIT.usage;
    }
    const run = await sim.load();
    return run ? run(rest) : EXIT.failure;
  },
};
export default cmd;
