import { LiveScan } from '../console/server/live-scan.js';
import { materialRgb, renderScanPng } from '../console/server/scan-views.js';
import type { LineBatch } from '../core/domain.js';
import { scanLines, synthesizeScan } from '../sim/xray/index.js';
import { defineBench, timeRuns } from './harness.js';

export default defineBench({
  area: 'console',
  async run(ctx) {
    // An articulated truck, dual energy, 5 mm pixels, 1000 channels (~3500 lines).
    const image = synthesizeScan({
      seed: 24,
      dual: true,
      vehicleClass: 'articulated',
      peopleCount: 2,
      cargoDensity: 'medium',
    });
    const mpx = (image.width * image.height) / 1e6;
    const note = `${image.width} lines x ${image.height} channels`;

    if (ctx.wants('console.render.high-png'))
      ctx.report('console.render.high-png', await timeRuns(5, () => renderScanPng(image, 'high')), 'ms', note);
    if (ctx.wants('console.render.material-rgb'))
      ctx.report(
        'console.render.material-rgb',
        await timeRuns(5, () => materialRgb(image.high, image.low!)),
        'ms',
        `${note}; JS loop on the event loop`,
      );
    if (ctx.wants('console.render.all-views')) {
      const runs = await timeRuns(5, async () => {
        for (const v of ['high', 'low', 'material'] as const) await renderScanPng(image, v);
      });
      ctx.report(
        'console.render.all-views',
        runs,
        'ms',
        `${note}: high, low, material PNGs, done once per decided scan`,
      );
      ctx.report(
        'console.render.all-views-throughput',
        runs.map((ms) => mpx / (ms / 1000)),
        'Mpx/s',
      );
    }

    // Live view: batches of 32 lines through the downsampler, as a scanner delivers them.
    const batches: LineBatch[] = [];
    for (let first = 0; first < image.width; first += 32)
      batches.push(scanLines(image, 'b', first, Math.min(32, image.width - first)));
    if (ctx.wants('console.live.downsample')) {
      let bytes = 0;
      const runs = await timeRuns(5, () => {
        const live = new LiveScan('l');
        live.begin({
          scanId: 'b',
          laneId: 'l',
          startedAt: '',
          channels: image.height,
          energies: 2,
          pixelMm: 5,
          source: 'stream',
        });
        bytes = 0;
        for (const b of batches) {
          live.add(b);
          if (b.firstIndex % 320 === 0) bytes += JSON.stringify(live.flush() ?? '').length;
        }
        bytes += JSON.stringify(live.flush() ?? '').length;
      });
      ctx.report(
        'console.live.downsample',
        runs.map((ms) => image.width / (ms / 1000)),
        'lines/s',
        `${note}, both energies, every flush encoded as its event-stream JSON`,
      );
      ctx.report(
        'console.live.stream-bytes-per-scan',
        bytes / 1024,
        'KiB',
        "event-stream payload of one scan's live view (factor 4, 250 rows, two energies)",
      );
    }
  },
});
