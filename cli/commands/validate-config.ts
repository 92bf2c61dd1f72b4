import { ConfigError, loadConfig } from '../../config/load.js';
import { EXIT, parseCommandArgs, UsageError, type CliCommand } from '../../core/command-line.js';

const cmd: CliCommand = {
  name: 'validate-config',
  summary: 'check a config file',
  usage: `Usage: checkpoint-edge validate-config <file.yaml>…

Checks each config file against the schema (docs/config.schema.json) and prints every problem,
one per line, as "<file>: <path>: <what is expected>". Environment references (\${NAME}) are
resolved from the current environment, so run it where the service runs.

Exit codes: 0 all valid, 2 a file is invalid or cannot be read.`,
  async run(argv) {
    const args = parseCommandArgs(cmd, argv, {}, true);
    if (!args) return EXIT.ok;
    if (args.positionals.length === 0) throw new UsageError(`validate-config: give a config file\n\n${cmd.usage}`);
    let bad = 0;
    for (const file of args.positionals) {
      try {
        const cfg = loadConfig(file);
        process.stdout.write(`${file}: valid (site ${cfg.site.id}, ${cfg.lanes.length} lane(s): ${cfg.lanes.map((l) => l.id).join(', ')})\n`);
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
