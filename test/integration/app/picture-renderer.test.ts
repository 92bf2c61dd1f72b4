import { readdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PictureRenderer } from '../../../app/picture-renderer.js';
import { renderScanPng } from '../../../console/server/scan-views.js';
import type { Region, ScanImage } from '../../../core/domain.js';
import { silentLogger } from '../../../core/logger.js';
import { renderScanJpeg } from '../../../outputs/evidence/evidence-picture.js';

function image(width: number, height: number): ScanImage {
  const high = new Uint16Array(width * height);
  const low = new Uint16Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      high[y * width + x] = 60_000 - ((x * 13 + y * 7) % 40_000);
      low[y * width + x] = 50_000 - ((x * 5 + y * 11) % 30_000);
    }
  const missing = new Uint8Array(width);
  missing[10] = 1;
  return { width, height, pixelMm: 5, high, low, missing };
}

/** Nice values of this process's threads, from /proc/self/task/<tid>/stat (field 19). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('PictureRenderer (picture thread)', () => {
  const pictures = new PictureRenderer({ log: silentLogger(), maxQueued: 3 });
  const img = image(300, 80);
  const regions: Region[] = [{ x: 40, y: 10, w: 30, h: 20, score: 0.9 }];

  beforeAll(() => pictures.start());
  afterAll(() => pictures.stop());

  it('makes the same evidence JPEG and console views as the renderers on the event loop', async () => {
    const jpeg = await pictures.evidenceJpeg(img, regions, 2000);
    expect(jpeg.equals((await renderScanJpeg(img, regions, { maxWidth: 2000 })).jpeg)).toBe(true);
    for (const view of ['high', 'low', 'material'] as const) {
      const png = await pictures.consolePng(img, view);
      expect(png.equals(await renderScanPng(img, view)), view).toBe(true);
    }
  });

  it('runs at the lowest CPU priority, on a thread of its own', async () => {
    await pictures.consolePng(img, 'high');
    const nice = threadNiceValues();
    expect(nice).toContain(19);
    expect(nice.filter((n) => n === 19).length).toBeLessThan(nice.length);
  });

  it('refuses a picture beyond its queue bound, and says why; a bad image fails only its own picture', async () => {
    const asked = Array.from({ length: 5 }, () => pictures.consolePng(img, 'material'));
    const settled = await Promise.allSettled(asked);
    // one being made, three waiting, the fifth refused
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect((settled[4] as PromiseRejectedResult).reason.message).toMatch(/3 pictures behind .*limit 3 pictures/);
    await expect(pictures.evidenceJpeg({ ...img, high: new Uint16Array(5) }, [], 2000)).rejects.toThrow(
      /cannot render it/,
    );
    expect((await pictures.evidenceJpeg(img, [], 2000)).length).toBeGreaterThan(100);
    expect(pictures.pending).toBe(0);
  });

  it('bounds the scan samples held by waiting pictures', async () => {
    const small = new PictureRenderer({ log: silentLogger(), maxQueuedBytes: 3 * img.high.byteLength });
    await small.start();
    try {
      // the first is being made (not waiting); two high views fit in the bound, the material view (both energies) does not
      const asked = [
        small.consolePng(img, 'high'),
        small.consolePng(img, 'high'),
        small.consolePng(img, 'high'),
        small.consolePng(img, 'material'),
      ];
      const settled = await Promise.allSettled(asked);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
      expect((settled[3] as PromiseRejectedResult).reason.message).toMatch(/MiB of scans waiting/);
    } finally {
      await small.stop();
    }
  });

  it("tells its thread's V8 heap and external buffers, between pictures and while one is being made", async () => {
    await pictures.consolePng(img, 'material');
    const idle = await pictures.threadMemory();
    expect(idle!.heapBytes).toBeGreaterThan(1 << 20);
    // the scan copies it was sent, and the picture it made, live outside its heap
    expect(idle!.externalBytes).toBeGreaterThan(0);
    const big = image(3000, 400);
    const making = pictures.consolePng(big, 'material');
    const busy = await pictures.threadMemory(10_000);
    await making;
    expect(busy!.heapBytes).toBeGreaterThan(1 << 20);
    expect(busy!.externalBytes).toBeGreaterThanOrEqual(big.high.byteLength + big.low!.byteLength);
  });

  it('has no thread memory to tell before it starts or after it stops', async () => {
    const other = new PictureRenderer({ log: silentLogger() });
    expect(await other.threadMemory()).toBeNull();
    await other.start();
    expect(await other.threadMemory(10_000)).not.toBeNull();
    await other.stop();
    expect(await other.threadMemory()).toBeNull();
  });

  it("keeps libvips's process-wide operation cache off, though a thread that loads sharp turns it on", async () => {
    sharp.cache(true); // what loading sharp in a thread does
    expect(sharp.cache().memory.max).toBeGreaterThan(0);
    const other = new PictureRenderer({ log: silentLogger() });
    await other.start();
    try {
      expect(sharp.cache().memory.max).toBe(0);
      expect(sharp.cache().items.max).toBe(0);
      await other.consolePng(img, 'high');
      expect(sharp.cache().memory.max).toBe(0);
    } finally {
      await other.stop();
    }
  });
});
