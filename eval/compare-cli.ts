import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ScanImage } from '../core/domain.js';
import { checkExportChain, type ExportChain } from '../core/export-chain.js';
import { analyzeImage } from '../inference/analyze-image.js';
import { operatingThresholds } from '../inference/manifest.js';
import { OnnxDetector } from '../inference/onnx-detector.js';
import { CLUTTER_KINDS, type ClutterKind } from '../sim/xray/clutter.js';
import { SEED_RANGES } from '../sim/xray/dataset.js';
import { auc, type ScanOutcome } from './detection-metrics.js';
import { GENERALISATION_SETS } from './generalisation.js';
import { type EvalSettings, testScans } from './test-set.js';
import { applyExport, EXPORT_VARIANTS, type ExportVariant, highEnergyOnly, withLinesApart } from './variants.js';

/**
 * Models side by side on sets of validation-range scans (recipe experiments: docs/training.md "Random objects in the
 * scene"). Each scan is synthesized once and read by every model, at each model's own operating point.
 *
 *   node bin/run-ts.js eval/compare-cli.ts --sets families --count 80 --first-seed 1060000 --out f.json A=dir B=dir
 *   node bin/run-ts.js eval/compare-cli.ts --sets random-objects --count 80 --first-seed 1070000 --out r.json M=dir
 *
 * `families`: the family sets and the trucks without people of `npm run eval` (their settings, count x weight scans
 * each, set k from first-seed + 1,000 k). `random-objects`: trucks without people, every vehicle without people and
 * every vehicle with people, each read without and with up to 6 random objects (sim xray --clutter 6; the same scenes;
 * `--clutter-kinds a,b` draws only those kinds). `exports`: the same three sets without objects, each scan read several
 * ways (EXPORT_VIEWS): as synthesized, its high energy alone, and that through each 8-bit export chain; each reading is
 * reported as a set of its own, "<set> · <view>" (in the output and as the key of --out's result). `line-pitch`: the
 * same three sets, each scan also read as if the vehicle had passed twice as fast and half as fast at the same line
 * rate (LINE_PITCH_VIEWS: lines twice or half as far apart as the channels), once read as square pixels and once with
 * its line pitch named (scanner.lineMm). `fan-beam`: the same three sets, each once with a parallel beam and once, the
 * same scenes, projected with a fan beam drawn per scan (sim xray --fan-beam 1: docs/xray-synthesizer.md).
 * Seeds must lie in the synthesizer's validation range: the test range is the model card's. Each model is read at the
 * operating point its manifest names, and at its lane default where that is another point (operatingPoint.laneDefault).
 */
export type CompareKind = 'families' | 'random-objects' | 'exports' | 'line-pitch' | 'fan-beam';
export const COMPARE_KINDS: readonly CompareKind[] = [
  'families',
  'random-objects',
  'exports',
  'line-pitch',
  'fan-beam',
];
/** One way of reading a set's scans (the scan as synthesized, or as a scanner would have written it). */
export type CompareView = { name: string; read: (scan: ScanImage) => Promise<ScanImage> };
export type CompareSet = {
  name: string;
  settings: EvalSettings;
  weight: number;
  views?: readonly CompareView[];
  /** The scenes of the set before it (its seeds), drawn otherwise (random objects over them, a fan beam). */
  sameScenes?: boolean;
};

/** How `exports` decodes each 8-bit image: by the chain estimated from the image (the runtime's way when no chain is
 * named), by the chain's exact inverse (as a site that names its chain), or each both ways. */
export type ExportDecode = 'auto' | 'named' | 'both';
export const EXPORT_DECODES: readonly ExportDecode[] = ['auto', 'named', 'both'];

/** `exports`: each scan as synthesized, its high energy alone, and its high energy alone through each export chain
 * (by default the card's robustness table's: 8-bit, JPEG but one): single 8-bit images, as fielded scanners that drop
 * files export them. */
export function exportViews(
  variants: readonly ExportVariant[] = EXPORT_VARIANTS,
  decode: ExportDecode = 'auto',
): CompareView[] {
  const ways: ('auto' | 'named')[] = decode === 'both' ? ['auto', 'named'] : [decode];
  return [
    { name: 'dual energy, 16-bit', read: async (scan) => scan },
    { name: 'high energy only, 16-bit', read: async (scan) => highEnergyOnly(scan) },
    ...variants.flatMap((v) =>
      ways.map((how) => ({
        name: `high energy only, ${v.name}${how === 'named' ? ', chain named' : decode === 'both' ? ', chain estimated' : ''}`,
        read: (scan: ScanImage) => applyExport(highEnergyOnly(scan), v, how === 'named' ? v.chain : 'auto'),
      })),
    ),
  ];
}

export const EXPORT_VIEWS: readonly CompareView[] = exportViews();

/** `line-pitch`: each scan as synthesized, and with its lines 2x and 0.5x as far apart, read as square and named. */
export const LINE_PITCH_VIEWS: readonly CompareView[] = [
  { name: 'as synthesized', read: async (scan) => scan },
  ...[2, 0.5].flatMap((f) =>
    [false, true].map((named) => ({
      name: `lines ${f}x as far apart, ${named ? 'line pitch named' : 'read as square'}`,
      read: async (scan: ScanImage) => withLinesApart(scan, f, named),
    })),
  ),
];

/**
 * An export chain from the command line: the JSON of a chain (core/export-chain.ts ExportChain: scaling, logMax, window,
 * gamma, invert) with `quality` (JPEG quality 1-100; 0 or none: lossless PNG), named as the card names its chains.
 */
export function parseExportVariant(text: string): ExportVariant {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RangeError(`--chain: not JSON (${(err as Error).message}): ${text}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new RangeError(
      `--chain: expects a JSON object such as {"scaling":"log","logMax":10,"quality":50}, got ${text}`,
    );
  const { quality = 0, ...chain } = raw as ExportChain & { quality?: number };
  const known = ['scaling', 'logMax', 'window', 'gamma', 'invert', 'quality'];
  const unknown = Object.keys(chain).filter((k) => !known.includes(k));
  const where = `--chain ${text}`;
  if (unknown.length)
    throw new RangeError(
      `${where}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${known.join(', ')})`,
    );
  if (chain.scaling === undefined) throw new RangeError(`${where}: "scaling" ("linear" or "log") is required`);
  if (chain.scaling === 'linear' && chain.logMax !== undefined)
    throw new RangeError(`${where}: "logMax" goes with "scaling":"log"`);
  try {
    checkExportChain(chain, 'chain');
  } catch (err) {
    throw new RangeError(`${where}: ${(err as Error).message}`);
  }
  if (!(Number.isInteger(quality) && quality >= 0 && quality <= 100))
    throw new RangeError(`${where}: quality must be an integer 0-100 (0: PNG), got ${JSON.stringify(quality)}`);
  const parts = [chain.scaling === 'log' ? `log ${chain.logMax ?? 8}` : 'linear'];
  if (chain.window) parts.push(`window ${chain.window[0]}-${chain.window[1]}`);
  if (chain.invert) parts.push('inverted');
  if (chain.gamma !== undefined && chain.gamma !== 1) parts.push(`gamma ${chain.gamma}`);
  return {
    name: `export ${parts.join(' ')}, ${quality ? `JPEG ${quality}` : 'PNG'}`,
    chain,
    quality,
    heldOut: false,
  };
}

/** The scenes `random-objects`, `exports` and `line-pitch` read: trucks without people, every vehicle without and with people. */
const SCENE_SETS: readonly CompareSet[] = [
  { name: 'trucks without people', settings: { dual: true, personShare: 0, vehicleClass: 'articulated' }, weight: 2 },
  { name: 'every vehicle without people', settings: { dual: true, personShare: 0 }, weight: 2 },
  { name: 'every vehicle with people', settings: { dual: true, personShare: 1 }, weight: 1 },
];

export function compareSets(
  kind: CompareKind,
  o: { clutterKinds?: readonly ClutterKind[]; views?: readonly CompareView[] } = {},
): CompareSet[] {
  const clutterKinds = o.clutterKinds;
  if (kind === 'exports') return SCENE_SETS.map((s) => ({ ...s, views: o.views ?? EXPORT_VIEWS }));
  if (kind === 'line-pitch') return SCENE_SETS.map((s) => ({ ...s, views: LINE_PITCH_VIEWS }));
  if (kind === 'fan-beam')
    return SCENE_SETS.flatMap((s) => [
      s,
      { ...s, name: `${s.name}, fan beam`, settings: { ...s.settings, fanBeam: true }, sameScenes: true },
    ]);
  if (kind === 'families')
    return GENERALISATION_SETS.filter((s) => s.kind === 'family' || s.kind === 'no-person trucks').map((s) => ({
      name: s.name,
      settings: s.settings,
      weight: s.weight,
    }));
  const objects = { clutter: 6, ...(clutterKinds ? { clutterKinds } : {}) };
  return SCENE_SETS.flatMap((s) => [
    s,
    { ...s, name: `${s.name}, random objects`, settings: { ...s.settings, ...objects }, sameScenes: true },
  ]);
}

/** The seeds of set k: sets of the same scenes (sameScenes) share the seeds of the set before them. */
export function firstSeeds(sets: readonly CompareSet[], first: number): number[] {
  let own = -1;
  return sets.map((s) => (s.sameScenes ? first + own * 1000 : first + ++own * 1000));
}

const OPTIONS = {
  sets: { type: 'string', default: 'families' },
  count: { type: 'string', default: '80' },
  'first-seed': { type: 'string', default: '1060000' },
  out: { type: 'string' },
  'clutter-kinds': { type: 'string' },
  decode: { type: 'string' },
  chain: { type: 'string', multiple: true },
  help: { type: 'boolean' },
} as const;

const USAGE = `Usage: node bin/run-ts.js eval/compare-cli.ts [options] name=model-folder [name=model-folder …]

Reads several models side by side on sets of validation-range scans, each scan synthesized once and read by every
model at the operating point its manifest names (and at its lane default where that is another point).

Options:
  --sets families|random-objects|exports|line-pitch|fan-beam
                                  families (default): the family sets and the trucks without people of
                                  npm run eval; random-objects: trucks without people, every vehicle without
                                  people, every vehicle with people, each without and with up to 6 random objects;
                                  exports: the same three sets, each scan read as synthesized, as its high energy
                                  alone, and as its high energy alone through each export chain of the card's
                                  robustness table (single 8-bit images, as scanners that drop files write them);
                                  line-pitch: the same three sets, each scan read as synthesized and with its lines
                                  twice and half as far apart (a vehicle twice or half as fast at the same line
                                  rate), read as square pixels and with the line pitch named (scanner.lineMm);
                                  fan-beam: the same three sets, each with a parallel beam and, the same scenes,
                                  with a fan beam from a source beside the lane (sim xray --fan-beam)
  --count <n>                     scans per set, 1-500 (default 80); the truck sets and the sets of every
                                  vehicle without people read twice as many
  --first-seed <seed>             the first set's first seed (default 1060000); set k starts 1,000 k later, so
                                  the sets take about 7,000 seeds (families) or 3,000 (the others) of the
                                  validation range 1000000-1099999
  --clutter-kinds <k,…>           random-objects only: draw only these kinds (${CLUTTER_KINDS.join(', ')})
  --decode auto|named|both        exports only: decode each 8-bit image by the chain estimated from it (auto,
                                  default: the runtime's way when no chain is named), by the chain's exact
                                  inverse (named), or both ways
  --chain <json>                  exports only, repeatable: read these chains instead of the card's five, each
                                  a JSON object such as '{"scaling":"log","logMax":10,"window":[0.1,0.95],
                                  "gamma":1.8,"quality":50}'. Keys: scaling (linear or log, required), logMax
                                  (log only, default 8), window ([lo, hi], default [0, 1]), gamma (default 1),
                                  invert (true: dense shown bright), quality (JPEG 1-100; 0 or left out: PNG)
  --out <file>                    also write the scores as JSON
  --help                          show this help

Output: one line per set (with --sets exports or line-pitch, per set and way of reading it: "<set> · <view>", also the keys
of --out's result); per model "scans with people flagged, clear scans flagged" at its operating point
(then "/ lane default" and the same at it), and the ROC AUC of the scan score. Exit codes: 0 ok, 1 failure,
2 bad usage.`;

/** A mistake in the command line: the message and exit code 2. */
class UsageError extends Error {}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ allowPositionals: true; options: typeof OPTIONS }>>;
  try {
    parsed = parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (err) {
    throw new UsageError(`compare: ${(err as Error).message}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const kind = values.sets as CompareKind;
  if (!COMPARE_KINDS.includes(kind))
    throw new UsageError(`compare: --sets must be one of ${COMPARE_KINDS.join(', ')}, got "${values.sets}"`);
  const count = Number(values.count);
  const first = Number(values['first-seed']);
  const kinds = values['clutter-kinds']?.split(',').map((k) => k.trim() as ClutterKind);
  if (kinds && kind !== 'random-objects')
    throw new UsageError('compare: --clutter-kinds goes with --sets random-objects');
  const unknown = kinds?.filter((k) => !CLUTTER_KINDS.includes(k)) ?? [];
  if (unknown.length)
    throw new UsageError(
      `compare: --clutter-kinds expects some of ${CLUTTER_KINDS.join(', ')}, got "${unknown.join('", "')}"`,
    );
  if ((values.decode !== undefined || values.chain) && kind !== 'exports')
    throw new UsageError('compare: --decode and --chain go with --sets exports');
  const decode = (values.decode ?? 'auto') as ExportDecode;
  if (!EXPORT_DECODES.includes(decode))
    throw new UsageError(`compare: --decode must be one of ${EXPORT_DECODES.join(', ')}, got "${values.decode}"`);
  let variants: ExportVariant[] | undefined;
  try {
    variants = values.chain?.map(parseExportVariant);
  } catch (err) {
    throw new UsageError(`compare: ${(err as Error).message}`);
  }
  const sets = compareSets(kind, {
    ...(kinds ? { clutterKinds: kinds } : {}),
    ...(kind === 'exports' ? { views: exportViews(variants, decode) } : {}),
  });
  const seeds = firstSeeds(sets, first);
  const { first: lo, last: hi } = SEED_RANGES.validation;
  // Sets of their own scenes are 1,000 seeds apart: more scans would read the next set's.
  if (!(Number.isInteger(count) && count >= 1 && count <= 500))
    throw new UsageError(
      `compare: --count expects an integer 1-500 (sets of weight 2 read twice as many), got "${values.count}"`,
    );
  const end = Math.max(...sets.map((s, k) => seeds[k]! + count * s.weight - 1));
  if (!(Number.isInteger(first) && first >= lo && end <= hi))
    throw new UsageError(
      `compare: --first-seed ${values['first-seed']}: the sets would read seeds ${first}-${end} (set k from ${first} + 1,000 k), which must lie in the validation range ${lo}-${hi}`,
    );
  if (positionals.length === 0) throw new UsageError(`compare: name at least one model as name=folder\n\n${USAGE}`);
  const models: { name: string; detector: OnnxDetector; thr: number; lane?: number }[] = [];
  for (const spec of positionals) {
    const at = spec.indexOf('=');
    const [name, dir] = [spec.slice(0, at), spec.slice(at + 1)];
    if (at < 1 || !dir) throw new UsageError(`compare: a model is name=folder, got "${spec}"`);
    if (models.some((m) => m.name === name)) throw new UsageError(`compare: two models are named "${name}"`);
    if (!existsSync(join(dir, 'manifest.json')))
      throw new UsageError(`compare: ${dir}: no model folder (no manifest.json there)`);
    const detector = await OnnxDetector.open({ path: dir, threads: 1, warmup: true });
    const manifest = detector.manifest;
    const thr = manifest?.operatingPoint?.scoreThreshold;
    if (detector.status.state !== 'ready' || !manifest || thr === undefined)
      throw new Error(`compare: ${dir}: no model with an operating point`);
    // Its lane default too, where the manifest names another point (operatingPoint.laneDefault).
    const lane = operatingThresholds(manifest).operatingThreshold;
    models.push({ name, detector, thr, ...(lane !== undefined && lane !== thr ? { lane } : {}) });
  }
  process.stderr.write(
    `compare: ${kind}${kinds ? ` (kinds ${kinds.join(', ')})` : ''}, ${count} scans per set (x weight), seeds from ${first}; models ${models.map((m) => m.name).join(', ')}\n`,
  );
  const result: Record<string, { seeds: [number, number]; people: number[]; scores: Record<string, number[]> }> = {};
  for (const [k, set] of sets.entries()) {
    const n = count * set.weight;
    const views = set.views ?? [{ name: '', read: async (scan: ScanImage) => scan }];
    const readings = views.map((v) => {
      const r = {
        seeds: [seeds[k]!, seeds[k]! + n - 1] as [number, number],
        people: [] as number[],
        scores: {} as Record<string, number[]>,
      };
      for (const m of models) r.scores[m.name] = [];
      result[v.name ? `${set.name} · ${v.name}` : set.name] = r;
      return r;
    });
    for await (const scan of testScans(seeds[k]!, n, set.settings, 1)) {
      for (const [j, v] of views.entries()) {
        const image = await v.read(scan.image);
        readings[j]!.people.push(scan.people.length);
        for (const m of models)
          readings[j]!.scores[m.name]!.push((await analyzeImage(m.detector, image, `seed-${scan.seed}`)).score);
      }
    }
    process.stderr.write(`compare: ${set.name} done\n`);
  }
  for (const m of models) await m.detector.close();
  const thresholds = Object.fromEntries(
    models.map((m) => [m.name, { operating: m.thr, laneDefault: m.lane ?? m.thr }]),
  );
  if (values.out)
    writeFileSync(values.out, `${JSON.stringify({ sets: kind, count, firstSeed: first, thresholds, result })}\n`);
  // One line per set: for each model, scans with people flagged and clear scans flagged at its operating point (and
  // at its lane default where that is another point, after a slash), and the ROC AUC of the scan score.
  console.log(
    `| set | ${models.map((m) => `${m.name}: with people flagged, clear flagged${m.lane !== undefined ? ' / at lane default' : ''}, ROC AUC`).join(' | ')} |`,
  );
  for (const [name, r] of Object.entries(result)) {
    const cells = models.map((m) => {
      const outs: ScanOutcome[] = r.scores[m.name]!.map((score, i) => ({
        score,
        peopleMatched: Array(r.people[i]).fill(true),
      }));
      const p = outs.filter((o) => o.peopleMatched.length);
      const c = outs.filter((o) => !o.peopleMatched.length);
      const a = p.length && c.length ? auc(outs).toFixed(3) : '–';
      const at = (t: number) =>
        `${p.filter((o) => o.score >= t).length}/${p.length}, ${c.filter((o) => o.score >= t).length}/${c.length}`;
      return `${m.name}: ${at(m.thr)}${m.lane !== undefined ? ` / lane default ${at(m.lane)}` : ''}, ${a}`;
    });
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
  return 0;
}

// Run as a script (node bin/run-ts.js eval/compare-cli.ts …), not when a test imports its helpers.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1]))
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
