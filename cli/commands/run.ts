import { ConfigError, loadConfig } from '../../config/load.js';
import { SiteRuntime } from '../../app/site-runtime.js';
import { createLogger } from '../../core/logger.js';
import { onShutdownSignal } from '../../app/shutdown-signal.js';
import { EXIT, parseCommandArgs, UsageError, type CliCommand } from '../../core/command-line.js';
import { version } from '../version.js';
import { SystemdNotifier } from '../../app/systemd-notify.js';

const cmd: CliCommand = {
  name: 'run',
  summary: 'run the lanes of a site',
  usage: `Usage: checkpoint-edge run --config <file.yaml>

Runs every lane of the site described by the config file: scanner bridge, cameras, detection,
MQTT publishing and the operator console, until SIGINT or SIGTERM, then shuts down in order
(devices first, outbox flushed last) within shutdownTimeoutMs.

Options:
  --config <file>   the site's config file (see config/examples/site-template.yaml)
  --help            show this help

Exit codes: 0 stopped cleanly, 1 failed, 2 invalid config or usage.`,
  async run(argv) {
    const args = parseCommandArgs(cmd, argv, { config: { type: 'string', short: 'c' } });
    if (!args) return EXIT.ok;
    const file = args.values.config;
    if (!file) throw new UsageError(`run: --config <file> is required\n\n${cmd.usage}`);
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const line of err.lines()) process.stderr.write(`${file}: ${line}\n`);
      return EXIT.usage;
    }
    const log = createLogger(config.log);
    const runtime = new SiteRuntime({ config, log, version: version(), announce: (l) => log.info(l) });
    // Under systemd (Type=notify): READY=1 once the lanes run, WATCHDOG=1 from the event loop.
    const notifier = new SystemdNotifier({ log: log.child({ part: 'systemd' }) });
    const stopped = onShutdownSignal(log, config.shutdownTimeoutMs, async () => {
      await notifier.stopping('shutting down');
      const report = await runtime.stop();
      log.info({ report }, 'stopped');
    });
    await runtime.start();
    const running = `checkpoint-edge ${version()} running site ${config.site.id}: ${runtime.lanes.map((l) => l.id).join(', ')}; http ${runtime.http.url}`;
    log.info(running);
    await notifier.ready(running);
    return stopped;
  },
};
export default cmd;
