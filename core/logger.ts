import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export interface LoggerOptions {
  level?: string;
  /** json: one JSON object per line (for journald, log shippers); pretty: readable in a terminal. */
  format?: 'json' | 'pretty';
  /** Write to this file descriptor; default stdout. Tests pass a stream instead. */
  destination?: NodeJS.WritableStream;
  /** Log to stderr, keeping stdout for a command's own output (the demo's summary lines). */
  stderr?: boolean;
}

/** Keys whose values never reach a log line, wherever they appear. */
const REDACTED_KEYS = ['password', 'passwordFile', 'secret', 'token', 'key', 'passphrase', 'authorization', 'cookie'];

export function createLogger(opts: LoggerOptions = {}): Logger {
  const redact = {
    paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]),
    censor: '[redacted]',
  };
  const level = opts.level ?? 'info';
  if (opts.format === 'pretty' && !opts.destination) {
    return pino({
      level,
      redact,
      transport: { target: 'pino-pretty', options: { destination: opts.stderr ? 2 : 1, colorize: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR, ignore: 'pid,hostname', singleLine: true, translateTime: 'HH:MM:ss.l' } },
    });
  }
  if (opts.destination) return pino({ level, redact }, opts.destination);
  return opts.stderr ? pino({ level, redact }, pino.destination(2)) : pino({ level, redact });
}

/** A logger that drops everything (unit tests of one piece). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
