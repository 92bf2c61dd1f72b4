import { OnnxDetector } from '../../inference/onnx-detector.js';
import { analyzeImage } from '../../inference/analyze-image.js';
import { readFile, stat } from 'node:fs/promises';
import { readScan, ScanFileError } from '../../inference/scan-file.js';
import { PIXEL_MM_RANGE } from '../../config/schema/scanner.js';
import { FILE_DROP_DEFAULTS } from '../../firmware-bridge/scanner/file-drop/file-drop-service.js';
import { jsonSidecarPitch, type SidecarPitch } from '../../firmware-bridge/scanner/file-drop/sidecar.js';
import { type LinePitchSetting, linePitch, scanLinePitch } from '../../firmware-bridge/scanner/line-pitch.js';
import {
  DEFAULT_LOW_ENERGY_SCALE,
  LOW_ENERGY_SCALE_RANGE,
  type LowEnergyScaleOption,
} from '../../core/dual-energy-scale.js';
import { DEFAULT_OPEN_BEAM, OPEN_BEAM_MIN_LEVEL, type OpenBeamOption } from '../../core/open-beam.js';
import { alertForCleared } from '../../inference/cleared-scans.js';
import { operatingThresholds } from '../../inference/manifest.js';
import { alertThreshold } from '../../pipeline/lane-pipeline.js';
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
pixel = detected intensity, 65535 = open beam (a 16-bit file whose air reads lower is rescaled,
with a warning: --open-beam), rows = detector channels (top of the vehicle first), columns = scan lines. Pitch 5 mm unless a sidecar <file>.json with {"pixelMm": …}
or --pixel-mm says otherwise; lines as far apart as the channels unless the sidecar's "lineMm" or --line-mm says otherwise.
A JSON sidecar's pitch fields (pixelMm, lineMm, lineRateHz, vehicle.speedKmh) are read and checked as a lane's file drop
reads them (docs/scanner-bridge.md); its other keys are not read. An image over 33,554,432 pixels (the lane's largest scan) is refused
from its header.

Options:
  --low <low.png>        low-energy image of the scan (repeat once per scan, same order)
  --pixel-mm <mm>        pixel pitch (of the detector channels) of every file, 0.5-50 (overrides sidecars;
                         a sidecar is still read, and checked, unless --line-mm gives a number too)
  --line-mm <mm>|speed   pitch of the lines along the scan, where the scanner did not resample to
                         square pixels: the vehicle's speed divided by the line rate, in mm (0.5-50,
                         overrides sidecars), or speed: from each sidecar's vehicle.speedKmh and
                         lineRateHz, as a lane with scanner.lineMm: speed
  --export <s>           how 8-bit files were exported: auto (default: estimated from each image;
                         a --low file is decoded with its high-energy file's estimate), linear (grey
                         proportional to transmission) or log (grey = 255 (1 + ln T / logMax))
  --export-log-max <a>   log export: attenuation shown black (default 8)
  --export-window <lo,hi> the scaled value's window stretched to black..white (default 0,1)
  --export-gamma <g>     display gamma, grey = 255 v^(1/g) (default 1)
  --export-invert        dense shown bright
  --low-scale <s>        dual-energy pairs: auto (default: a 16-bit pair whose low/high attenuation
                         ratio of the vehicle's steel lies outside the training scanner's 0.97-1.13
                         has its low-energy attenuation rescaled into it, with a warning), none
                         (read as it is) or the factor for the low-energy attenuation (0.5-2)
  --open-beam <o>        16-bit files: auto (default: the air plateau at the border, top rows and
                         first and last lines, is taken as open beam when it reads 50-97 % of
                         65535; without one the file is read as it is, with a warning), full
                         (65535 is open beam) or the level the scanner writes for open beam
                         (1000-65535, both energies)
  --json                 one JSON object per scan per line:
                         {"file","verdict","score","threshold","regions":[{"x","y","w","h","score"}],"model","ms"},
                         with "export":{"scaling",…,"sure"} when an 8-bit file's chain was estimated,
                         "openBeam":{"high","low"} (the levels 16-bit files were rescaled from) and
                         "lowScale" (the factor applied to the low energy) when reading changed them, and
                         "lineMm" when the lines were read at a pitch of their own
  --model <dir>          model folder (default ${DEFAULT_MODEL})
  --threads <n>          onnxruntime threads (default 2)
  --alert <t>|held-out   scan score at or above which the verdict is "person" (default: the lane default
                         its manifest names, operatingPoint.laneDefault, else operatingPoint.scoreThreshold,
                         else 0.5, as lanes[].thresholds.alert; held-out: its operatingPoint.heldOut,
                         chosen on families it never trained on)
  --region <t>           regions scoring below this are not reported (default 0.3)
  --cleared              the files are one lane's scans known to hold no people (cleared after a
                         search or by the operators): after the verdicts, say how many alarm at the
                         threshold in use, and the alert threshold at which a new cleared scan like
                         them alarms with probability at most --max-false-alarms (it takes at least
                         1/r - 1 scans); with --json a last line {"cleared":{…}} (docs/inference.md)
  --max-false-alarms <r> with --cleared: the false-alarm share to keep within, 0.001-0.5 (default 0.02)

Exit status: 0 all files analysed; 1 a file could not be read or the model is unavailable
(the other files are still analysed); 2 bad usage.`,
  async run(argv) {
    const args = parseCommandArgs(
      cmd,
      argv,
      {
        low: { type: 'string', multiple: true },
        'pixel-mm': { type: 'string' },
        'line-mm': { type: 'string' },
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
        'open-beam': { type: 'string' },
        'low-scale': { type: 'string' },
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
    const pitchOf = (name: 'pixel-mm' | 'line-mm') =>
      args.values[name] === undefined
        ? undefined
        : num(name, args.values[name], 5, PIXEL_MM_RANGE.min, PIXEL_MM_RANGE.max);
    const pixelMm = pitchOf('pixel-mm');
    const lineText = args.values['line-mm'];
    if (lineText !== undefined && lineText !== 'speed' && !Number.isFinite(Number(lineText)))
      throw new UsageError(
        `analyze: --line-mm expects a pitch in mm ${PIXEL_MM_RANGE.min}-${PIXEL_MM_RANGE.max} or speed, got "${lineText}"`,
      );
    const lineMm: LinePitchSetting | undefined = lineText === 'speed' ? 'speed' : pitchOf('line-mm');
    const threads = num('threads', args.values.threads, 2, 1, 64);
    const regionMin = num('region', args.values.region, 0.3, 0, 1);
    const json = args.values.json;
    const exportChain = exportOption(args.values, num);
    const openBeam = openBeamOption(args.values['open-beam']);
    const lowScale = lowScaleOption(args.values['low-scale']);
    const cleared = args.values.cleared;
    if (!cleared && args.values['max-false-alarms'] !== undefined)
      throw new UsageError(`analyze: --max-false-alarms reads cleared scans; give --cleared with it`);
    const maxFalseAlarms = num('max-false-alarms', args.values['max-false-alarms'], 0.02, 0.001, 0.5);
    const alertOption = alertOptionOf(args.values.alert);
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
    // Decided as a lane decides (thresholds.alert), except that a held-out point the model lacks is refused.
    const decided = alertThreshold(alertOption === undefined ? {} : { alert: alertOption }, {
      model: st.model,
      ...(detector.manifest ? operatingThresholds(detector.manifest) : {}),
    });
    if (decided.warning) {
      process.stderr.write(
        `analyze: --alert held-out: model ${model} names no held-out operating point (operatingPoint.heldOut in its manifest.json); leave --alert out to read at its own point, or give a score\n`,
      );
      await detector.close();
      return EXIT.usage;
    }
    const alert = decided.value;
    let failed = 0;
    try {
      for (let i = 0; i < files.length; i++) {
        const file = files[i];
        const t0 = performance.now();
        try {
          const pitch = await scanPitch(file, pixelMm, lineMm);
          const { image, warnings, estimate, adjusted } = await readScan(
            file,
            lows[i],
            pitch,
            exportChain,
            openBeam,
            lowScale,
          );
          for (const w of [...pitch.warnings, ...warnings]) process.stderr.write(`analyze: warning: ${w}\n`);
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
              `${JSON.stringify({ file, verdict, score: round(d.score), threshold: alert, regions, model, ms, ...(image.lineMm !== undefined ? { lineMm: image.lineMm } : {}), ...exp, ...adjusted })}\n`,
            );
          } else {
            const rs = regions.map((r) => `${r.x},${r.y} ${r.w}x${r.h} (${r.score.toFixed(2)})`).join('; ');
            process.stdout.write(
              `${file}: ${verdict} score ${d.score.toFixed(3)} (threshold ${alert}), ${regions.length} region(s)${rs ? `: ${rs}` : ''} [${image.width}x${image.height} at ${image.pixelMm} mm${image.lineMm !== undefined ? `, lines ${image.lineMm} mm apart` : ''}, ${model}, ${ms} ms]\n`,
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
    if (cleared) process.stdout.write(clearedSummary(scores, failed, alert, maxFalseAlarms, json));
    return failed ? EXIT.failure : EXIT.ok;
  },
};
export default cmd;

/**
 * A file's pitches as a lane's file drop reads them: the command line's, else its JSON sidecar's
 * (`<file>.json` or `<file without extension>.json`: its pitch fields checked as the file drop checks
 * them, its other keys not read), else 5 mm and square pixels. `--line-mm speed` takes the
 * line pitch from the sidecar's speed and line rate, as scanner.lineMm: speed does. A sidecar is not
 * read when the command line gives both pitches.
 */
async function scanPitch(
  file: string,
  pixelMm: number | undefined,
  lineMm: LinePitchSetting | undefined,
): Promise<{ pixelMm?: number; lineMm?: number; warnings: string[] }> {
  const warnings: string[] = [];
  let info: SidecarPitch = {};
  let from: string | undefined;
  if (pixelMm === undefined || lineMm === undefined || lineMm === 'speed') {
    for (const p of [`${file}.json`, file.replace(/\.[^./]+$/, '.json')].filter(
      (q, i, a) => q !== file && a.indexOf(q) === i,
    )) {
      let text: string;
      try {
        if ((await stat(p)).size > FILE_DROP_DEFAULTS.maxSidecarBytes)
          throw new ScanFileError(
            `${p}: sidecar larger than ${FILE_DROP_DEFAULTS.maxSidecarBytes} bytes (the file drop's default scanner.fileDrop.maxSidecarBytes)`,
          );
        text = await readFile(p, 'utf8');
      } catch (err) {
        if (err instanceof ScanFileError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        throw new ScanFileError(`${p}: sidecar cannot be read (${(err as Error).message})`);
      }
      try {
        info = jsonSidecarPitch(text, p);
      } catch (err) {
        throw new ScanFileError((err as Error).message);
      }
      from = p;
      break;
    }
  }
  const mm = pixelMm ?? info.pixelMm ?? 5;
  // A pitch on the command line overrides the sidecar's; otherwise as the file drop: the sidecar's own
  // lineMm first, then 'speed' or square pixels.
  const line: { lineMm?: number; problem?: string; implied?: number } =
    typeof lineMm === 'number'
      ? linePitch(lineMm, mm, undefined, undefined)
      : scanLinePitch(lineMm ?? 'pixel', mm, info);
  if (line.implied !== undefined)
    warnings.push(
      `${from}: its speed and line rate put the lines ${line.implied} mm apart, but they are read ${mm} mm apart (square pixels); --line-mm speed reads them at ${line.implied} mm`,
    );
  if (line.problem)
    warnings.push(
      `${from ?? file}: ${line.problem} (a JSON sidecar gives vehicle.speedKmh and lineRateHz); read with lines as far apart as the channels`,
    );
  return {
    ...(pixelMm !== undefined || info.pixelMm !== undefined ? { pixelMm: mm } : {}),
    ...(line.lineMm !== undefined ? { lineMm: line.lineMm } : {}),
    warnings,
  };
}

/** What --cleared reports: how the cleared scans fared at the threshold in use, and the lane's own threshold. */
function clearedSummary(scores: number[], unreadable: number, alert: number, share: number, json: boolean): string {
  const inUse = Math.round(alert * 1e6) / 1e6;
  const flaggedInUse = scores.filter((s) => s >= alert).length;
  const pc = (v: number) => `${(v * 100).toFixed(v < 0.001 ? 3 : 1)} %`;
  const scansText = (n: number) => `${n} cleared scan${n === 1 ? '' : 's'}`;
  if (scores.length === 0) {
    if (json)
      return `${JSON.stringify({ cleared: { scans: 0, unreadable, alertInUse: inUse, maxFalseAlarms: share } })}\n`;
    return `cleared scans: none could be read (${unreadable} unreadable); no threshold.\n`;
  }
  const fit = alertForCleared(scores, share);
  if (json)
    return `${JSON.stringify({
      cleared: {
        scans: fit.scans,
        unreadable,
        alertInUse: inUse,
        flaggedInUse,
        maxFalseAlarms: share,
        scansNeeded: fit.scansNeeded,
        enough: fit.enough,
        alertFitted: fit.alert,
        flaggedAtFitted: fit.flagged,
        falseAlarmBound: fit.bound,
        saturated: fit.saturated,
      },
    })}\n`;
  const lines = [
    `cleared scans: ${flaggedInUse} of ${fit.scans} alarm at the alert threshold in use, ${inUse} (${pc(flaggedInUse / fit.scans)})` +
      (unreadable ? `; ${unreadable} more could not be read and ${unreadable === 1 ? 'is' : 'are'} not counted.` : '.'),
  ];
  if (fit.saturated)
    lines.push(
      `these scans score at the top of the scale: no threshold keeps their false alarms within ${pc(share)}, and the lane ` +
        `would alarm on nearly every such vehicle. Check that the files are read as the lane reads them (--export, --pixel-mm, --low); ` +
        `if they are, the model does not fit this lane's scans.`,
    );
  else if (!fit.enough)
    lines.push(
      `${scansText(fit.scans)} cannot bound false alarms at ${pc(share)}: that takes at least ${fit.scansNeeded}. ` +
        `The threshold must at least lie above the highest of them: alert ${fit.alert.toFixed(4)} or more.`,
    );
  else {
    lines.push(
      `for at most ${pc(share)} false alarms: alert ${fit.alert.toFixed(4)} (${fit.flagged} of ${fit.scans} at or above it); ` +
        `a new cleared vehicle like these alarms with probability at most ${pc(fit.bound ?? 0)}. ` +
        `Set it as this lane's lanes[].thresholds.alert (each lane its own: its scanner, export and traffic).`,
    );
    lines.push(
      fit.alert > alert
        ? `It is above the threshold in use, so the lane also finds fewer people: ` +
            `checkpoint-edge eval --alert ${fit.alert.toFixed(4)} --out <folder> reads what it costs on the synthetic test set.`
        : `It is at or below the threshold in use: the model is quieter on these scans than on its validation scans, ` +
            `and a lower threshold finds more people.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/** --alert: a score 0-1, or held-out (the model's operating point chosen on families it never trained on). */
function alertOptionOf(v: string | undefined): number | 'held-out' | undefined {
  if (v === undefined || v === 'held-out') return v;
  const n = Number(v);
  if (!(v.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 1))
    throw new UsageError(`analyze: --alert must be a scan score 0-1 or held-out, got "${v}"`);
  return n;
}

/** --low-scale: auto (default), none, or a factor in LOW_ENERGY_SCALE_RANGE. */
function lowScaleOption(v: string | undefined): LowEnergyScaleOption {
  if (v === undefined) return DEFAULT_LOW_ENERGY_SCALE;
  if (v === 'auto' || v === 'none') return v;
  const n = Number(v);
  const [lo, hi] = LOW_ENERGY_SCALE_RANGE;
  if (!(v.trim() !== '' && Number.isFinite(n) && n >= lo && n <= hi))
    throw new UsageError(
      `analyze: --low-scale must be auto, none or the factor for the low-energy attenuation (${lo}-${hi}), got "${v}"`,
    );
  return n;
}

/** --open-beam: auto (default), full, or a level in OPEN_BEAM_MIN_LEVEL..65535. */
function openBeamOption(v: string | undefined): OpenBeamOption {
  if (v === undefined) return DEFAULT_OPEN_BEAM;
  if (v === 'auto' || v === 'full') return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < OPEN_BEAM_MIN_LEVEL || n > 65535)
    throw new UsageError(
      `analyze: --open-beam must be auto, full or the open-beam level of the 16-bit files (an integer ${OPEN_BEAM_MIN_LEVEL}-65535), got "${v}"`,
    );
  return n;
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
