import { createInterface } from 'node:readline';
import type { ScannerState } from '../../firmware-bridge/scanner/opcua/scanner-values.js';
import { choiceOption, integerOption, parseCommandArgs, usageError } from '../../core/command-line.js';
import { createLogger } from '../../core/logger.js';
import { onShutdownSignal } from '../../app/shutdown-signal.js';
import {
  ScannerOpcuaServer,
  SIM_INTERLOCK_NAMES,
  SIM_INTERLOCKS,
  SIM_RESOURCE_PATH,
  type SimInterlock,
} from './opcua-server.js';

const USAGE = `Usage: checkpoint-edge sim opcua [options]

An OPC UA server that behaves like a scanner's control system: object ns=1;s=Scanner with
State (Off, Ready, Armed, Scanning, Fault), Interlocks (UInt32, a set bit is an open interlock:
${SIM_INTERLOCK_NAMES.map((n, i) => `${i} ${n}`).join(', ')}), Fault (text), VehicleSpeed (km/h),
RadiationOn, and the methods Arm (refused with BadInvalidState unless Ready with every interlock
closed) and Abort. Endpoints: security None, and Sign/SignAndEncrypt with Basic256Sha256,
Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss; every client certificate is accepted.

Options:
  --port <port>        TCP port (default 4840; 0 = any free port)
  --host <address>     listen address (default 127.0.0.1)
  --pki-dir <dir>      keep the server certificate here, so clients that trust it go on
                       trusting it (default: a temporary folder, removed at exit)
  --state <state>      state at start: Off, Ready, Armed, Scanning or Fault (default Ready)
  --cycle-ms <ms>      a vehicle passage by itself every so often: arm, scan, ready (default 0 = off)
  --pass-ms <ms>       time a vehicle takes to pass in those passages (default 4000)
  --user <name:pass>   also accept this user name and password (anonymous stays accepted);
                       may be given more than once
  --help               show this help

Commands on stdin, one a line: on, off, arm, abort, begin [km/h], end, fault <text>, clear,
open <interlock>, close <interlock>, speed <km/h>, state. Interlocks: ${SIM_INTERLOCK_NAMES.join(', ')}.`;

const CMD = 'sim opcua';

function int(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  return integerOption(CMD, name, raw, min, max) ?? def;
}

/**
 * The interlock a typed name means: the documented kebab-case names (exclusion-zone, as in
 * docs/opcua.md and scanner.opcua.interlockNames) or the bit's camelCase name (exclusionZone).
 */
export function simInterlock(name: string): SimInterlock {
  const bit = SIM_INTERLOCK_NAMES.indexOf(name.toLowerCase());
  const key =
    bit >= 0
      ? (Object.keys(SIM_INTERLOCKS) as SimInterlock[]).find((k) => SIM_INTERLOCKS[k] === 1 << bit)
      : Object.hasOwn(SIM_INTERLOCKS, name)
        ? (name as SimInterlock)
        : undefined;
  if (!key) throw new Error(`unknown interlock "${name}": one of ${SIM_INTERLOCK_NAMES.join(', ')}`);
  return key;
}

/** Runs one stdin command against the simulator; returns what to print. */
export function runSimCommand(sim: ScannerOpcuaServer, line: string): string {
  const [word, ...rest] = line.trim().split(/\s+/);
  const arg = rest.join(' ');
  const interlock = (): SimInterlock => simInterlock(arg);
  const kmh = (def: number): number => {
    const n = arg === '' ? def : Number(arg);
    if (!Number.isFinite(n) || n < 0 || n > 200) throw new Error(`expected a speed 0-200 km/h, got "${arg}"`);
    return n;
  };
  switch (word) {
    case '':
      return '';
    case 'on':
      sim.powerOn();
      break;
    case 'off':
      sim.powerOff();
      break;
    case 'arm':
      return `arm: ${sim.arm()}`;
    case 'abort':
      return `abort: ${sim.abort()}`;
    case 'begin':
      sim.beginScan(kmh(5));
      break;
    case 'end':
      sim.endScan();
      break;
    case 'fault':
      sim.injectFault(arg || 'simulated fault');
      break;
    case 'clear':
      sim.clearFault();
      break;
    case 'open':
      sim.openInterlock(interlock());
      break;
    case 'close':
      sim.closeInterlock(interlock());
      break;
    case 'speed':
      sim.setSpeed(kmh(0));
      break;
    case 'state':
      break;
    default:
      throw new Error(
        `unknown command "${word}": on, off, arm, abort, begin [km/h], end, fault <text>, clear, open <interlock>, close <interlock>, speed <km/h>, state`,
      );
  }
  const open = SIM_INTERLOCK_NAMES.filter((_, bit) => (sim.interlocks >>> bit) & 1);
  return `state ${sim.state}; interlocks open: ${open.join(', ') || 'none'}; radiation ${sim.radiationOn ? 'on' : 'off'}${sim.fault ? `; fault: ${sim.fault}` : ''}`;
}

export default async function runOpcuaSim(argv: string[]): Promise<number> {
  const args = parseCommandArgs({ name: CMD, usage: USAGE }, argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'pki-dir': { type: 'string' },
    state: { type: 'string' },
    'cycle-ms': { type: 'string' },
    'pass-ms': { type: 'string' },
    user: { type: 'string', multiple: true },
  });
  if (!args) return 0;
  const v = args.values;
  const log = createLogger({ level: 'info', stderr: true });
  const state = choiceOption<ScannerState>(CMD, 'state', v.state, ['Off', 'Ready', 'Armed', 'Scanning', 'Fault']);
  const cycleMs = int('cycle-ms', v['cycle-ms'], 0, 0, 3_600_000);
  const passMs = int('pass-ms', v['pass-ms'], 4000, 100, 600_000);
  const users: Record<string, string> = {};
  for (const u of v.user ?? []) {
    const i = u.indexOf(':');
    if (i < 1) throw usageError(CMD, `--user expects <name>:<password>, got "${u.replace(/:.*/, ':...')}"`);
    users[u.slice(0, i)] = u.slice(i + 1);
  }
  const sim = new ScannerOpcuaServer({
    port: int('port', v.port, 4840, 0, 65535),
    host: v.host ?? '127.0.0.1',
    ...(v['pki-dir'] ? { pkiDir: v['pki-dir'] } : {}),
    initialState: state ?? 'Ready',
    users,
    log,
  });
  const endpoint = await sim.start();
  process.stdout.write(
    `opcua simulator: ${endpoint} (resource path ${SIM_RESOURCE_PATH}; server certificate ${sim.certificateFile})\n`,
  );
  sim.on('state', (state, previous) => process.stdout.write(`state ${previous} -> ${state}\n`));
  sim.on('call', (c) => process.stdout.write(`method ${c.method}: ${c.statusCode}\n`));

  const timers = new Set<NodeJS.Timeout>();
  if (cycleMs > 0) {
    const cycle = setInterval(() => {
      if (sim.arm() !== 'Good') return;
      sim.beginScan(5);
      const t = setTimeout(() => {
        timers.delete(t);
        if (sim.state === 'Scanning') sim.endScan();
      }, passMs);
      timers.add(t);
    }, cycleMs);
    timers.add(cycle);
  }

  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    try {
      const out = runSimCommand(sim, line);
      if (out) process.stdout.write(`${out}\n`);
    } catch (err) {
      process.stdout.write(`error: ${(err as Error).message}\n`);
    }
  });
  return onShutdownSignal(log, 5000, async () => {
    rl.close();
    for (const t of timers) clearTimeout(t);
    await sim.stop();
  });
}
