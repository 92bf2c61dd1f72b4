import { z } from 'zod';
import { intIn, numIn, text } from './fields.js';

export const model = z.strictObject({
  path: text('a model folder path').describe('Folder with manifest.json and the ONNX file, e.g. models/person-fcn.'),
  threads: intIn(1, 64).default(1).describe('onnxruntime intra-op threads.'),
  warmup: z.boolean().default(true).describe('Run one inference at start so the first scan is not slow.'),
}).describe('The concealed-person detection model.');

export const thresholds = z.strictObject({
  alert: numIn(0, 1).optional().describe(
    'Scan score at or above which the verdict is "person" and an alert is raised. Not set: the model\'s own operating point ' +
      '(operatingPoint.scoreThreshold in its manifest.json: at most 2 % false alarms on its validation scans), or 0.5 for a model without one.',
  ),
  region: numIn(0, 1).default(0.3).describe('Regions scoring below this are not reported.'),
  bodyEvidence: z.enum(['report', 'require']).default('report').describe(
    'Material evidence of regions on dual-energy scans (class and water-equivalent thickness from both energies). report: shown with each region. ' +
      'require: a dual-energy scan is a "person" only when a reported region is body-plausible (organic or mixed, 40..1,300 mm water-equivalent); single-energy scans are decided by the score alone.',
  ),
}).describe('Decision thresholds of the lane.');
