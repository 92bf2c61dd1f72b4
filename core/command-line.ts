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

function usageHint(cmd: string): string {
  return `Run 'checkpoint-edge ${cmd} --help' for usage.`;
}

/** A number option within [min, max] (whole numbers only with integer: true); undefined when not given. */
export function numberOption(
  cmd: string,
  name: string,
  raw: string | undefined,
  range: { min: number; max: number; integer?: boolean },
): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  const ok = range.integer ? Number.isInteger(n) : Number.isFinite(n);
  if (!ok || n < range.min || n > range.max) {
    throw new UsageError(
      `${cmd}: --${name} expects ${range.integer ? 'an integer' : 'a number'} ${range.min}-${range.max}, got "${raw}"\n${usageHint(cmd)}`,
    );
  }
  return n;
}

/** A whole-number option within [min, max]; undefined when not given. */
export function integerOption(
  cmd: string,
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  return numberOption(cmd, name, raw, { min, max, integer: true });
}

/** An option that takes one of a few words; undefined when not given. */
export function choiceOption<T extends string>(
  cmd: string,
  name: string,
  raw: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T))
    throw new UsageError(`${cmd}: --${name} expects one of ${allowed.join(', ')}, got "${raw}"\n${usageHint(cmd)}`);
  return raw as T;
}

/** A required option's value. */
export function requiredOption(cmd: string, name: string, raw: string | undefined, what = `<${name}>`): string {
  if (raw === undefined || raw === '') throw new UsageError(`${cmd}: --${name} ${what} is required\n${usageHint(cmd)}`);
  return raw;
}

/** A usage problem of a command, with the hint to its help. */
export function usageError(cmd: string, message: string): UsageError {
  return new UsageError(`${cmd}: ${message}\n${usageHint(cmd)}`);
}
