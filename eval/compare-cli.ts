import { realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyzeImage } from '../inference/analyze-image.js';
import { operatingThresholds } from '../inference/manifest.js';
import { OnnxDetector } from '../inference/onnx-detector.js';
import { CLUTTER_KINDS, type ClutterKind } from '../sim/xray/clutter.js';
import { SEED_RANGES } from '../sim/xray/dataset.js';
import { auc, type ScanOutcome } from './detection-metrics.js';
import { GENERALISATION_SETS } from './generalisation.js';
import { type EvalSettings, testScans } from './test-set.js';

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
 * `--clutter-kinds a,b` draws only those kinds).
 * Seeds must lie in the synthesizer's validation range: the test range is the model card's. Each model is read at the
 * operating point its manifest names, and at its lane default where that is another point (operatingPoint.laneDefault).
 */
export type CompareSet = { name: string; settings: EvalSettings; weight: number };

export function compareSets(kind: 'families' | 'random-objects', clutterKinds?: readonly ClutterKind[]): CompareSet[] {
  if (kind === 'families')
    return GENERALISATION_SETS.filter((s) => s.kind === 'family' || s.kind === 'no-person trucks').map((s) => ({
      name: s.name,
      settings: s.settings,
      weight: s.weight,
    }));
  const base: CompareSet[] = [
    { name: 'trucks without people', settings: { dual: true, personShare: 0, vehicleClass: 'articulated' }, weight: 2 },
    { name: 'every vehicle without people', settings: { dual: true, personShare: 0 }, weight: 2 },
    { name: 'every vehicle with people', settings: { dual: true, personShare: 1 }, weight: 1 },
  ];
  const objects = { clutter: 6, ...(clutterKinds ? { clutterKinds } : {}) };
  return base.flatMap((s) => [s, { ...s, name: `${s.name}, random objects`, settings: { ...s.settings, ...objects } }]);
}

/** The seeds of set k: sets with random objects share the seeds of the set before them (the same scenes). */
export function firstSeeds(sets: readonly CompareSet[], first: number): number[] {
  let own = -1;
  return sets.map((s) => (s.settings.clutter ? first + own * 1000 : first + ++own * 1000));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      sets: { type: 'string', default: 'families' },
      count: { type: 'string', default: '80' },
      'first-seed': { type: 'string', default: '1060000' },
      out: { type: 'string' },
      'clutter-kinds': { type: 'string' },
    },
  });
  const kind = values.sets as 'families' | 'random-objects';
  if (kind !== 'families' && kind !== 'random-objects')
    throw new Error(`compare: --sets must be families or random-objects, got "${values.sets}"`);
  const count = Number(values.count);
  const first = Number(values['first-seed']);
  const kinds = values['clutter-kinds']?.split(',').map((k) => k.trim() as ClutterKind);
  const unknown = kinds?.filter((k) => !CLUTTER_KINDS.includes(k)) ?? [];
  if (unknown.length)
    throw new Error(`compare: --clutter-kinds: unknown "${unknown.join('", "')}" (${CLUTTER_KINDS.join(', ')})`);
  const sets = compareSets(kind, kinds);
  const seeds = firstSeeds(sets, first);
  const { first: lo, last: hi } = SEED_RANGES.validation;
  const end = Math.max(...sets.map((s, k) => seeds[k]! + count * s.weight - 1));
  // Sets of their own scenes are 1,000 seeds apart: more scans would read the next set's.
  if (!(Number.isInteger(count) && count > 0 && Math.max(...sets.map((s) => count * s.weight)) <= 1000))
    throw new Error(
      `compare: --count must be a whole number, count x weight <= 1000 (the truck sets weigh 2): ${values.count}`,
    );
  if (!(first >= lo && end <= hi))
    throw new Error(`compare: seeds ${first}–${end} must lie in the validation range ${lo}–${hi} (--first-seed)`);
  if (positionals.length === 0) throw new Error('compare: name at least one model as name=folder');
  const models: { name: string; detector: OnnxDetector; thr: number; lane?: number }[] = [];
  for (const spec of positionals) {
    const at = spec.indexOf('=');
    const [name, dir] = [spec.slice(0, at), spec.slice(at + 1)];
    if (at < 1 || !dir) throw new Error(`compare: a model is name=folder, got "${spec}"`);
    if (models.some((m) => m.name === name)) throw new Error(`compare: two models are named "${name}"`);
    const detector = await OnnxDetector.open({ path: dir, threads: 1, warmup: true });
    const manifest = detector.manifest;
    const thr = manifest?.operatingPoint?.scoreThreshold;
    if (detector.status.state !== 'ready' || !manifest || thr === undefined)
      throw new Error(`compare: ${dir}: no model with an operating point`);
    // Its lane default too, where the manifest names another point (operatingPoint.laneDefault).
    const lane = operatingThresholds(manifest).operatingThreshold;
    models.push({ name, detector, thr, ...(lane !== undefined && lane !== thr ? { lane } : {}) });
  }
  const result: Record<string, { seeds: [number, number]; people: number[]; scores: Record<string, number[]> }> = {};
  for (const [k, set] of sets.entries()) {
    const n = count * set.weight;
    const r = {
      seeds: [seeds[k]!, seeds[k]! + n - 1] as [number, number],
      people: [] as number[],
      scores: {} as Record<string, number[]>,
    };
    for (const m of models) r.scores[m.name] = [];
    for await (const scan of testScans(seeds[k]!, n, set.settings, 1)) {
      r.people.push(scan.people.length);
      for (const m of models)
        r.scores[m.name]!.push((await analyzeImage(m.detector, scan.image, `seed-${scan.seed}`)).score);
    }
    result[set.name] = r;
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
}

// Run as a script (node bin/run-ts.js eval/compare-cli.ts …), not when a test imports its helpers.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1]))
  main().catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
