import { CentralCommand } from '../../central/central-service.js';
import { type CentralConfig, centralConfigSchema, loadCentralConfig } from '../../central/config.js';
import { secretValues } from '../../config/load.js';
import { createLogger } from '../../core/logger.js';
import { redactText } from '../../core/redact.js';
import { onShutdownSignal } from '../../app/shutdown-signal.js';
import { EXIT, parseCommandArgs, UsageError, type CliCommand } from '../../core/command-line.js';

const cmd: CliCommand = {
  name: 'central serve',
  summary: 'run the central command centre: every site and lane, alerts, remote review, movements, figures',
  usage: `Usage: checkpoint-edge central serve --config <central.yaml>

Runs the central command centre: takes in every lane's scans, alerts, events, status and
availability (from one site's MQTT broker, or from a NATS JetStream cluster whose MQTT listener
the lanes use), stores them in PostgreSQL (embedded PGlite by default), and serves the web UI and
JSON API with /healthz and /metrics. Several processes with the same config share the work on a
NATS cluster and a PostgreSQL server. Config reference and topologies: docs/central.md.

Options:
  --config, -c <file>   the central config (YAML; \${ENV} references are substituted)
  --help                show this help

Exit codes: 0 stopped cleanly, 1 failed, 2 invalid config or usage.`,
  async run(argv) {
    const args = parseCommandArgs(cmd, argv, { config: { type: 'string', short: 'c' } });
    if (!args) return EXIT.ok;
    const file = args.values.config;
    if (!file) throw new UsageError(`central serve: --config <file> is required\n\n${cmd.usage}`);
    let config: CentralConfig;
    try {
      config = await loadCentralConfig(file);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      return EXIT.usage;
    }
    const log = createLogger(config.log);
    const central = new CentralCommand({ config, log });
    const stopped = onShutdownSignal(log, config.shutdownTimeoutMs, async () => {
      await central.stop();
      log.info('central stopped');
    });
    try {
      await central.start();
    } catch (err) {
      // A peer that is not there (the broker, PostgreSQL, a port in use) is a message, not a stack trace.
      log.error({ err }, 'central failed to start');
      process.stderr.write(`${startFailureLine(err, secretValues(config, centralConfigSchema))}\n`);
      // What did start is stopped, within the shutdown time; a stop that hangs would keep the process up, so past
      // that time it exits without waiting (as a second signal does).
      const timer = setTimeout(() => process.exit(EXIT.failure), config.shutdownTimeoutMs);
      await central.stop().catch(() => {});
      clearTimeout(timer);
      return EXIT.failure;
    }
    return stopped;
  },
};
export default cmd;

/**
 * The one line `central serve` prints when it cannot start: the error's message with every URL's user
 * information redacted (a broker or database URL may carry a password), and the config's secrets.
 */
export function startFailureLine(err: unknown, secrets: Iterable<string> = []): string {
  return `central serve: could not start: ${redactText(errorText(err), secrets)}`;
}

/** An error's message, or its code and its inner errors' messages when it has none (a refused connection's AggregateError). */
function errorText(err: unknown): string {
  const e = err as Error & { code?: string; errors?: unknown[] };
  if (e?.message) return e.message;
  const inner = Array.isArray(e?.errors) ? e.errors.map((x) => (x as Error)?.message).filter(Boolean) : [];
  return [e?.code, ...inner].filter(Boolean).join(': ') || String(err);
}
