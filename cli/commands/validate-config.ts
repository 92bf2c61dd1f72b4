import { ConfigError, loadConfig } from '../../config/load.js';
import { EXIT, parseCommandArgs, UsageError, type CliCommand } from '../../core/command-line.js';

const cmd: CliCommand = {
  name: 'validate-config',
  summary: 'check a config file',
  usage: `Usage: checkpoint-edge validate-config [--check] <file.yaml>…

Checks each config file against the schema (docs/config.schema.json) and prints every problem,
one per line, as "<file>: <path> (line N): <what is expected>". Environment references
(\${NAME}) are resolved from the current environment, so run it where the service runs.

  --check   also open every file, folder, device, certificate and secret the config names,
            without starting the lane, and say for each whether it can be used and why not:
            the data folder, the MQTT CA, client certificate and key (and that they match),
            the users file, the serial device, the drop folder, the model folder (manifest and
            checksum), secrets that came out empty. Run it as the service's user.

Exit codes: 0 all valid (and, with --check, every check passed), 2 a file is invalid, cannot be
read, or a check failed.`,
  async run(argv) {
    const args = parseCommandArgs(cmd, argv, { check: { type: 'boolean' } }, true);
    if (!args) return EXIT.ok;
    if (args.positionals.length === 0) throw new UsageError(`validate-config: give a config file\n\n${cmd.usage}`);
    let bad = 0;
    for (const file of args.positionals) {
      try {
        const cfg = loadConfig(file);
        process.stdout.write(
          `${file}: valid (site ${cfg.site.id}, ${cfg.lanes.length} lane(s): ${cfg.lanes.map((l) => l.id).join(', ')})\n`,
        );
        if (args.values.check) {
          // Loaded only for --check: it reads model folders (and so loads the model runtime).
          const { checkSite } = await import('../../app/site-check.js');
          const results = await checkSite(cfg);
          for (const r of results)
            (r.ok ? process.stdout : process.stderr).write(
              `${file}: ${r.ok ? 'ok  ' : 'FAIL'} ${r.what}${r.target !== '-' ? ` ${r.target}` : ''}: ${r.detail}\n`,
            );
          const failed = results.filter((r) => !r.ok).length;
          process.stdout.write(`${file}: ${results.length} checked, ${failed} failed\n`);
          if (failed > 0) bad++;
        }
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        bad++;
        for (const line of err.lines()) process.stderr.write(`${file}: ${line}\n`);
      }
    }
    return bad > 0 ? EXIT.usage : EXIT.ok;
  },
};
export default cmd;
