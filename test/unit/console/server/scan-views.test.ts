import { mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  DISPLAY_GAMMA,
  DISPLAY_LUT,
  downsampleBatch,
  liveGeometry,
  materialRgb,
  renderScanPng,
} from '../../../../console/server/scan-views.js';
import { ScanImageArchive } from '../../../../console/server/scan-images.js';
import type { LineBatch, ScanImage } from '../../../../core/domain.js';
import { silentLogger } from '../../../../core/logger.js';

describe('scan rendering', () => {
  it('shows open beam white and strong attenuation black, on a log scale', () => {
    expect(DISPLAY_LUT[65535]).toBe(255);
    expect(DISPLAY_LUT[0]).toBe(0);
    expect(DISPLAY_LUT[1]).toBe(0);
    // e^-4 transmission = half of the 8-unit attenuation range, then the display gamma.
    expect(DISPLAY_LUT[Math.round(65535 * Math.exp(-4))]).toBe(255 - Math.round(0.5 ** DISPLAY_GAMMA * 255));
    // Thin material keeps more grey levels than a linear scale would give it.
    expect(255 - DISPLAY_LUT[Math.round(65535 * Math.exp(-0.5))]!).toBeGreaterThan(Math.round((0.5 / 8) * 255 * 2));
    for (let v = 1; v < 65535; v += 97) expect(DISPLAY_LUT[v + 1]!).toBeGreaterThanOrEqual(DISPLAY_LUT[v]!);
  });

  it('sizes the live view to at most 320 rows', () => {
    expect(liveGeometry(256)).toEqual({ factor: 1, height: 256 });
    expect(liveGeometry(1024)).toEqual({ factor: 4, height: 256 });
    expect(liveGeometry(1000)).toEqual({ factor: 4, height: 250 });
  });

  it('keeps every factor-th line across batch boundaries and averages channels in groups', () => {
    const channels = 4;
    const geo = { factor: 2, height: 2 };
    const batch = (firstIndex: number, count: number): LineBatch => {
      const high = new Uint16Array(count * channels);
      for (let i = 0; i < count; i++)
        for (let c = 0; c < channels; c++) high[i * channels + c] = (firstIndex + i) * 1000 + c * 100 + 1;
      return { scanId: 's', firstIndex, count, channels, high };
    };
    const a = downsampleBatch(batch(0, 3), geo)!; // lines 0, 2
    const b = downsampleBatch(batch(3, 3), geo)!; // line 4
    expect([a.firstIndex, a.count, b.firstIndex, b.count]).toEqual([0, 2, 2, 1]);
    // Live line 1 = scan line 2; row 0 = mean of channels 0 and 1 = 2000 + 50 + 1.
    expect(a.high[1 * 2 + 0]).toBe(DISPLAY_LUT[2051]);
    expect(b.high[1]).toBe(DISPLAY_LUT[4000 + 250 + 1]);
    expect(downsampleBatch(batch(5, 1), geo)).toBeNull();
  });

  it('colours organic material orange and steel blue in the material view', () => {
    // Same high-energy attenuation (1.0), different low/high ratios.
    const high = new Uint16Array([Math.round(65535 * Math.exp(-1)), Math.round(65535 * Math.exp(-1))]);
    const low = new Uint16Array([Math.round(65535 * Math.exp(-1.24)), Math.round(65535 * Math.exp(-1.05))]);
    const rgb = materialRgb(high, low);
    const [or, og, ob, sr, sg, sb] = rgb;
    expect(or!).toBeGreaterThan(ob! * 2); // organic: red over blue
    expect(sb!).toBeGreaterThan(sr!); // steel: blue over red
    expect(og!).toBeGreaterThan(0);
    expect(sg!).toBeGreaterThan(0);
  });

  it('renders a PNG of each view with the image size, and refuses a material view of a single-energy scan', async () => {
    const image: ScanImage = {
      width: 30,
      height: 10,
      pixelMm: 5,
      high: new Uint16Array(300).fill(30000),
      low: new Uint16Array(300).fill(20000),
    };
    const grey = await sharp(await renderScanPng(image, 'high')).metadata();
    expect([grey.format, grey.width, grey.height, grey.channels]).toEqual(['png', 30, 10, 1]);
    const mat = await sharp(await renderScanPng(image, 'material')).metadata();
    expect([mat.width, mat.height, mat.channels]).toEqual([30, 10, 3]);
    await expect(renderScanPng({ ...image, low: undefined }, 'material')).rejects.toThrow(/dual-energy/);
  });
});

describe('ScanImageArchive', () => {
  it('keeps the views of a scan whose id is unfit for a folder name, and only the newest scans', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scan-images-'));
    try {
      const archive = new ScanImageArchive({ dir, log: silentLogger(), keep: 2 });
      const image: ScanImage = { width: 8, height: 4, pixelMm: 5, high: new Uint16Array(32).fill(1000) };
      await archive.store('lane-1', 'site:scan/1', image);
      expect(await archive.views('lane-1', 'site:scan/1')).toEqual(['high']);
      expect((await archive.read('lane-1', 'site:scan/1', 'high'))!.subarray(1, 4).toString()).toBe('PNG');
      expect(await archive.read('lane-1', 'site:scan/1', 'material')).toBeNull();
      // Each scan's pictures older than the next one's, without waiting for the clock.
      const aged = new Set<string>();
      const ageNewest = (minutes: number) => {
        const at = new Date(Date.now() - minutes * 60_000);
        for (const entry of readdirSync(join(dir, 'lane-1')).filter((e) => !aged.has(e))) {
          utimesSync(join(dir, 'lane-1', entry), at, at);
          aged.add(entry);
        }
      };
      ageNewest(3);
      await archive.store('lane-1', 'b', image);
      ageNewest(2);
      await archive.store('lane-1', 'c', image);
      expect(await archive.views('lane-1', 'site:scan/1')).toEqual([]);
      expect(archive.viewsNow('lane-1', 'c')).toEqual(['high']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
