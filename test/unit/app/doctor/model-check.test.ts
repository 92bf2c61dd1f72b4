import { describe, expect, it } from 'vitest';
import { checkModel, type SelfTestScan } from '../../../../app/doctor/model-check.js';
import { validateConfig } from '../../../../config/load.js';
import { batch, completed, metaFor, scanImage, TINY } from '../../../helpers/inference.js';

function selfTest(name: string, blocks: Parameters<typeof scanImage>[3], expectPerson: boolean): SelfTestScan {
  const img = scanImage(400, 160, 5, blocks);
  const meta = metaFor(img, name);
  return { name, expectPerson, batches: [batch(img, 0, img.width, name)], scan: completed(img, meta) };
}

const scans = [selfTest('person', [{ x: 200, y: 60, w: 80, h: 60, a: 7 }], true), selfTest('clear', [], false)];
const laneWith = (alert: unknown) =>
  validateConfig(
    {
      site: { id: 's' },
      lanes: [
        {
          id: 'l1',
          scanner: { transport: { type: 'tcp', port: 4001 } },
          model: { path: TINY },
          thresholds: alert === undefined ? {} : { alert },
        },
      ],
    },
    'test.yaml',
    {},
  ).lanes[0];

describe('checkModel', () => {
  it('passes a model whose self-test scans come out as expected', async () => {
    const r = await checkModel(laneWith(0.5), scans);
    expect(r.status).toBe('ok');
  });

  it("warns when the lane asks for the held-out point and the model names none: it decides at the model's own point", async () => {
    const r = await checkModel(laneWith('held-out'), scans);
    expect(r.status).toBe('warn');
    expect(r.detail).toContain(
      'lanes[].thresholds.alert is held-out, but model tiny-fcn 0.0.1 names no held-out operating point',
    );
    expect(r.fix).toContain('operatingPoint.heldOut');
  });
});
