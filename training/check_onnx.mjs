// Loads an exported model in onnxruntime-node (the runtime the lane uses) and compares its outputs with
// torch's on the reference input written by training/export.py. Exit code 1 when they differ by more
// than the tolerance, so training/train.sh stops before a mismatching model is shipped.
// Usage: node training/check_onnx.mjs <model.onnx> <reference dir> [tolerance]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const [modelPath, refDir, tolArg] = process.argv.slice(2);
if (!modelPath || !refDir) {
  console.error('usage: node training/check_onnx.mjs <model.onnx> <reference dir> [tolerance]');
  process.exit(2);
}
const tolerance = tolArg ? Number(tolArg) : 1e-4;

function readF32(file) {
  const buf = readFileSync(join(refDir, file));
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

const shapes = JSON.parse(readFileSync(join(refDir, 'shapes.json'), 'utf8'));
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
const input = new ort.Tensor('float32', readF32('input.f32'), shapes.input);
const t0 = performance.now();
const out = await session.run({ [session.inputNames[0]]: input });
const ms = performance.now() - t0;

let worst = 0;
const report = {};
for (const name of ['heatmap', 'score']) {
  const got = out[name];
  if (!got) {
    console.error(
      `check_onnx: model ${modelPath} has no output '${name}' (outputs: ${session.outputNames.join(', ')})`,
    );
    process.exit(1);
  }
  if (got.dims.join('x') !== shapes[name].join('x')) {
    console.error(`check_onnx: output '${name}' has shape ${got.dims.join('x')}, torch gave ${shapes[name].join('x')}`);
    process.exit(1);
  }
  const want = readF32(`${name}.f32`);
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i] - got.data[i]));
  report[name] = { shape: got.dims, maxAbsDiff: maxDiff };
  worst = Math.max(worst, maxDiff);
}
console.log(
  JSON.stringify({
    model: modelPath,
    inputs: session.inputNames,
    outputs: session.outputNames,
    ms: Math.round(ms),
    tolerance,
    ...report,
  }),
);
if (!(worst <= tolerance)) {
  console.error(`check_onnx: onnxruntime-node and torch differ by ${worst} > ${tolerance}`);
  process.exit(1);
}
