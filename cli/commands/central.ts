import { EXIT, parseCommandArgs, type CliCommand } from '../command.js';

const cmd: CliCommand = {
  name: 'central',
  summary: 'reference central-command client',
  usage: `Usage: checkpoint-edge central [options]

the central-command client is not part of this build.`,
  async run(argv) {
    if (!parseCommandArgs(cmd, argv, {}, true)) return EXIT.ok;
    process.stderr.write('central: the central-command client is not part of this build\n');
    return EXIT.failure;
  },
};
export default cmd;
