import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createDetector } from '../../../../app/compose/model.js';
import type { LaneContext } from '../../../../app/context.js';
import { validateConfig } from '../../../../config/load.js';
import { createLogger } from '../../../../core/logger.js';
import { TINY } from '../../../helpers/inference.js';

const dir = mkdtempSync(join(tmpdir(), 'ce-compose-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opens the lane's detector as compose does; returns the messages logged at warn. */
async function open(modelPath: string, alert: unknown): Promise<string[]> {
  const lane = validateConfig(
    {
      site: { id: 's' },
      lanes: [
        {
          id: 'l1',
          scanner: { transport: { type: 'tcp', port: 4001 } },
          model: { path: modelPath, warmup: false },
          thresholds: { alert },
        },
      ],
    },
    'test.yaml',
    {},
  ).lanes[0];
  const warnings: string[] = [];
  const out = new PassThrough();
  out.on('data', (c: Buffer) => {
    for (const l of c.toString().split('\n'))
      if (l && JSON.parse(l).level === 40) warnings.push(JSON.parse(l).msg as string);
  });
  const ctx = { lane, log: createLogger({ level: 'info', destination: out }) } as unknown as LaneContext;
  const detector = await createDetector(ctx);
  await (detector as { close?: () => Promise<void> }).close?.();
  return warnings;
}

describe('createDetector', () => {
  it('warns at start when the lane asks for the held-out point and its model names none', async () => {
    expect(await open(TINY, 'held-out')).toEqual([
      // The lane pipeline's words at the first scan (alertThreshold), said at start.
      'lane l1: lanes[].thresholds.alert is held-out, but model tiny-fcn 0.0.1 names no held-out operating point (operatingPoint.heldOut in its manifest.json): the default, as the model names no operating point instead',
    ]);
    expect(await open(TINY, 0.5)).toEqual([]);
    const model = join(dir, 'with-held-out');
    const m = JSON.parse(readFileSync(join(TINY, 'manifest.json'), 'utf8'));
    m.operatingPoint = { scoreThreshold: 0.5, heldOut: { scoreThreshold: 0.9 } };
    mkdirSync(model);
    writeFileSync(join(model, 'manifest.json'), JSON.stringify(m));
    copyFileSync(join(TINY, 'model.onnx'), join(model, 'model.onnx'));
    expect(await open(model, 'held-out')).toEqual([]);
  });
});
