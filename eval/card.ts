import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Rates } from './detection-metrics.js';
import type { EvalReport } from './run-eval.js';

const EVAL_BEGIN = '<!-- eval:begin -->';
const EVAL_END = '<!-- eval:end -->';

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : 'n/a');
const pct2 = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(2)} %` : 'n/a');
const num = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

function ratesRow(name: string, r: Rates, aucV: number): string {
  return `| ${name} | ${r.scans} | ${r.scansWithPeople} | ${r.people} | ${pct(r.recall)} | ${pct(r.scanRecall)} | ${r.falseAlarms}/${r.clearScans} (${pct(r.falseAlarmRate)}) | ${num(aucV)} |`;
}

const HEAD =
  '| | scans | with people | people | people found | scans flagged | false alarms | ROC AUC |\n|---|---:|---:|---:|---:|---:|---:|---:|';

/** The model card's evaluation section (between the eval markers), from an evaluation report. */
export function evalSection(
  r: EvalReport,
  pictures: { roc: string; examples: { file: string; kind: string; seed: number }[] },
): string {
  const op = r.thresholds.operating;
  const o = r.overall;
  const L: string[] = [];
  L.push(`## Evaluation on the held-out test set`, '');
  L.push(
    `Written by \`npm run eval\` on ${r.generatedAt.slice(0, 10)} for model ${r.model.name} ${r.model.version} (sha256 \`${r.model.sha256?.slice(0, 16)}…\`); full figures in \`eval.json\`.`,
  );
  L.push(
    `Test set: ${r.testSet.count} synthetic scans, seeds ${r.testSet.firstSeed}–${r.testSet.lastSeed} (the synthesizer's test range ${r.testSet.testSeedRange.first}–${r.testSet.testSeedRange.last}, never used in training), settings \`${JSON.stringify(r.testSet.settings)}\`, analysed by the runtime (inference/) exactly as a lane does. ${r.durationS} s in all; median ${r.timing.msPerScanMedian} ms per scan of ${r.timing.scanMegapixelsMedian} megapixels.`,
    '',
  );
  L.push(
    `A person counts as found when the scan's verdict is person and a reported region (score ≥ ${op.region}) overlaps the person's box with IoU ≥ 0.1 or the region's centre lies inside the person's box. False alarms: verdict person on a scan without people.`,
    '',
  );
  L.push(
    `**Operating threshold** (≤ ${pct(op.maxFalseAlarmRate)} false alarms on this test set's clear scans): alert = ${num(op.alert, 4)}: the point of the ROC curve the acceptance target is read at. A lane that sets no alert threshold decides at the lane default below.`,
    '',
  );
  const a = o.atOperating;
  L.push(
    `**Acceptance** (${r.acceptance.target}): ${r.acceptance.met ? '**met**' : '**not met**'}: ${a.peopleFound} of ${a.people} people found (${pct2(a.recall)}) with ${a.falseAlarms} of ${a.clearScans} scans without people flagged (${pct2(a.falseAlarmRate)}).`,
    '',
  );
  const l = o.atLaneDefault;
  const laneIsHeldOut =
    r.thresholds.laneDefault.alertSource === 'manifest' &&
    r.thresholds.heldOut?.alert === r.thresholds.laneDefault.alert;
  const laneWhy =
    r.thresholds.laneDefault.alertSource === 'option'
      ? 'given with --alert'
      : r.thresholds.laneDefault.alertSource === 'fallback'
        ? 'no operating point in the manifest'
        : laneIsHeldOut
          ? 'the held-out point, chosen on validation scans of families held out of training; the rule that made it the lane default was read on these test seeds (docs/training.md)'
          : 'fixed on validation scans before this test set was seen';
  L.push(
    `**At the lane's default threshold** (${num(r.thresholds.laneDefault.alert, 4)}, ${laneWhy}): the same target ${r.acceptance.atLaneDefault.met ? '**met**' : '**not met**'}: ${l.peopleFound} of ${l.people} people found (${pct2(l.recall)}) with ${l.falseAlarms} of ${l.clearScans} scans without people flagged (${pct2(l.falseAlarmRate)}).`,
    '',
  );
  L.push(HEAD);
  L.push(ratesRow(`operating threshold ${num(op.alert, 3)}`, o.atOperating, o.auc));
  const lane = r.thresholds.laneDefault;
  const laneLabel = {
    manifest: laneIsHeldOut
      ? `lane default ${num(lane.alert, 3)} (the manifest's lane default: its held-out point; also lanes[].thresholds.alert: held-out)`
      : `lane default ${num(lane.alert, 3)} (the manifest's operating point, chosen on validation scans)`,
    option: `alert ${num(lane.alert, 3)} (--alert)`,
    fallback: `lane default ${num(lane.alert, 3)} (the model names no operating point)`,
  }[lane.alertSource];
  L.push(ratesRow(laneLabel, o.atLaneDefault, o.auc));
  if (r.thresholds.modelPoint && o.atModelPoint)
    L.push(
      ratesRow(
        `model's operating point ${num(r.thresholds.modelPoint.alert, 3)} (operatingPoint.scoreThreshold, chosen on validation scans; a lane sets it as a number)`,
        o.atModelPoint,
        o.auc,
      ),
    );
  if (r.thresholds.heldOut && o.atHeldOut && !laneIsHeldOut)
    L.push(
      ratesRow(
        `held-out point ${num(r.thresholds.heldOut.alert, 3)} (lanes[].thresholds.alert: held-out; chosen on families never trained on)`,
        o.atHeldOut,
        o.auc,
      ),
    );
  if (r.bodyEvidence) {
    L.push(ratesRow(`operating threshold, bodyEvidence require`, r.bodyEvidence.atOperating, NaN));
    L.push(ratesRow(`lane default, bodyEvidence require`, r.bodyEvidence.atLaneDefault, NaN));
    const t = r.bodyEvidence.trucksWithoutPeople;
    if (t) L.push(ratesRow(`trucks without people, bodyEvidence require (operating)`, t.atOperating, NaN));
    const ro = r.bodyEvidence.randomObjectsWithoutPeople;
    if (ro) {
      L.push(ratesRow(`trucks without people, random objects, bodyEvidence require (operating)`, ro.atOperating, NaN));
      L.push(
        ratesRow(`trucks without people, random objects, bodyEvidence require (lane default)`, ro.atLaneDefault, NaN),
      );
    }
  }
  L.push('');
  L.push(
    'bodyEvidence require (lanes[].thresholds.bodyEvidence): on dual-energy scans a person verdict also needs a reported region whose material evidence (inference/material.ts: low/high attenuation ratio of what the region adds, and its water-equivalent thickness) is plausible for a body.',
    '',
  );
  L.push(`![ROC curve](${pictures.roc})`, '');
  L.push('### By category (at the operating threshold)', '');
  for (const [title, groups] of [
    ['vehicle class', r.byVehicleClass],
    ['cargo density', r.byCargoDensity],
  ] as const) {
    L.push(
      `| ${title} | scans | with people | people | people found | scans flagged | false alarms | ROC AUC |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const [name, g] of Object.entries(groups)) L.push(ratesRow(name, g.atOperating, g.auc));
    L.push('');
  }
  L.push('| hiding place | people | found |', '|---|---:|---:|');
  for (const [name, h] of Object.entries(r.byHidingPlace)) L.push(`| ${name} | ${h.people} | ${pct(h.recall)} |`);
  L.push('');
  L.push(`### Robustness (first ${r.testSet.robustnessScans} test scans, operating threshold of the clean set)`, '');
  L.push('| variant | people found | scans flagged | false alarms | ROC AUC | what |', '|---|---:|---:|---:|---:|---|');
  const clean = Object.values(r.robustness)[0]?.clean;
  if (clean)
    L.push(
      `| clean (same scans) | ${pct(clean.atOperating.recall)} | ${pct(clean.atOperating.scanRecall)} | ${clean.atOperating.falseAlarms}/${clean.atOperating.clearScans} (${pct(clean.atOperating.falseAlarmRate)}) | ${num(clean.auc)} | as synthesized |`,
    );
  for (const [name, v] of Object.entries(r.robustness)) {
    L.push(
      `| ${name} | ${pct(v.atOperating.recall)} | ${pct(v.atOperating.scanRecall)} | ${v.atOperating.falseAlarms}/${v.atOperating.clearScans} (${pct(v.atOperating.falseAlarmRate)}) | ${num(v.auc)} | ${v.description} |`,
    );
  }
  L.push('');
  const gen = Object.entries(r.generalisation ?? {});
  if (gen.length) {
    L.push('### Families, other pitches, trucks without people, random objects, fan beam', '');
    L.push(
      'Test sets of one family each (whether this model saw the family in training is said per row: training/train.sh HOLD_OUT, ' +
        "the manifest's training.heldOut), other pixel pitches, trucks without people, and scans with objects of random shape and " +
        'material over the vehicle (sim/xray/clutter.ts; whether the model was trained with such objects is said per row), and ' +
        'scans projected with a fan beam from a source beside the lane, as fielded scanners see vehicles (docs/xray-synthesizer.md; ' +
        'whether the model was trained with such scans is said per row). ' +
        'Each set below has its own test seeds; figures at the operating threshold of the main test set and at the lane default.',
      '',
    );
    L.push(
      '| set | what | scans | people | people found (operating / lane default) | false alarms (operating / lane default) | ROC AUC |',
      '|---|---|---:|---:|---:|---:|---:|',
    );
    const fa = (x: Rates) => (x.clearScans ? `${x.falseAlarms}/${x.clearScans} (${pct(x.falseAlarmRate)})` : '–');
    for (const [name, g] of gen) {
      L.push(
        `| ${name} | ${g.description} | ${g.scans} | ${g.atOperating.people} | ${g.atOperating.people ? `${pct(g.atOperating.recall)} / ${pct(g.atLaneDefault.recall)}` : '–'} | ${fa(g.atOperating)} / ${fa(g.atLaneDefault)} | ${num(g.auc)} |`,
      );
    }
    L.push('');
    const paired = gen.filter(([, g]) => g.sameScenesWithout);
    if (paired.length) {
      L.push(
        'Random objects and fan beam: the same scenes without and with them (the objects and the fan-beam geometry have random streams of their own, so vehicle, load and people are the same). Each cell: without → with.',
        '',
        '| set | scans | people found, operating | people found, lane default | false alarms, operating | false alarms, lane default | ROC AUC |',
        '|---|---:|---:|---:|---:|---:|---:|',
      );
      const found = (x: Rates) => (x.people ? `${x.peopleFound}/${x.people}` : '–');
      const alarms = (x: Rates) => (x.clearScans ? `${x.falseAlarms}/${x.clearScans}` : '–');
      for (const [name, g] of paired) {
        const w = g.sameScenesWithout!;
        L.push(
          `| ${name} (without: ${w.sameScenesAs}) | ${g.scans} | ${found(w.atOperating)} → ${found(g.atOperating)} | ${found(w.atLaneDefault)} → ${found(g.atLaneDefault)} | ${alarms(w.atOperating)} → ${alarms(g.atOperating)} | ${alarms(w.atLaneDefault)} → ${alarms(g.atLaneDefault)} | ${num(w.auc)} → ${num(g.auc)} |`,
        );
      }
      L.push('');
    }
  }
  if (pictures.examples.length) {
    L.push(
      '### Examples',
      '',
      'Green boxes: the people (truth); red boxes: the regions the model reports, with their scores.',
      '',
    );
    const label: Record<string, string> = {
      hit: 'Hit',
      miss: 'Miss',
      'false-alarm': 'False alarm',
      'top-clear': 'Highest-scoring scan without people (below the threshold: not an alarm)',
      'hard-negative': 'Hardest truck without people (highest score in the truck set)',
    };
    for (const e of pictures.examples)
      L.push(`${label[e.kind] ?? e.kind} (seed ${e.seed}):`, '', `![${e.kind} seed ${e.seed}](${e.file})`, '');
  }
  return L.join('\n');
}

/** Replaces the card's eval section (or appends one) and writes the card back. */
export function rewriteCard(path: string, section: string, title: string): void {
  const block = `${EVAL_BEGIN}\n${section}\n${EVAL_END}`;
  if (!existsSync(path)) {
    writeFileSync(path, `# ${title}\n\n${block}\n`);
    return;
  }
  const text = readFileSync(path, 'utf8');
  const b = text.indexOf(EVAL_BEGIN);
  const e = text.indexOf(EVAL_END);
  const next =
    b >= 0 && e > b ? text.slice(0, b) + block + text.slice(e + EVAL_END.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}
