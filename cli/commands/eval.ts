import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { OnnxDetector } from '../../inference/onnx-detector.js';
import { operatingThresholds } from '../../inference/manifest.js';
import { evalSection, rewriteCard } from '../../eval/card.js';
import { rocPng } from '../../eval/pictures.js';
import { runEvaluation } from '../../eval/run-eval.js';
import { TEST_SEEDS } from '../../eval/test-set.js';
import { rocCurve } from '../../eval/detection-metrics.js';
import { modelDir } from '../../app/compose/model.js';
import {
  EXIT,
  integerOption,
  numberOption,
  parseCommandArgs,
  UsageError,
  type CliCommand,
} from '../../core/command-line.js';

const DEFAULT_MODEL = 'models/person-fcn';

const cmd: CliCommand = {
  name: 'eval',
  summary: 'evaluate a model on a held-out synthetic test set',
  usage: `Usage: checkpoint-edge eval [options]

Evaluates a model on held-out synthetic scans (the synthesizer's test seeds ${TEST_SEEDS.first}–${TEST_SEEDS.last},
never used in training), analysed by the same runtime a lane uses: share of people found,
false alarms per scan without people, ROC AUC, per vehicle class, cargo density and hiding place,
the operating threshold for <= 2 % false alarms, robustness (extra noise, dead channels,
missing lines, 8-bit, high energy only, open beam at 60 %, attenuation x1.3 and x0.8, 8-bit export
chains with JPEG decoded automatically), and
generalisation: the families model 2.0.0 held out of training, other pixel pitches, trucks without people,
scans with random objects over the vehicle (sim xray --clutter). Writes eval.json, eval-roc.png and eval-*.png examples
into the model folder and rewrites the evaluation section of its MODEL_CARD.md.

Options:
  --model <dir>          model folder (default ${DEFAULT_MODEL})
  --count <n>            test scans (default 600)
  --seed-start <seed>    first seed (default ${TEST_SEEDS.first}); all seeds must lie in the test range
  --robust-count <n>     scans also evaluated under each robustness variant (default 150)
  --workers <n>          synthesis worker threads (default: cores - 1, at least 1)
  --threads <n>          onnxruntime threads (default 1)
  --data <dir>           read the test scans from a data set folder written by 'checkpoint-edge sim xray'
                         (seeds in the test range only) instead of synthesizing them; --count limits them
  --out <dir>            write the results here instead of the model folder
  --alert <t>            lane alert threshold to report figures at (default: the lane default its
                         manifest names, as a lane that sets no thresholds.alert uses; else 0.5)
  --region <t>           region threshold (default 0.3)
  --generalisation <n>   scans per generalisation set (default 0 = none; the truck sets and the test scans with random objects take twice as many; those are the main test's first
                         scans, so no more than --count)`,
  async run(argv) {
    const args = parseCommandArgs(cmd, argv, {
      model: { type: 'string' },
      count: { type: 'string' },
      'seed-start': { type: 'string' },
      'robust-count': { type: 'string' },
      workers: { type: 'string' },
      threads: { type: 'string' },
      out: { type: 'string' },
      data: { type: 'string' },
      alert: { type: 'string' },
      region: { type: 'string' },
      generalisation: { type: 'string' },
    });
    if (!args) return EXIT.ok;
    const v = args.values;
    const int = (name: string, s: string | undefined, dflt: number, min: number, max: number) =>
      integerOption('eval', name, s, min, max) ?? dflt;
    const frac = (name: string, s: string | undefined, dflt: number) =>
      numberOption('eval', name, s, { min: 0, max: 1 }) ?? dflt;
    const count = int('count', v.count, v.data ? 100_000 : 600, 1, 100_000);
    const seedStart = int('seed-start', v['seed-start'], TEST_SEEDS.first, 0, 2 ** 31);
    if (!v.data && (seedStart < TEST_SEEDS.first || seedStart + count - 1 > TEST_SEEDS.last)) {
      throw new UsageError(
        `eval: seeds ${seedStart}–${seedStart + count - 1} leave the held-out test range ${TEST_SEEDS.first}–${TEST_SEEDS.last} (docs/xray-synthesizer.md); other seeds may have been used in training`,
      );
    }
    const robustCount = int('robust-count', v['robust-count'], Math.min(150, count), 0, 100_000);
    const generalisationCount = int('generalisation', v.generalisation, 0, 0, 1000);
    const workers = int('workers', v.workers, Math.max(1, availableParallelism() - 1), 0, 64);
    const threads = int('threads', v.threads, 1, 1, 64);
    const region = frac('region', v.region, 0.3);
    const dir = modelDir(v.model ?? DEFAULT_MODEL);
    const out = resolve(v.out ?? dir);

    const detector = await OnnxDetector.open({ path: dir, threads, warmup: true });
    const st = detector.status;
    if (st.state !== 'ready') {
      process.stderr.write(`eval: detection unavailable: ${st.reason}\n`);
      return EXIT.failure;
    }
    const named = detector.manifest ? operatingThresholds(detector.manifest) : {};
    const fromManifest = named.operatingThreshold;
    const heldOut = named.heldOutThreshold;
    // A model whose lane default is its held-out point: its operating point is read too (a lane may set it).
    const own = detector.manifest?.operatingPoint?.scoreThreshold;
    const modelPoint = own !== undefined && own !== fromManifest ? own : undefined;
    const alert = frac('alert', v.alert, fromManifest ?? 0.5);
    const alertSource = v.alert !== undefined ? 'option' : fromManifest !== undefined ? 'manifest' : 'fallback';
    process.stderr.write(
      `eval: ${st.model.name} ${st.model.version}: ${v.data ? `test scans of ${v.data}` : `${count} test scans from seed ${seedStart}`}, ${robustCount} with robustness variants, ${workers} synthesis worker(s), ${threads} inference thread(s)\n`,
    );
    const t0 = Date.now();
    let result: Awaited<ReturnType<typeof runEvaluation>>;
    try {
      result = await runEvaluation({
        detector,
        model: st.model,
        seedStart,
        count,
        robustCount,
        settings: { dual: true },
        workers,
        ...(v.data ? { dataDir: resolve(v.data) } : {}),
        alert,
        alertSource,
        ...(heldOut !== undefined ? { heldOut } : {}),
        ...(modelPoint !== undefined ? { modelPoint } : {}),
        region,
        maxFalseAlarmRate: 0.02,
        generalisationCount,
        progress: (done, total) => {
          if (done % 10 === 0 || done === total)
            process.stderr.write(
              `eval: ${done}${v.data ? '' : `/${total}`} scans, ${Math.round((Date.now() - t0) / 1000)} s\n`,
            );
        },
      });
    } finally {
      await detector.close();
    }
    const { report, examples } = result;
    mkdirSync(out, { recursive: true });
    for (const f of readdirSync(out)) if (/^eval-.*\.png$/.test(f)) rmSync(join(out, f));
    writeFileSync(join(out, 'eval.json'), `${JSON.stringify(report, null, 1)}\n`);
    const pos = report.scans.filter((s) => s.peopleMatched.length).map((s) => s.score);
    const neg = report.scans.filter((s) => !s.peopleMatched.length).map((s) => s.score);
    const op = report.overall.atOperating;
    const curves = [
      { name: `clean (AUC ${report.overall.auc.toFixed(3)})`, colour: '#1f4e9c', points: rocCurve(pos, neg) },
    ];
    const roc = await rocPng(
      curves,
      { fpr: op.falseAlarmRate, tpr: op.scanRecall },
      `${report.model.name} ${report.model.version}: ${report.testSet.count} held-out test scans`,
    );
    writeFileSync(join(out, 'eval-roc.png'), roc);
    const counters: Record<string, number> = {};
    const pics = examples.map((e) => {
      counters[e.kind] = (counters[e.kind] ?? 0) + 1;
      const file = `eval-${e.kind}-${counters[e.kind]}.png`;
      writeFileSync(join(out, file), e.png);
      return { file, kind: e.kind, seed: e.seed };
    });
    rewriteCard(
      join(out, 'MODEL_CARD.md'),
      evalSection(report, { roc: 'eval-roc.png', examples: pics }),
      `Model card: ${report.model.name}`,
    );
    const a = report.acceptance;
    process.stdout.write(
      `eval: ${report.model.name} ${report.model.version} on ${report.testSet.count} held-out scans: ROC AUC ${report.overall.auc.toFixed(3)}; ` +
        `operating threshold ${report.thresholds.operating.alert.toFixed(4)}: ${op.peopleFound} of ${op.people} people found (${(op.recall * 100).toFixed(2)} %), ` +
        `${op.falseAlarms}/${op.clearScans} false alarms (${(op.falseAlarmRate * 100).toFixed(2)} %); acceptance ${a.met ? 'met' : 'NOT met'}; ` +
        `at the lane default ${alert.toFixed(4)} (${alertSource}): ${(report.overall.atLaneDefault.recall * 100).toFixed(1)} % found, ${(report.overall.atLaneDefault.falseAlarmRate * 100).toFixed(2)} % false alarms, ${a.atLaneDefault.met ? 'met' : 'NOT met'}\n` +
        (report.overall.atHeldOut && heldOut !== undefined
          ? `eval: at the held-out point ${heldOut.toFixed(4)}: ${(report.overall.atHeldOut.recall * 100).toFixed(1)} % found, ${(report.overall.atHeldOut.falseAlarmRate * 100).toFixed(2)} % false alarms\n`
          : '') +
        `eval: wrote ${join(out, 'eval.json')}, eval-roc.png, ${pics.length} example(s), MODEL_CARD.md (${Math.round((Date.now() - t0) / 1000)} s)\n`,
    );
    return EXIT.ok;
  },
};
export default cmd;
