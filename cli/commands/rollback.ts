import { resolve } from 'node:path';
import { EXIT, parseCommandArgs, type CliCommand } from '../../core/command-line.js';
import { rollbackRelease } from '../install/release-install.js';
import { reloadSystemd } from './install.js';

const cmd: CliCommand = {
  name: 'rollback',
  summary: 'switch back to the previous release',
  usage: `Usage: checkpoint-edge rollback [--prefix DIR]

Switches /opt/checkpoint-edge/current back to /opt/checkpoint-edge/previous (and previous to the
release that was current), rewrites the systemd unit from that release and restarts the service
where it runs. Data and config are kept. A database that a newer release has already migrated
is not opened by the older one: the service then stops with a message naming the database and
its schema version (docs/deployment.md says what to do).

Options:
  --prefix DIR   the installation under DIR instead of /
  --help         show this help

Exit codes: 0 switched, 1 failed (nothing to go back to), 2 bad usage.`,
  async run(argv) {
    const args = parseCommandArgs(cmd, argv, { prefix: { type: 'string' } });
    if (!args) return EXIT.ok;
    const prefix = resolve(args.values.prefix ?? '/');
    const say = (line: string) => process.stdout.write(`${line}\n`);
    try {
      rollbackRelease(prefix, say);
    } catch (err) {
      process.stderr.write(`rollback: ${(err as Error).message}\n`);
      return EXIT.failure;
    }
    reloadSystemd(prefix, true, say);
    return EXIT.ok;
  },
};
export default cmd;
