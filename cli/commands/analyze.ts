import { OnnxDetector } from '../../inference/onnx-detector.js';
import { analyzeImage } from '../../inference/analyze-image.js';
import { readScan, ScanFileError } from '../../inference/scan-file.js';
import { alertForCleared } from '../../inference/cleared-scans.js';
import { modelDir } from '../../app/compose/model.js';
import { EXIT, numberOption, parseCommandArgs, UsageError, type CliCommand } from '../../core/command-line.js';
import { DEFAULT_EXPORT, type ExportChain, type ExportOption, checkExportChain } from '../../core/export-chain.js';

const DEFAULT_MODEL = 'models/person-fcn';

const cmd: CliCommand = {
  name: 'analyze',
  summary: 'analyse scan image files offline',
  usage: `Usage: checkpoint-edge analyze <scan.png>… [options]

Analyses X-ray scan images with the detection model and prints a verdict per file.
Input: 16-bit greyscale PNG or TIFF (8-bit PNG and JPEG exports accepted with a warning: decoded
to intensity through the export chain estimated from the image unless --export names one; the
warning and the JSON field "export" say which chain was assumed and how sure the estimate is),
pixel = detected intensity, 65535 = open beam, rows = detector channels (top of the vehicle
first), columns = scan lines. Pitch 5 mm unless a sidecar <file>.json with {"pixelMm": …}
or --pixel-mm says otherwise.

Options:
  --low <low.png>        low-energy image of the scan (repeat once per scan, same order)
  --pixel-mm <mm>        pixel pitch of every file (overrides sidecars)
  --export <s>           how 8-bit files were exported: auto (default: estimated from each image;
                         a --low file is decoded with its high-energy file's estimate), linear (grey
                         proportional to transmission) or log (grey = 255 (1 + ln T / logMax))
  --export-log-max <a>   log export: attenuation shown black (default 8)
  --export-window <lo,hi> the scaled value's window stretched to black..white (default 0,1)
  --export-gamma <g>     display gamma, grey = 255 v^(1/g) (default 1)
  --export-invert        dense shown bright
  --json                 one JSON object per scan per line:
                         {"file","verdict","score","regions":[{"x","y","w","h","score"}],"model","ms"},
                         with "export":{"scaling",…,"sure"} when an 8-bit file's chain was estimated
  --model <dir>          model folder (default ${DEFAULT_MODEL})
  --threads <n>          onnxruntime threads (default 2)
  --alert <t>            scan score at or above which the verdict is "person" (default: the model's
                         manifest operatingPoint.scoreThreshold, else 0.5 as lanes[].thresholds.alert)
  --region <t>           regions scoring below this are not reported (default 0.3)
  --cleared              the files are scans known to hold no people (cleared after a search or by
                         the operator): after the verdicts, say how many alarmed and the lowest alert
                         threshold at which at most --max-false-alarms of them would (with --json, a
                         last line {"cleared":{"scans","alertInUse","flaggedInUse","maxFalseAlarms","alert","flagged"}})
  --max-false-alarms <r> with --cleared: the share of cleared scans allowed to alarm (default 0.02)

Exit status: 0 all files analysed; 1 a file could not be read or the model is unavailable
(the other files are still analysed); 2 bad usage.`,
  async run(argv) {
    const args = parseCommandArgs(
      cmd,
      argv,
      {
        low: { type: 'string', multiple: true },
        'pixel-mm': { type: 'string' },
        json: { type: 'boolean', default: false },
        model: { type: 'string' },
        threads: { type: 'string' },
        alert: { type: 'string' },
        region: { type: 'string' },
        export: { type: 'string' },
        'export-log-max': { type: 'string' },
        'export-window': { type: 'string' },
        'export-gamma': { type: 'string' },
        'export-invert': { type: 'boolean', default: false },
        cleared: { type: 'boolean', default: false },
        'max-false-alarms': { type: 'string' },
      },
      true,
    );
    if (!args) return EXIT.ok;
    const files = args.positionals;
    if (files.length === 0)
      throw new UsageError(`analyze: give at least one scan file\nRun 'checkpoint-edge analyze --help' for usage.`);
    const lows = args.values.low ?? [];
    if (lows.length && lows.length !== files.length)
      throw new UsageError(
        `analyze: ${lows.length} --low file(s) for ${files.length} scan(s); give one --low per scan, in the same order`,
      );
    const num = (name: string, v: string | undefined, dflt: number, min: number, max: number) =>
      numberOption('analyze', name, v, { min, max }) ?? dflt;
    const pixelMm =
      args.values['pixel-mm'] === undefined ? undefined : num('pixel-mm', args.values['pixel-mm'], 5, 0.1, 100);
    const threads = num('threads', args.values.threads, 2, 1, 64);
    const regionMin = num('region', args.values.region, 0.3, 0, 1);
    const json = args.values.json;
    const exportChain = exportOption(args.values, num);
    const cleared = args.values.cleared;
    if (!cleared && args.values['max-false-alarms'] !== undefined)
      throw new UsageError(`analyze: --max-false-alarms reads cleared scans; give --cleared with it`);
    const maxFalseAlarms = num('max-false-alarms', args.values['max-false-alarms'], 0.02, 0, 0.5);
    const scores: number[] = [];

    const detector = await OnnxDetector.open({
      path: modelDir(args.values.model ?? DEFAULT_MODEL),
      threads: Math.round(threads),
      warmup: true,
    });
    const st = detector.status;
    if (st.state !== 'ready') {
      process.stderr.write(`analyze: detection unavailable: ${st.reason}\n`);
      return EXIT.failure;
    }
    const model = `${st.model.name} ${st.model.version}`;
    const alert = num('alert', args.values.alert, detector.manifest?.operatingPoint?.scoreThreshold ?? 0.5, 0, 1);
    let failed = 0;
    try {
      for (let i = 0; i < files.length; i++) {
        const file = files[i];
        const t0 = performance.now();
        try {
          const { image, warnings, estimate } = await readScan(file, lows[i], pixelMm, exportChain);
          for (const w of warnings) process.stderr.write(`analyze: warning: ${w}\n`);
          const d = await analyzeImage(detector, image, file);
          const ms = Math.round(performance.now() - t0);
          const verdict = d.score >= alert ? 'person' : 'clear';
          scores.push(d.score);
          const regions = d.regions.filter((r) => r.score >= regionMin).map((r) => ({ ...r, score: round(r.score) }));
          if (json) {
            const exp = estimate
              ? {
                  export: {
                    ...estimate.chain,
                    openBeamGrey: estimate.chain.invert ? 255 - estimate.air : estimate.air,
                    sure: estimate.sure,
                  },
                }
              : {};
            process.stdout.write(
              `${JSON.stringify({ file, verdict, score: round(d.score), regions, model, ms, ...exp })}\n`,
            );
          } else {
            const rs = regions.map((r) => `${r.x},${r.y} ${r.w}x${r.h} (${r.score.toFixed(2)})`).join('; ');
            process.stdout.write(
              `${file}: ${verdict} score ${d.score.toFixed(3)}, ${regions.length} region(s)${rs ? `: ${rs}` : ''} [${image.width}x${image.height} at ${image.pixelMm} mm, ${model}, ${ms} ms]\n`,
            );
          }
        } catch (err) {
          failed++;
          const msg = err instanceof ScanFileError ? err.message : `${file}: ${(err as Error).message}`;
          process.stderr.write(`analyze: not analysed: ${msg}\n`);
        }
      }
    } finally {
      await detector.close();
    }
    if (cleared && scores.length) process.stdout.write(clearedSummary(scores, alert, maxFalseAlarms, json));
    return failed ? EXIT.failure : EXIT.ok;
  },
};
export default cmd;

/** What --cleared reports: how the cleared scans fared at the threshold used, and the site's own threshold. */
function clearedSummary(scores: number[], alert: number, maxShare: number, json: boolean): string {
  const fit = alertForCleared(scores, maxShare);
  const flaggedNow = scores.filter((s) => s >= alert).length;
  const pct = (n: number) => `${((100 * n) / scores.length).toFixed(1)} %`;
  const few = fit.allowed === 0 && maxShare > 0;
  const need = maxShare > 0 ? Math.ceil(1 / maxShare - 1e-9) : 0;
  if (json)
    return `${JSON.stringify({
      cleared: {
        scans: fit.scans,
        alertInUse: round(alert),
        flaggedInUse: flaggedNow,
        maxFalseAlarms: maxShare,
        alert: fit.alert,
        flagged: fit.flagged,
        ...(few ? { tooFew: need } : {}),
      },
    })}\n`;
  return (
    `cleared scans: ${flaggedNow} of ${fit.scans} flagged at alert ${alert.toFixed(4)} (${pct(flaggedNow)}).\n` +
    `for at most ${(maxShare * 100).toFixed(1)} % of them: alert ${fit.alert.toFixed(4)} (${fit.flagged} of ${fit.scans} flagged); ` +
    `set it as lanes[].thresholds.alert in the site's config. A higher threshold also finds fewer people: ` +
    `read its cost with npm run eval -- --alert ${fit.alert.toFixed(4)}.\n` +
    (few
      ? `with ${fit.scans} cleared scans a share of ${(maxShare * 100).toFixed(1)} % allows no alarm at all, so the threshold sits above the highest of them; read at least ${need} cleared scans.\n`
      : '')
  );
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/** The export chain named by --export and its companions (DEFAULT_EXPORT, auto, unless --export names linear or log). */
function exportOption(
  v: {
    export?: string;
    'export-log-max'?: string;
    'export-window'?: string;
    'export-gamma'?: string;
    'export-invert'?: boolean;
  },
  num: (name: string, v: string | undefined, dflt: number, min: number, max: number) => number,
): ExportOption {
  const scaling = v.export ?? 'auto';
  const companions =
    v['export-log-max'] !== undefined ||
    v['export-window'] !== undefined ||
    v['export-gamma'] !== undefined ||
    v['export-invert'] === true;
  if (scaling === 'auto' || v.export === undefined) {
    if (companions)
      throw new UsageError(
        `analyze: --export-log-max, --export-window, --export-gamma and --export-invert describe a named chain; give --export linear or --export log with them`,
      );
    return v.export === undefined ? DEFAULT_EXPORT : 'auto';
  }
  if (scaling !== 'linear' && scaling !== 'log')
    throw new UsageError(`analyze: --export must be auto, linear or log, got "${scaling}"`);
  const chain: ExportChain = { scaling };
  if (v['export-log-max'] !== undefined) chain.logMax = num('export-log-max', v['export-log-max'], 8, 0.5, 20);
  if (v['export-gamma'] !== undefined) chain.gamma = num('export-gamma', v['export-gamma'], 1, 0.05, 10);
  if (v['export-invert']) chain.invert = true;
  if (v['export-window'] !== undefined) {
    const parts = v['export-window'].split(',').map(Number);
    if (parts.length !== 2 || !parts.every((p) => Number.isFinite(p)))
      throw new UsageError(
        `analyze: --export-window must be lo,hi (two numbers in [0, 1]), got "${v['export-window']}"`,
      );
    chain.window = [parts[0], parts[1]];
  }
  try {
    checkExportChain(chain, 'analyze: --export');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return chain;
}
