import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One CLI command: `checkpoint-edge <name> …`. */
export interface CliCommand {
  name: string;
  summary: string;
  /** Full help text printed by `--help`. */
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Exit codes used by every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export class UsageError extends Error {}

/**
 * parseArgs with errors turned into a UsageError that names the command, and `--help` handled.
 * Returns null when help was printed.
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  cmd: Pick<CliCommand, 'name' | 'usage'>,
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${cmd.usage.trim()}\n`);
    return null;
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(`${cmd.name}: ${(err as Error).message}\nRun 'checkpoint-edge ${cmd.name} --help' for usage.`);
  }
}
