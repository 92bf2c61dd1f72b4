/**
 * Where 8-bit exports lose people: each export chain of eval/variants.ts decoded with the chain
 * named (its exact inverse: `named`), by the chain estimated from the high-energy image, which
 * decodes both energies (`estimate`, the runtime's 'auto'), linearly (grey x 257: `linear`), and by
 * model 2.0.0's normalising decoding per image (`normalise`), on the same test scans, at the model's
 * lane default (the manifest's, as `analyze` and a lane decide). Also prints the estimates.
 *
 *   node bin/run-ts.js eval/export-decoding.ts [--seed-start 2000300] [--count 24] [--cache DIR] [--model DIR]
 *
 * `--cache` keeps the synthesized clean scans (raw uint16 planes and their truth) so that runs after
 * a decoding change only export, decode and analyse.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { modelDir } from '../app/compose/model.js';
import {
  type ExportOption,
  decodeExport,
  describeEstimate,
  estimateExport,
  estimateLut,
  normaliseLut,
} from '../core/export-chain.js';
import { analyzeImage } from '../inference/analyze-image.js';
import { OnnxDetector } from '../inference/onnx-detector.js';
import { operatingThresholds } from '../inference/manifest.js';
import { auc, matchPeople, rates, type ScanOutcome } from './detection-metrics.js';
import { type EvalScan, testScans } from './test-set.js';
import { EXPORT_VARIANTS, exportGrey } from './variants.js';

const { values } = parseArgs({
  options: {
    'seed-start': { type: 'string', default: '2000300' },
    count: { type: 'string', default: '24' },
    cache: { type: 'string' },
    model: { type: 'string', default: 'models/person-fcn' },
    decodings: { type: 'string', default: 'named,estimate,linear,normalise' },
  },
});
const seedStart = Number(values['seed-start']);
const count = Number(values.count);
const decodings = values.decodings.split(',');

async function* scans(): AsyncGenerator<EvalScan> {
  const dir = values.cache;
  for (let k = 0; k < count; k++) {
    const seed = seedStart + k;
    const base = dir ? join(dir, String(seed)) : '';
    if (dir && existsSync(`${base}.json`)) {
      const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Omit<EvalScan, 'image'> & {
        width: number;
        height: number;
        pixelMm: number;
      };
      const plane = (name: string) => {
        const b = readFileSync(`${base}.${name}`);
        return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2).slice();
      };
      const low = existsSync(`${base}.low`) ? plane('low') : undefined;
      yield {
        ...meta,
        image: {
          width: meta.width,
          height: meta.height,
          pixelMm: meta.pixelMm,
          high: plane('high'),
          ...(low ? { low } : {}),
        },
      };
      continue;
    }
    for await (const s of testScans(seed, 1, { dual: true }, 0)) {
      if (dir) {
        mkdirSync(dir, { recursive: true });
        const { image, ...rest } = s;
        writeFileSync(`${base}.high`, image.high);
        if (image.low) writeFileSync(`${base}.low`, image.low);
        writeFileSync(
          `${base}.json`,
          JSON.stringify({ ...rest, width: image.width, height: image.height, pixelMm: image.pixelMm }),
        );
      }
      yield s;
    }
  }
}

const detector = await OnnxDetector.open({ path: modelDir(values.model), threads: 1, warmup: true });
const st = detector.status;
if (st.state !== 'ready') throw new Error(`export-decoding: model unavailable: ${st.reason}`);
const thr = (detector.manifest ? operatingThresholds(detector.manifest).operatingThreshold : undefined) ?? 0.5;
const REGION = 0.3;
const clean: ScanOutcome[] = [];
const out = new Map<string, ScanOutcome[]>();
const estimates = new Map<string, string[]>();
for await (const scan of scans()) {
  const boxes = scan.people.map((p) => p.box);
  const d = await analyzeImage(detector, scan.image);
  clean.push({ score: d.score, peopleMatched: matchPeople(boxes, d.regions, REGION) });
  for (const v of EXPORT_VARIANTS) {
    const g = await exportGrey(scan.image, v);
    const { width, height } = scan.image;
    const est = estimateExport(g.high, width, height);
    const list = estimates.get(v.name) ?? [];
    list.push(describeEstimate(est));
    estimates.set(v.name, list);
    for (const how of decodings) {
      const option: ExportOption = how === 'named' ? v.chain : how === 'linear' ? { scaling: 'linear' } : 'auto';
      // A dual-energy pair comes from one scanner's export: one estimate (from the high energy) decodes both.
      const shared = estimateLut(est);
      const dec = (p: Uint8Array) => {
        if (how === 'estimate') return Uint16Array.from(p, (v) => shared[v]);
        if (how === 'normalise') {
          const lut = normaliseLut(p, width, height);
          return Uint16Array.from(p, (v) => lut[v]);
        }
        return decodeExport(p, width, height, option);
      };
      const img = { ...scan.image, high: dec(g.high), ...(g.low ? { low: dec(g.low) } : {}) };
      const dv = await analyzeImage(detector, img);
      const key = `${v.name} | ${how}`;
      const l = out.get(key) ?? [];
      l.push({ score: dv.score, peopleMatched: matchPeople(boxes, dv.regions, REGION) });
      out.set(key, l);
    }
  }
  process.stderr.write(`seed ${scan.seed} done\n`);
}
const fmt = (name: string, o: ScanOutcome[]) => {
  const r = rates(o, thr);
  return `${name.padEnd(72)} people ${r.peopleFound}/${r.people} (${(100 * r.recall).toFixed(1)} %)  false alarms ${r.falseAlarms}/${r.clearScans}  AUC ${auc(o).toFixed(3)}`;
};
console.log(`${st.model.name} ${st.model.version}, seeds ${seedStart}–${seedStart + count - 1}, threshold ${thr}`);
console.log(fmt('clean', clean));
for (const [k, o] of out) console.log(fmt(k, o));
for (const [k, l] of estimates) {
  console.log(`\n${k}: estimates (high energy)`);
  const counts = new Map<string, number>();
  for (const e of l) counts.set(e, (counts.get(e) ?? 0) + 1);
  for (const [e, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`  ${n} x ${e}`);
}
await detector.close();
