import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY } from '../../../helpers/inference.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/checkpoint-edge.js'), 'eval', ...args],
      { cwd: ROOT, timeout: 230_000 },
      (err, stdout, stderr) => {
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('checkpoint-edge eval (tiny fixture model, 2 synthetic test scans)', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'ce-eval-'));
    writeFileSync(
      join(out, 'MODEL_CARD.md'),
      '# Card\n\nIntro kept.\n\n<!-- eval:begin -->\nold figures\n<!-- eval:end -->\n\n## Limits\n\nkept too\n',
    );
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes eval.json, the ROC curve, examples, and rewrites only the eval section of the card', async () => {
    const r = await cli([
      '--model',
      TINY,
      '--out',
      out,
      '--count',
      '2',
      '--robust-count',
      '1',
      '--workers',
      '1',
      '--generalisation',
      '1',
    ]);
    expect(r.stderr).toMatch(/tiny-fcn 0\.0\.1: 2 test scans from seed 2000000/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/on 2 held-out scans: ROC AUC/);
    const rep = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    expect(rep.model.name).toBe('tiny-fcn');
    expect(rep.testSet).toMatchObject({ firstSeed: 2000000, lastSeed: 2000001, count: 2, robustnessScans: 1 });
    expect(rep.scans).toHaveLength(2);
    expect(Object.keys(rep.robustness)).toEqual([
      'extra-noise',
      'dead-channels',
      'missing-lines',
      '8-bit',
      'high-energy-only',
      'open-beam-60',
      'attenuation-x1.3',
      'attenuation-x0.8',
      'low-energy-x1.15',
      'low-energy-x0.9',
      'lines-2x-apart',
      'lines-2x-apart-square',
      'export linear, PNG',
      'export linear gamma 0.5, JPEG 90',
      'export log 8, JPEG 75',
      'export log 10 window 0.1-0.95 gamma 1.8, JPEG 50',
      'export linear inverted gamma 0.7, JPEG 80 (held out)',
    ]);
    expect(rep.robustness['8-bit'].scans).toBe(1);
    expect(rep.robustness['lines-2x-apart'].scans).toBe(1);
    expect(rep.robustness['export log 8, JPEG 75'].scans).toBe(1);
    // One scan per generalisation set (two in the truck sets), each with its own seeds, but for the random-object
    // sets: the same scenes as the trucks without people and as the main test's first scans, read side by side.
    expect(Object.keys(rep.generalisation)).toEqual([
      'vehicle: bus',
      'trailer: tanker',
      'cargo: furniture',
      'hiding place: cab-roof',
      'decoy: produce-bin',
      'pitch 4 mm',
      'pitch 8 mm',
      'trucks without people',
      'trucks without people, random objects',
      'test scans with random objects',
      'trucks without people, fan beam',
      'test scans with a fan beam',
    ]);
    expect(rep.generalisation['trucks without people']).toMatchObject({ scans: 2, firstSeed: 2057000 });
    const trucks = rep.generalisation['trucks without people'];
    const objects = rep.generalisation['trucks without people, random objects'];
    expect(objects).toMatchObject({ scans: 2, firstSeed: 2057000, kind: 'random objects' });
    expect(objects.description).toMatch(/; its training scans had none \(no --clutter\)$/);
    // Read beside it: the set without objects, as that set read it.
    expect(objects.sameScenesWithout).toEqual({
      sameScenesAs: 'trucks without people',
      auc: trucks.auc,
      atOperating: trucks.atOperating,
      atLaneDefault: trucks.atLaneDefault,
    });
    // The fan-beam trucks: the same scenes, read beside them, and the row says the model never trained on such scans.
    const fan = rep.generalisation['trucks without people, fan beam'];
    expect(fan).toMatchObject({ scans: 2, firstSeed: 2057000, kind: 'fan beam' });
    expect(fan.description).toMatch(/; its training scans were all parallel-beam \(no --fan-beam\)$/);
    expect(fan.sameScenesWithout.atOperating).toEqual(trucks.atOperating);
    expect(rep.generalisation['test scans with a fan beam'].sameScenesWithout.atOperating).toEqual(
      rep.overall.atOperating,
    );
    // The main test's first scans: no more than it read (2), with its first seed, and its figures on them beside.
    const main = rep.generalisation['test scans with random objects'];
    expect(main).toMatchObject({ scans: 2, firstSeed: 2000000 });
    expect(main.sameScenesWithout.sameScenesAs).toBe("the main test set's first scans");
    expect(main.sameScenesWithout.atOperating).toEqual(rep.overall.atOperating);
    expect(main.scores.map((x: { people: number }) => x.people)).toEqual(
      rep.scans.map((x: { peopleMatched: boolean[] }) => x.peopleMatched.length),
    );
    expect(rep.generalisation['trucks without people'].atOperating.people).toBe(0);
    expect(rep.generalisation['vehicle: bus'].scans).toBe(1);
    // The fixture's manifest holds no family out of training, and each family row says so.
    expect(rep.generalisation['vehicle: bus'].description).toMatch(/; in training$/);
    const people = rep.scans.reduce((n: number, s: { peopleMatched: boolean[] }) => n + s.peopleMatched.length, 0);
    expect(rep.overall.atOperating.people).toBe(people);
    expect(existsSync(join(out, 'eval-roc.png'))).toBe(true);
    const card = readFileSync(join(out, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/^# Card\n\nIntro kept\.\n\n<!-- eval:begin -->\n## Evaluation on the held-out test set/);
    expect(card).not.toMatch(/old figures/);
    expect(card).toMatch(/<!-- eval:end -->\n\n## Limits\n\nkept too\n$/);
    expect(card).toMatch(/!\[ROC curve\]\(eval-roc\.png\)/);
    expect(card).toMatch(
      /\n\| trucks without people, random objects \(without: trucks without people\) \| 2 \| – → – \|/,
    );
    expect(card).toMatch(/\n\| test scans with random objects \(without: the main test set's first scans\) \| 2 \| /);
    // The fixture names no operating point: the lane default is the fallback 0.5, and the card says so.
    expect(rep.thresholds.laneDefault).toEqual({ alert: 0.5, alertSource: 'fallback', region: 0.3 });
    expect(rep.acceptance.atLaneDefault).toMatchObject({
      recall: rep.overall.atLaneDefault.recall,
      falseAlarmRate: rep.overall.atLaneDefault.falseAlarmRate,
    });
    expect(card).toMatch(/\*\*At the lane's default threshold\*\* \(0\.5000, no operating point in the manifest\)/);
    expect(card).toMatch(/\| lane default 0\.500 \(the model names no operating point\) \|/);
  }, 240_000);

  it('reports the figures at an alert threshold given with --alert', async () => {
    const r = await cli([
      '--model',
      TINY,
      '--out',
      out,
      '--count',
      '1',
      '--robust-count',
      '0',
      '--workers',
      '1',
      '--alert',
      '0.25',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/at the lane default 0\.2500 \(option\)/);
    const rep = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    expect(rep.thresholds.laneDefault).toEqual({ alert: 0.25, alertSource: 'option', region: 0.3 });
    expect(readFileSync(join(out, 'MODEL_CARD.md'), 'utf8')).toMatch(/\| alert 0\.250 \(--alert\) \|/);
  });

  it("adds the figures at the model's held-out operating point when its manifest names one", async () => {
    const model = join(out, 'held-out-model');
    mkdirSync(model, { recursive: true });
    const m = JSON.parse(readFileSync(join(TINY, 'manifest.json'), 'utf8'));
    m.operatingPoint = { scoreThreshold: 0.5, heldOut: { scoreThreshold: 0.97 } };
    writeFileSync(join(model, 'manifest.json'), JSON.stringify(m));
    copyFileSync(join(TINY, 'model.onnx'), join(model, 'model.onnx'));
    const r = await cli(['--model', model, '--out', out, '--count', '1', '--robust-count', '0', '--workers', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eval: at the held-out point 0\.9700: \S+ % found, \S+ % false alarms$/m);
    const rep = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    expect(rep.thresholds.heldOut).toEqual({ alert: 0.97 });
    expect(rep.overall.atHeldOut.scans).toBe(1);
    expect(readFileSync(join(out, 'MODEL_CARD.md'), 'utf8')).toMatch(
      /\| held-out point 0\.970 \(lanes\[\]\.thresholds\.alert: held-out; chosen on families never trained on\) \| 1 \|/,
    );
  });

  it('reads a model whose lane default is its held-out point at that point, and at its operating point too', async () => {
    const model = join(out, 'lane-default-model');
    mkdirSync(model, { recursive: true });
    const m = JSON.parse(readFileSync(join(TINY, 'manifest.json'), 'utf8'));
    m.operatingPoint = { scoreThreshold: 0.5, heldOut: { scoreThreshold: 0.97 }, laneDefault: 'heldOut' };
    writeFileSync(join(model, 'manifest.json'), JSON.stringify(m));
    copyFileSync(join(TINY, 'model.onnx'), join(model, 'model.onnx'));
    const r = await cli(['--model', model, '--out', out, '--count', '1', '--robust-count', '0', '--workers', '1']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    expect(rep.thresholds.laneDefault).toEqual({ alert: 0.97, alertSource: 'manifest', region: 0.3 });
    expect(rep.thresholds.modelPoint).toEqual({ alert: 0.5 });
    expect(rep.overall.atModelPoint.scans).toBe(1);
    const card = readFileSync(join(out, 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(
      /\| lane default 0\.970 \(the manifest's lane default: its held-out point; also lanes\[\]\.thresholds\.alert: held-out\) \| 1 \|/,
    );
    expect(card).toMatch(
      /\| model's operating point 0\.500 \(operatingPoint\.scoreThreshold, chosen on validation scans; a lane sets it as a number\) \| 1 \|/,
    );
    expect(card).not.toMatch(/\| held-out point 0\.970/); // the lane default row is that point
    expect(card).toMatch(/the rule that made it the lane default was read on these test seeds/);
  });

  it('refuses seeds outside the held-out test range', async () => {
    const r = await cli(['--model', TINY, '--out', out, '--seed-start', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/leave the held-out test range 2000000–2099999/);
  });
});
