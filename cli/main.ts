import { EXIT, UsageError, type CliCommand } from '../core/command-line.js';
import { version } from './version.js';

/** Commands load lazily so that `validate-config` does not pay for onnxruntime or node-opcua. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  run: {
    summary: 'run the lanes of a site from a config file (production)',
    load: async () => (await import('./commands/run.js')).default,
  },
  demo: {
    summary: 'run a whole simulated lane: simulators, runtime, embedded MQTT broker, console',
    load: async () => (await import('./commands/demo.js')).default,
  },
  analyze: {
    summary: 'analyse scan image files offline with the detection model',
    load: async () => (await import('./commands/analyze.js')).default,
  },
  eval: {
    summary: 'evaluate a model on a held-out synthetic test set',
    load: async () => (await import('./commands/eval.js')).default,
  },
  'validate-config': {
    summary: 'check a config file and list every problem',
    load: async () => (await import('./commands/validate-config.js')).default,
  },
  sim: {
    summary: 'simulators: xray, scanner, opcua, camera, filedrop',
    load: async () => (await import('./commands/sim.js')).default,
  },
  central: {
    summary:
      'reference central-command client: live alerts, lane health, remote dispositions; `central serve`: the command centre',
    load: async () => (await import('./commands/central.js')).default,
  },
  watchlist: {
    summary: 'sign and publish watchlists as central command (keygen, sign, publish, verify)',
    load: async () => (await import('./commands/watchlist.js')).default,
  },
  doctor: {
    summary: 'check a site before go-live: config, secrets, clock, disk, watchdog, scanner, cameras, broker, model',
    load: async () => (await import('./commands/doctor.js')).default,
  },
  install: {
    summary: 'install this release on a site box: release folder, service user, config, systemd unit',
    load: async () => (await import('./commands/install.js')).default,
  },
  upgrade: {
    summary: 'install this newer release, keeping data and config; the old one stays for rollback',
    load: async () => (await import('./commands/upgrade.js')).default,
  },
  rollback: {
    summary: 'switch back to the previous release',
    load: async () => (await import('./commands/rollback.js')).default,
  },
  users: {
    summary: 'manage the operator console accounts (add, passwd, remove, list)',
    load: async () => (await import('./commands/users.js')).default,
  },
};

function help(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `checkpoint-edge ${version()}: edge software for a drive-through X-ray scanner lane

Usage: checkpoint-edge <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([k, v]) => `  ${k.padEnd(w)}  ${v.summary}`)
  .join('\n')}

Options:
  --help       show help (also after a command: checkpoint-edge run --help)
  --version    print the version

Exit codes: 0 ok, 1 failure, 2 bad usage or invalid config.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  // `central serve` is the command centre itself; `central` alone is the terminal client.
  if (name === 'central' && rest[0] === 'serve')
    return runCommand(
      'central serve',
      async () => (await import('./commands/central-serve.js')).default,
      rest.slice(1),
    );
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`checkpoint-edge: unknown command "${name}"\n\n${help()}`);
    return EXIT.usage;
  }
  return runCommand(name, entry.load, rest);
}

async function runCommand(name: string, load: () => Promise<CliCommand>, rest: string[]): Promise<number> {
  try {
    const cmd = await load();
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`checkpoint-edge ${name}: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.failure;
  }
}
