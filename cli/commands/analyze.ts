import { EXIT, parseCommandArgs, type CliCommand } from '../command.js';

const cmd: CliCommand = {
  name: 'analyze',
  summary: 'analyse scan image files offline',
  usage: `Usage: checkpoint-edge analyze [options]

the ONNX detection runtime is not part of this build.`,
  async run(argv) {
    if (!parseCommandArgs(cmd, argv, {}, true)) return EXIT.ok;
    process.stderr.write('analyze: the ONNX detection runtime is not part of this build\n');
    return EXIT.failure;
  },
};
export default cmd;
