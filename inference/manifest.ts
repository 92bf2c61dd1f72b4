import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Detection, ModelIdentity } from '../core/domain.js';

/**
 * The model contract as a model folder's manifest.json states it (docs/model-contract.md).
 * Every number the runtime uses comes from here, so another ONNX model is configured without code changes.
 */
const pos = () => z.number().positive();
const posInt = () => z.number().int().positive();

const modelManifest = z
  .object({
    schemaVersion: z.literal(1),
    name: z.string().min(1),
    version: z.string().min(1),
    file: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
    opset: z.number().int().optional(),
    pixelMm: pos(),
    input: z.object({
      name: z.string().min(1),
      layout: z.literal('NCHW'),
      channels: z.array(z.enum(['logHigh', 'logLow', 'lowPresent'])).min(1),
      logScale: pos(),
      sizeMultiple: posInt(),
    }),
    outputs: z.object({
      heatmap: z.object({ name: z.string().min(1), stride: posInt() }),
      score: z.object({ name: z.string().min(1) }),
    }),
    decoding: z.object({
      peakThreshold: z.number().min(0).max(1),
      minRegionMm2: z.number().min(0),
      /** Absent (models before 2.2.0's decoding) or 0: regions are not split. */
      splitProminence: z.number().min(0).max(1).optional(),
    }),
    calibration: z.discriminatedUnion('type', [
      z.object({ type: z.literal('platt'), a: z.number(), b: z.number() }),
      z.object({ type: z.literal('none') }),
    ]),
    tiling: z.object({ tileLines: posInt(), overlapLines: z.number().int().min(0) }),
    /** The calibrated score thresholds chosen for the model: a lane decides at one of them unless it sets its own. */
    operatingPoint: z
      .object({
        scoreThreshold: z.number().min(0).max(1),
        maxFalseAlarmRate: z.number().optional(),
        /** The operating point chosen on families never trained on (lanes[].thresholds.alert: held-out). */
        heldOut: z
          .object({ scoreThreshold: z.number().min(0).max(1), seenFalseAlarmRate: z.number().min(0).max(1).optional() })
          .optional(),
        /**
         * Where a lane that sets no thresholds.alert decides: at scoreThreshold ('operating', the default) or at
         * heldOut ('heldOut', when the model names it).
         */
        laneDefault: z.enum(['operating', 'heldOut']).optional(),
      })
      .optional(),
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((m, ctx) => {
    const { tileLines, overlapLines } = m.tiling;
    const unit = lcm(m.input.sizeMultiple, m.outputs.heatmap.stride);
    if (tileLines % unit !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['tiling', 'tileLines'],
        message: `must be a multiple of ${unit} (input.sizeMultiple and outputs.heatmap.stride)`,
      });
    if (overlapLines % unit !== 0)
      ctx.addIssue({ code: 'custom', path: ['tiling', 'overlapLines'], message: `must be a multiple of ${unit}` });
    if (overlapLines >= tileLines)
      ctx.addIssue({ code: 'custom', path: ['tiling', 'overlapLines'], message: 'must be smaller than tileLines' });
    if (m.input.sizeMultiple % m.outputs.heatmap.stride !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['input', 'sizeMultiple'],
        message: 'must be a multiple of outputs.heatmap.stride',
      });
  });

export type ModelManifest = z.infer<typeof modelManifest>;

/**
 * The alert thresholds a model names, as every detection of it carries them: `operatingThreshold`, where a
 * lane that sets no thresholds.alert decides (operatingPoint.scoreThreshold, or its held-out point when
 * operatingPoint.laneDefault says so), and `heldOutThreshold` (thresholds.alert: held-out).
 */
export function operatingThresholds(m: ModelManifest): Pick<Detection, 'operatingThreshold' | 'heldOutThreshold'> {
  const op = m.operatingPoint;
  const heldOut = op?.heldOut?.scoreThreshold;
  return {
    ...(op
      ? { operatingThreshold: op.laneDefault === 'heldOut' && heldOut !== undefined ? heldOut : op.scoreThreshold }
      : {}),
    ...(heldOut !== undefined ? { heldOutThreshold: heldOut } : {}),
  };
}

export interface LoadedModelFiles {
  dir: string;
  manifest: ModelManifest;
  /** The ONNX bytes, already checked against manifest.sha256. */
  onnx: Uint8Array;
  identity: ModelIdentity;
}

/** Why a model folder cannot be used; the message says which file and what to do. */
export class ModelLoadError extends Error {}

/** Reads manifest.json and the ONNX file of a model folder and verifies the checksum. */
export async function loadModelFiles(dir: string): Promise<LoadedModelFiles> {
  const abs = resolve(dir);
  const manifestPath = join(abs, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    throw new ModelLoadError(
      `model manifest ${manifestPath} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check lanes[].model.path`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelLoadError(`model manifest ${manifestPath} is not valid JSON (${(err as Error).message})`);
  }
  const parsed = modelManifest.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new ModelLoadError(`model manifest ${manifestPath} is invalid: ${problems}`);
  }
  const manifest = parsed.data;
  const onnxPath = resolve(abs, manifest.file);
  let onnx: Uint8Array;
  try {
    onnx = await readFile(onnxPath);
  } catch (err) {
    throw new ModelLoadError(
      `model file ${onnxPath} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): the model folder is incomplete`,
    );
  }
  const sha = createHash('sha256').update(onnx).digest('hex');
  if (sha !== manifest.sha256) {
    throw new ModelLoadError(
      `model file ${onnxPath} is corrupt: its sha256 is ${sha}, the manifest says ${manifest.sha256}; reinstall the model folder`,
    );
  }
  return { dir: abs, manifest, onnx, identity: { name: manifest.name, version: manifest.version, sha256: sha } };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
