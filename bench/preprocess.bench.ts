import { ModelCanvas } from '../inference/preprocess.js';
import { resampleLines } from '../sim/scanner/scan-source.js';
import { benchScan, CHANNELS, LINES, PIXEL_MM } from './bench-scan.js';
import { defineBench, timeRuns } from './harness.js';

/**
 * Preprocessing of a whole 1,280-channel dual-energy scan at 5 mm to the model's 20 mm (area
 * averaging and log), with square pixels (the k x k block shortcut) and with lines at a pitch of
 * their own (scanner.lineMm: the general resampling path): the same scene with its lines 2.5 mm
 * apart (twice as many) and 10 mm apart (half as many).
 */
const MODEL_MM = 20;

export default defineBench({
  area: 'preprocess',
  async run(ctx) {
    const scan = benchScan(7);
    const cases = [
      { name: 'square', image: scan, note: `${LINES} lines at ${PIXEL_MM} mm, square pixels (block shortcut)` },
      { name: 'lines-2.5mm', image: resampleLines(scan, 0.5), note: 'the same scene, 6,000 lines 2.5 mm apart' },
      { name: 'lines-10mm', image: resampleLines(scan, 2), note: 'the same scene, 1,500 lines 10 mm apart' },
    ];
    for (const c of cases) {
      const name = `preprocess.scan-ms.${c.name}`;
      if (!ctx.wants(name)) continue;
      const img = c.image;
      const lineMm = img.lineMm;
      const ms = await timeRuns(5, () => {
        const canvas = new ModelCanvas({
          channels: img.height,
          inMm: PIXEL_MM,
          ...(lineMm !== undefined ? { lineMm } : {}),
          modelMm: MODEL_MM,
          logScale: 0.25,
          sizeMultiple: 16,
          dual: true,
        });
        canvas.appendFromImage(img.high, img.low, img.width, 0, img.width);
        canvas.compute(true);
      });
      ctx.report(name, ms, 'ms', `${CHANNELS} channels x ${c.note}, both energies, to ${MODEL_MM} mm`);
    }
  },
});
