import { pino, type Logger as PinoLogger, type LoggerOptions as PinoOptions } from 'pino';
import pinoPretty from 'pino-pretty';
import { redactText } from './redact.js';
import { RotatingLogFile } from './rotating-log-file.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  level?: string;
  /** json: one JSON object per line (for journald, log shippers); pretty: readable in a terminal. */
  format?: 'json' | 'pretty';
  /** Write to this file descriptor; default stdout. Tests pass a stream instead. */
  destination?: NodeJS.WritableStream;
  /** Log to stderr, keeping stdout for a command's own output (the demo's summary lines). */
  stderr?: boolean;
  /** Also write JSON lines to this file, rotated by size (log.file in the config). */
  file?: { path: string; maxMb: number; keep: number } | undefined;
}

/** Keys whose values never reach a log line, wherever they appear. */
const REDACTED_KEYS = ['password', 'passwordFile', 'secret', 'token', 'key', 'passphrase', 'authorization', 'cookie'];

/** A string with URL credentials redacted; plain objects walked a few levels deep. */
function scrub(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return redactText(v);
  if (
    depth < 4 &&
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.getPrototypeOf(v) === Object.prototype
  ) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x, depth + 1)]));
  }
  return v;
}

/**
 * What every logger of the runtime shares: secret keys censored wherever they appear, and the
 * user information of any URL in a message, a field or an error redacted (runtime/redact.ts).
 */
export function loggerOptions(level: string): LoggerOptions_ {
  return {
    level,
    redact: { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]), censor: '[redacted]' },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>);
      },
    },
    formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
    serializers: {
      err: (e: Error) => {
        const o = pino.stdSerializers.err(e);
        o.message = redactText(o.message);
        if (o.stack) o.stack = redactText(o.stack);
        return o;
      },
    },
  };
}

type LoggerOptions_ = PinoOptions<never>;

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const base = loggerOptions(level);
  if (opts.file) {
    // The terminal or journal as configured, and the same lines as JSON into the rotated file.
    const terminal =
      opts.destination ??
      (opts.format === 'pretty'
        ? pinoPretty({
            destination: opts.stderr ? 2 : 1,
            colorize: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
            ignore: 'pid,hostname',
            singleLine: true,
            translateTime: 'HH:MM:ss.l',
          })
        : pino.destination(opts.stderr ? 2 : 1));
    const file = new RotatingLogFile({
      path: opts.file.path,
      maxBytes: opts.file.maxMb * 2 ** 20,
      keep: opts.file.keep,
    });
    return pino(
      base,
      pino.multistream([
        { level: level as pino.Level, stream: terminal },
        { level: level as pino.Level, stream: file },
      ]),
    );
  }
  if (opts.format === 'pretty' && !opts.destination) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: {
          destination: opts.stderr ? 2 : 1,
          colorize: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
          ignore: 'pid,hostname',
          singleLine: true,
          translateTime: 'HH:MM:ss.l',
        },
      },
    });
  }
  if (opts.destination) return pino(base, opts.destination);
  return opts.stderr ? pino(base, pino.destination(2)) : pino(base);
}

/** A logger that drops everything (unit tests of one piece). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
