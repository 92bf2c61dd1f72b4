import { z } from 'zod';
import { intIn, numIn, text, wordsOr } from './fields.js';

export const model = z
  .strictObject({
    path: text('a model folder path').describe('Folder with manifest.json and the ONNX file, e.g. models/person-fcn.'),
    threads: intIn(1, 64).default(1).describe('onnxruntime intra-op threads.'),
    warmup: z.boolean().default(true).describe('Run one inference at start so the first scan is not slow.'),
  })
  .describe('The concealed-person detection model.');

export const thresholds = z
  .strictObject({
    alert: wordsOr(['held-out'], numIn(0, 1), 'a number 0-1')
      .optional()
      .describe(
        'Scan score at or above which the verdict is "person" and an alert is raised. Not set: the point its manifest.json ' +
          'names for lanes (operatingPoint.laneDefault: the held-out point for person-fcn 2.3.2; else operatingPoint.scoreThreshold, ' +
          "at most 2 % false alarms on its validation scans), else 0.5. 'held-out': its point chosen on families it never " +
          'trained on (operatingPoint.heldOut; see the model card).',
      ),
    region: numIn(0, 1).default(0.3).describe('Regions scoring below this are not reported.'),
    bodyEvidence: z
      .enum(['report', 'require'])
      .default('report')
      .describe(
        'Material evidence of regions on dual-energy scans (class and water-equivalent thickness from both energies). report: shown with each region. ' +
          'require: a dual-energy scan is a "person" only when a reported region is body-plausible (organic or mixed, 40..1,300 mm water-equivalent); single-energy scans are decided by the score alone.',
      ),
    maxMissingShare: numIn(0, 1)
      .default(0.05)
      .describe(
        "Largest share of a scan's lines that may be missing (never arrived from the scanner; filled in for the picture) for the scan to be called clear. " +
          'Above it the verdict is "unavailable" with the reason, and a detection-unavailable alert is raised. A person found in the lines that did arrive is still reported.',
      ),
    maxMissingRunM: numIn(0, 20)
      .default(0.5)
      .describe(
        'Longest run of consecutive missing lines, in metres along the vehicle (lines x line pitch, scanner.lineMm), for the scan to be called clear: a person fits in a longer gap. ' +
          'Above it the verdict is "unavailable" with the reason.',
      ),
  })
  .describe('Decision thresholds of the lane.');
