import { afterAll, describe, expect, it } from 'vitest';
import { renderScanPng } from '../../../console/server/scan-render.js';
import { renderScanJpeg } from '../../../outputs/evidence/scan-render.js';
import type { ScanImage } from '../../../runtime/domain.js';
import { RenderPool } from '../../../runtime/render-pool.js';
import { synthesizeScan } from '../../../sim/xray/index.js';

const pool = new RenderPool();
afterAll(() => pool.close());

const scan = synthesizeScan({ seed: 2_000_001, dual: true, lines: 600 });
// Extra fields (the synthesizer's truth) stay on this side: only the planes cross to the worker.
const image: ScanImage = scan;
const regions = scan.truth.people.map((p) => ({ ...p.box, score: 0.9 }));

describe('RenderPool', () => {
  it('renders in its worker exactly what the renderers make on this thread', async () => {
    const [jpeg, high, material] = await Promise.all([
      pool.run({ kind: 'scan-jpeg', image, regions, opts: { maxWidth: 400 } }),
      pool.run({ kind: 'scan-png', image, view: 'high' }),
      pool.run({ kind: 'scan-png', image, view: 'material' }),
    ]);
    expect(pool.fallbackReason).toBeNull();
    expect(jpeg.equals((await renderScanJpeg(image, regions, { maxWidth: 400 })).jpeg)).toBe(true);
    expect(high.equals(await renderScanPng(image, 'high'))).toBe(true);
    expect(material.equals(await renderScanPng(image, 'material'))).toBe(true);
  }, 30_000);

  it('passes a renderer\'s error back with its message', async () => {
    const single: ScanImage = { width: 10, height: 4, pixelMm: 5, high: new Uint16Array(40) };
    await expect(pool.run({ kind: 'scan-png', image: single, view: 'material' })).rejects.toThrow(/material view needs a dual-energy image/);
  });

  it('still delivers the pictures it held when its worker goes away', async () => {
    const job = pool.run({ kind: 'scan-png', image, view: 'low' });
    await pool.close();
    expect((await job).equals(await renderScanPng(image, 'low'))).toBe(true);
    // and a new worker serves the next job
    expect((await pool.run({ kind: 'scan-png', image, view: 'high' })).length).toBeGreaterThan(1000);
    expect(pool.fallbackReason).toBeNull();
  }, 30_000);
});
