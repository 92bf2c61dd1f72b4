import { EXIT, parseCommandArgs, type CliCommand } from '../command.js';

const cmd: CliCommand = {
  name: 'eval',
  summary: 'evaluate a model on a held-out synthetic test set',
  usage: `Usage: checkpoint-edge eval [options]

model evaluation is not part of this build.`,
  async run(argv) {
    if (!parseCommandArgs(cmd, argv, {}, true)) return EXIT.ok;
    process.stderr.write('eval: model evaluation is not part of this build\n');
    return EXIT.failure;
  },
};
export default cmd;
