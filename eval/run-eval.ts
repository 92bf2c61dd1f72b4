import type { Detection, ModelIdentity, ScanImage } from '../core/domain.js';
import { analyzeImage } from '../inference/analyze-image.js';
import type { OnnxDetector } from '../inference/onnx-detector.js';
import {
  auc,
  matchPeople,
  operatingThreshold,
  rates,
  rocCurve,
  type Box,
  type Rates,
  type ScanOutcome,
} from './detection-metrics.js';
import { examplePng } from './pictures.js';
import { datasetScans, testScans, TEST_SEEDS, type EvalScan, type EvalSettings } from './test-set.js';
import {
  applyExport,
  applyVariant,
  boxesIn,
  EXPORT_VARIANTS,
  exportDescription,
  VARIANT_DESCRIPTIONS,
  VARIANTS,
  type VariantName,
} from './variants.js';
import { GENERALISATION_SETS, heldOutFamilies, trainedOnClutter, trainedOnFanBeam } from './generalisation.js';

export interface EvalOptions {
  detector: OnnxDetector;
  model: ModelIdentity;
  seedStart: number;
  count: number;
  /** Scans (the first ones) also evaluated under each robustness variant. */
  robustCount: number;
  settings: EvalSettings;
  workers: number;
  /** Read the test scans from this data set folder instead of synthesizing them. */
  dataDir?: string;
  /** Lane defaults (lanes[].thresholds): the alert threshold a lane decides at when it sets none, and where it comes from. */
  alert: number;
  alertSource: 'manifest' | 'option' | 'fallback';
  /** The model's operating point chosen on families it never trained on (manifest operatingPoint.heldOut), if it names one. */
  heldOut?: number;
  /** The manifest's operatingPoint.scoreThreshold where it is not the lane default (a model whose laneDefault is its held-out point). */
  modelPoint?: number;
  region: number;
  maxFalseAlarmRate: number;
  /** Scans per generalisation set (eval/generalisation.ts; the truck set takes twice as many); 0 = none. */
  generalisationCount?: number;
  progress?: (done: number, total: number, seed: number) => void;
}

export interface ScanRecord extends ScanOutcome {
  seed: number;
  vehicleClass: string;
  cargoDensity: string;
  hidingPlaces: string[];
  regions: number;
  /** Whether a reported region is body-plausible by its material evidence (null: no low-energy image). */
  bodyPlausible: boolean | null;
  ms: number;
}

export interface GroupFigures {
  auc: number;
  atOperating: Rates;
}

export interface EvalReport {
  model: ModelIdentity;
  generatedAt: string;
  durationS: number;
  testSet: {
    generator: string;
    dataDir?: string;
    firstSeed: number;
    lastSeed: number;
    count: number;
    testSeedRange: { first: number; last: number };
    settings: EvalSettings;
    robustnessScans: number;
  };
  definitions: Record<string, string>;
  thresholds: {
    laneDefault: { alert: number; alertSource: 'manifest' | 'option' | 'fallback'; region: number };
    operating: { alert: number; region: number; maxFalseAlarmRate: number };
    /** lanes[].thresholds.alert: held-out (the manifest's operatingPoint.heldOut). */
    heldOut?: { alert: number };
    /** The manifest's operatingPoint.scoreThreshold, where it is not the lane default. */
    modelPoint?: { alert: number };
  };
  overall: { auc: number; atLaneDefault: Rates; atOperating: Rates; atHeldOut?: Rates; atModelPoint?: Rates };
  /** The same scans with lanes[].thresholds.bodyEvidence = 'require': a dual-energy scan is a person only with a body-plausible region. */
  bodyEvidence: {
    atOperating: Rates;
    atLaneDefault: Rates;
    trucksWithoutPeople?: { atOperating: Rates; atLaneDefault: Rates };
    /** The clear trucks with random objects (generalisation set), with bodyEvidence require. */
    randomObjectsWithoutPeople?: { atOperating: Rates; atLaneDefault: Rates };
  };
  acceptance: {
    target: string;
    recallAtOperating: number;
    falseAlarmRateAtOperating: number;
    met: boolean;
    /** The same target at the lane's default threshold, fixed before this test set was seen. */
    atLaneDefault: { recall: number; falseAlarmRate: number; met: boolean };
  };
  byVehicleClass: Record<string, GroupFigures>;
  byCargoDensity: Record<string, GroupFigures>;
  byHidingPlace: Record<string, { people: number; found: number; recall: number }>;
  robustness: Record<
    string,
    { description: string; scans: number; auc: number; atOperating: Rates; clean: { auc: number; atOperating: Rates } }
  >;
  /** Held-out families, other pitches, trucks without people (eval/generalisation.ts), at both thresholds. */
  generalisation: Record<
    string,
    {
      kind: string;
      description: string;
      firstSeed: number;
      scans: number;
      auc: number;
      atOperating: Rates;
      atLaneDefault: Rates;
      scores: { score: number; people: number; found: number }[];
      /** A random-object set: the same scenes without the objects (generalisation.ts sameScenesAs), read the same way. */
      sameScenesWithout?: { sameScenesAs: string; auc: number; atOperating: Rates; atLaneDefault: Rates };
    }
  >;
  timing: { msPerScanMedian: number; scanMegapixelsMedian: number };
  roc: { fpr: number; tpr: number; threshold: number }[];
  scans: ScanRecord[];
}

export interface Example {
  kind: 'hit' | 'miss' | 'false-alarm' | 'top-clear' | 'hard-negative';
  seed: number;
  png: Buffer;
}

interface Candidate {
  seed: number;
  score: number;
  allMatched: boolean;
  render: () => Promise<Buffer>;
  png?: Buffer;
}

/** Runs the detector over the held-out synthetic test set; returns the report and example pictures. */
export async function runEvaluation(o: EvalOptions): Promise<{ report: EvalReport; examples: Example[] }> {
  const t0 = performance.now();
  const records: ScanRecord[] = [];
  const variantOutcomes = new Map<VariantName, ScanOutcome[]>(VARIANTS.map((v) => [v, []]));
  const exportOutcomes = new Map<string, ScanOutcome[]>(EXPORT_VARIANTS.map((v) => [v.name, []]));
  const cleanOfRobust: ScanOutcome[] = [];
  const lowPerson: Candidate[] = [];
  const highClear: Candidate[] = [];
  const hits: Candidate[] = [];
  const partial: Candidate[] = [];
  const times: number[] = [];
  const mps: number[] = [];

  const keep = async (list: Candidate[], c: Candidate, better: (a: Candidate, b: Candidate) => number, n: number) => {
    list.push(c);
    list.sort(better);
    if (list.length > n) list.pop();
    if (list.includes(c)) c.png = await c.render();
  };

  let k = 0;
  const source = o.dataDir ? datasetScans(o.dataDir, o.count) : testScans(o.seedStart, o.count, o.settings, o.workers);
  for await (const scan of source) {
    const t = performance.now();
    const d = await analyzeImage(o.detector, scan.image, `seed-${scan.seed}`);
    times.push(performance.now() - t);
    mps.push((scan.image.width * scan.image.height) / 1e6);
    const boxes = scan.people.map((p) => p.box);
    const matched = matchPeople(boxes, d.regions, o.region);
    const rec: ScanRecord = {
      seed: scan.seed,
      score: d.score,
      peopleMatched: matched,
      vehicleClass: scan.vehicleClass,
      cargoDensity: scan.cargoDensity,
      hidingPlaces: scan.people.map((p) => p.hidingPlace),
      regions: d.regions.filter((r) => r.score >= o.region).length,
      bodyPlausible: scan.image.low
        ? d.regions.some((r) => r.score >= o.region && r.evidence?.bodyPlausible === true)
        : null,
      ms: Math.round(times[times.length - 1]),
    };
    records.push(rec);
    const c: Candidate = {
      seed: scan.seed,
      score: d.score,
      allMatched: matched.every(Boolean),
      render: () => render(scan, d, o.region),
    };
    if (boxes.length) {
      await keep(lowPerson, c, (a, b) => a.score - b.score, 3);
      if (d.score >= o.alert && c.allMatched && hits.length < 3) await keep(hits, { ...c }, () => 0, 3);
      if (d.score >= o.alert && !c.allMatched && partial.length < 2) await keep(partial, { ...c }, () => 0, 2);
    } else {
      await keep(highClear, c, (a, b) => b.score - a.score, 3);
    }
    if (k < o.robustCount) {
      cleanOfRobust.push(rec);
      for (const v of VARIANTS) {
        const img = applyVariant(scan.image, v, scan.seed, scan.photonsHigh);
        const dv = await analyzeImage(o.detector, img, `seed-${scan.seed}-${v}`);
        const at = boxesIn(boxes, scan.image, img);
        variantOutcomes.get(v)!.push({ score: dv.score, peopleMatched: matchPeople(at, dv.regions, o.region) });
      }
      for (const v of EXPORT_VARIANTS) {
        const img = await applyExport(scan.image, v);
        const dv = await analyzeImage(o.detector, img, `seed-${scan.seed}-${v.name}`);
        exportOutcomes.get(v.name)!.push({ score: dv.score, peopleMatched: matchPeople(boxes, dv.regions, o.region) });
      }
    }
    k++;
    o.progress?.(k, o.count, scan.seed);
  }

  const thr = operatingThreshold(
    records.filter((r) => !r.peopleMatched.length).map((r) => r.score),
    o.maxFalseAlarmRate,
  );
  const atOp = rates(records, thr);
  const atLane = rates(records, o.alert);
  const group = (key: (r: ScanRecord) => string) => {
    const out: Record<string, GroupFigures> = {};
    for (const name of [...new Set(records.map(key))].sort()) {
      const rs = records.filter((r) => key(r) === name);
      out[name] = { auc: auc(rs), atOperating: rates(rs, thr) };
    }
    return out;
  };
  const byHiding: EvalReport['byHidingPlace'] = {};
  for (const r of records) {
    r.hidingPlaces.forEach((h, i) => {
      byHiding[h] ??= { people: 0, found: 0, recall: 0 };
      const e = byHiding[h];
      e.people++;
      if (r.score >= thr && r.peopleMatched[i]) e.found++;
    });
  }
  for (const e of Object.values(byHiding)) e.recall = e.found / e.people;
  const robustness: EvalReport['robustness'] = {};
  for (const v of VARIANTS) {
    const vs = variantOutcomes.get(v)!;
    robustness[v] = {
      description: VARIANT_DESCRIPTIONS[v],
      scans: vs.length,
      auc: auc(vs),
      atOperating: rates(vs, thr),
      clean: { auc: auc(cleanOfRobust), atOperating: rates(cleanOfRobust, thr) },
    };
  }
  for (const v of EXPORT_VARIANTS) {
    const vs = exportOutcomes.get(v.name)!;
    robustness[v.name] = {
      description: exportDescription(v),
      scans: vs.length,
      auc: auc(vs),
      atOperating: rates(vs, thr),
      clean: { auc: auc(cleanOfRobust), atOperating: rates(cleanOfRobust, thr) },
    };
  }

  // Generalisation sets, at the main test set's operating threshold and at the lane default.
  const generalisation: EvalReport['generalisation'] = {};
  const truckGated: ScanOutcome[] = [];
  const objectsGated: ScanOutcome[] = [];
  const hardNegatives: Candidate[] = [];
  const perSet = o.dataDir ? 0 : (o.generalisationCount ?? 0);
  const heldOut = heldOutFamilies(o.detector.manifest?.training);
  const clutterTrained = trainedOnClutter(o.detector.manifest?.training);
  const fanTrained = trainedOnFanBeam(o.detector.manifest?.training);
  const setOutcomes = new Map<string, ScanOutcome[]>();
  for (const set of perSet > 0 ? GENERALISATION_SETS : []) {
    const outs: ScanOutcome[] = [];
    const main = set.sameScenesAs === 'main';
    // The same scenes as the main test's first scans: no more of them than it read.
    const n = main ? Math.min(perSet * set.weight, records.length) : perSet * set.weight;
    const without = main
      ? records.slice(0, n).map((r) => ({ score: r.score, peopleMatched: r.peopleMatched }))
      : set.sameScenesAs !== undefined
        ? setOutcomes.get(set.sameScenesAs)?.slice(0, n)
        : undefined;
    const first = main ? o.seedStart : set.firstSeed!;
    // The main test's own settings, objects or fan beam added: the same scenes whatever the main test was told.
    const settings = main
      ? { ...o.settings, clutter: set.settings.clutter, fanBeam: set.settings.fanBeam }
      : set.settings;
    for await (const scan of testScans(first, n, settings, o.workers)) {
      const d = await analyzeImage(o.detector, scan.image, `seed-${scan.seed}`);
      const out = {
        score: d.score,
        peopleMatched: matchPeople(
          scan.people.map((p) => p.box),
          d.regions,
          o.region,
        ),
      };
      outs.push(out);
      // Clear scans read again with bodyEvidence require: the trucks, and the trucks with random objects.
      const gatedInto =
        set.kind === 'no-person trucks'
          ? truckGated
          : set.kind === 'random objects' && set.settings.personShare === 0
            ? objectsGated
            : undefined;
      if (gatedInto)
        gatedInto.push(
          ...gated([
            {
              ...out,
              bodyPlausible: scan.image.low
                ? d.regions.some((r) => r.score >= o.region && r.evidence?.bodyPlausible === true)
                : null,
            },
          ]),
        );
      if (set.kind === 'no-person trucks')
        await keep(
          hardNegatives,
          { seed: scan.seed, score: d.score, allMatched: true, render: () => render(scan, d, o.region) },
          (a, b) => b.score - a.score,
          3,
        );
      o.progress?.(outs.length, n, scan.seed);
    }
    setOutcomes.set(set.name, outs);
    generalisation[set.name] = {
      kind: set.kind,
      description: set.family
        ? `${set.description}; ${heldOut.has(set.family) ? 'never in training' : 'in training'}`
        : set.kind === 'random objects'
          ? `${set.description}; ${clutterTrained ? 'its training scans had such objects (--clutter)' : 'its training scans had none (no --clutter)'}`
          : set.kind === 'fan beam'
            ? `${set.description}; ${fanTrained ? 'its training scans included fan-beam scans (--fan-beam)' : 'its training scans were all parallel-beam (no --fan-beam)'}`
            : set.description,
      firstSeed: first,
      scans: outs.length,
      auc: auc(outs),
      atOperating: rates(outs, thr),
      atLaneDefault: rates(outs, o.alert),
      scores: outs.map((x) => ({
        score: x.score,
        people: x.peopleMatched.length,
        found: x.peopleMatched.filter(Boolean).length,
      })),
      ...(without && set.sameScenesAs !== undefined
        ? {
            sameScenesWithout: {
              sameScenesAs: main ? "the main test set's first scans" : set.sameScenesAs,
              auc: auc(without),
              atOperating: rates(without, thr),
              atLaneDefault: rates(without, o.alert),
            },
          }
        : {}),
    };
  }

  const pos = records.filter((r) => r.peopleMatched.length).map((r) => r.score);
  const neg = records.filter((r) => !r.peopleMatched.length).map((r) => r.score);
  const sortedTimes = [...times].sort((a, b) => a - b);
  const sortedMp = [...mps].sort((a, b) => a - b);
  const report: EvalReport = {
    model: o.model,
    generatedAt: new Date().toISOString(),
    durationS: Math.round((performance.now() - t0) / 1000),
    testSet: {
      generator: 'sim/xray synthesizeScan (docs/xray-synthesizer.md)',
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      firstSeed: records[0]?.seed ?? o.seedStart,
      lastSeed: records[records.length - 1]?.seed ?? o.seedStart,
      count: records.length,
      testSeedRange: { first: TEST_SEEDS.first, last: TEST_SEEDS.last },
      settings: o.settings,
      robustnessScans: Math.min(o.robustCount, records.length),
    },
    definitions: {
      found:
        'a person is found when the scan verdict is person (score >= alert threshold) and a region scoring >= the region threshold overlaps the person box with IoU >= 0.1, or the centre of the region lies inside the person box',
      recall: 'people found / people in the test scans',
      falseAlarmRate: 'scans without people whose verdict is person / scans without people',
      auc: 'ROC AUC of the calibrated scan score, scans with people against scans without',
      operatingThreshold: `the lowest alert threshold with at most ${(o.maxFalseAlarmRate * 100).toFixed(0)} % false alarms on the scans without people of this test set`,
    },
    thresholds: {
      laneDefault: { alert: o.alert, alertSource: o.alertSource, region: o.region },
      operating: { alert: thr, region: o.region, maxFalseAlarmRate: o.maxFalseAlarmRate },
      ...(o.heldOut !== undefined ? { heldOut: { alert: o.heldOut } } : {}),
      ...(o.modelPoint !== undefined ? { modelPoint: { alert: o.modelPoint } } : {}),
    },
    overall: {
      auc: auc(records),
      atLaneDefault: atLane,
      atOperating: atOp,
      ...(o.heldOut !== undefined ? { atHeldOut: rates(records, o.heldOut) } : {}),
      ...(o.modelPoint !== undefined ? { atModelPoint: rates(records, o.modelPoint) } : {}),
    },
    bodyEvidence: {
      atOperating: rates(gated(records), thr),
      atLaneDefault: rates(gated(records), o.alert),
      ...(truckGated.length
        ? { trucksWithoutPeople: { atOperating: rates(truckGated, thr), atLaneDefault: rates(truckGated, o.alert) } }
        : {}),
      ...(objectsGated.length
        ? {
            randomObjectsWithoutPeople: {
              atOperating: rates(objectsGated, thr),
              atLaneDefault: rates(objectsGated, o.alert),
            },
          }
        : {}),
    },
    acceptance: {
      target: 'recall >= 95 % at <= 2 % false alarms on scans without people',
      recallAtOperating: atOp.recall,
      falseAlarmRateAtOperating: atOp.falseAlarmRate,
      met: atOp.recall >= 0.95 && atOp.falseAlarmRate <= 0.02,
      atLaneDefault: {
        recall: atLane.recall,
        falseAlarmRate: atLane.falseAlarmRate,
        met: atLane.recall >= 0.95 && atLane.falseAlarmRate <= 0.02,
      },
    },
    byVehicleClass: group((r) => r.vehicleClass),
    byCargoDensity: group((r) => r.cargoDensity),
    byHidingPlace: Object.fromEntries(Object.entries(byHiding).sort(([a], [b]) => a.localeCompare(b))),
    robustness,
    generalisation,
    timing: {
      msPerScanMedian: Math.round(sortedTimes[sortedTimes.length >> 1] ?? 0),
      scanMegapixelsMedian: Math.round((sortedMp[sortedMp.length >> 1] ?? 0) * 100) / 100,
    },
    roc: thinCurve(rocCurve(pos, neg)),
    scans: records, // full-precision scores, so that counting them at a threshold gives the reported figures
  };

  const examples: Example[] = [];
  for (const c of hits) if (c.png) examples.push({ kind: 'hit', seed: c.seed, png: c.png });
  for (const c of [...lowPerson, ...partial]) {
    if (c.png && (c.score < thr || !c.allMatched) && !examples.some((e) => e.seed === c.seed))
      examples.push({ kind: 'miss', seed: c.seed, png: c.png });
  }
  for (const c of highClear)
    if (c.png) examples.push({ kind: c.score >= thr ? 'false-alarm' : 'top-clear', seed: c.seed, png: c.png });
  for (const c of hardNegatives) if (c.png) examples.push({ kind: 'hard-negative', seed: c.seed, png: c.png });
  return { report, examples };
}

async function render(scan: EvalScan, d: Detection, regionThreshold: number): Promise<Buffer> {
  const img: ScanImage = scan.image;
  const people: Box[] = scan.people.map((p) => p.box);
  const caption = `seed ${scan.seed}: ${scan.vehicleClass}, ${scan.cargoDensity} cargo, ${scan.people.length} ${scan.people.length === 1 ? 'person' : 'people'}${scan.people.length ? ` (${[...new Set(scan.people.map((p) => p.hidingPlace))].join(', ')})` : ''}; score ${d.score.toFixed(3)}. Green: people, red: regions.`;
  return examplePng(
    img,
    people,
    d.regions.filter((r) => r.score >= regionThreshold),
    caption,
  );
}

/** At most ~200 points, keeping the first and last. */
function thinCurve<T>(pts: T[]): T[] {
  if (pts.length <= 200) return pts;
  const step = pts.length / 199;
  const out: T[] = [];
  for (let i = 0; i < 199; i++) out.push(pts[Math.floor(i * step)]);
  out.push(pts[pts.length - 1]);
  return out;
}

/** Outcomes as a lane with bodyEvidence 'require' decides them: no body-plausible region on a dual-energy scan, no alarm. */
function gated(rs: (ScanOutcome & { bodyPlausible: boolean | null })[]): ScanOutcome[] {
  return rs.map((r) => ({ score: r.bodyPlausible === false ? 0 : r.score, peopleMatched: r.peopleMatched }));
}
