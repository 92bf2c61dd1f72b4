import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetScans, synthesizeEvalScan } from '../../../eval/test-set.js';
import { writeDataset } from '../../../sim/xray/dataset.js';

describe('eval test scans from a data set folder', () => {
  let dir: string;
  const settings = { dual: true, pixelMm: 10, channels: 200, peopleCount: 2, vehicleClass: 'box-truck' as const };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ce-evalds-'));
    await writeDataset({ out: join(dir, 'test'), seed: 2_000_100, count: 1, format: 'raw', settings, workers: 1 });
    await writeDataset({ out: join(dir, 'train'), seed: 5, count: 1, format: 'png16', settings, workers: 1 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the same pixels and truth the synthesizer gives in process', async () => {
    const got = [];
    for await (const s of datasetScans(join(dir, 'test'), 10)) got.push(s);
    expect(got).toHaveLength(1);
    const want = synthesizeEvalScan(2_000_100, settings);
    expect(got[0].image.high).toEqual(want.image.high);
    expect(got[0].image.low).toEqual(want.image.low);
    expect(got[0].people).toEqual(want.people);
    expect(got[0].people).toHaveLength(2);
    expect(got[0]).toMatchObject({
      seed: 2_000_100,
      vehicleClass: want.vehicleClass,
      cargoDensity: want.cargoDensity,
      photonsHigh: want.photonsHigh,
    });
  });

  it('refuses a data set with seeds outside the test range', async () => {
    const it = datasetScans(join(dir, 'train'), 10);
    await expect(it.next()).rejects.toThrow(/seed 5, outside the held-out test range 2000000–2099999/);
  });
});
