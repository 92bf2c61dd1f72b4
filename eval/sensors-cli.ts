import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateSensors, sensorFiguresPng, type SensorEvalReport, type XrayScan } from './sensors.js';

/**
 * npm run eval:sensors: recall and false alarms of the X-ray alone, each sensor alone and the
 * fused decision on simulated traffic; writes docs/sensors-eval.json and docs/sensors-eval.png
 * and prints the table for docs/sensors.md.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/person-fcn' },
      vehicles: { type: 'string', default: '4000' },
      'person-share': { type: 'string', default: '0.25' },
      seed: { type: 'string', default: '18' },
      out: { type: 'string', default: 'docs' },
    },
  });
  const modelDir = resolve(values.model!);
  const evalFile = join(modelDir, 'eval.json');
  let ev: { scans: XrayScan[]; thresholds: { laneDefault: { alert: number } } };
  try {
    ev = JSON.parse(readFileSync(evalFile, 'utf8'));
  } catch (err) {
    throw new Error(
      `eval:sensors needs the model's evaluation ${evalFile} (run 'checkpoint-edge eval' first): ${(err as Error).message}`,
    );
  }
  const vehicles = Number(values.vehicles);
  const personShare = Number(values['person-share']);
  if (!Number.isInteger(vehicles) || vehicles < 100)
    throw new Error(`--vehicles: expected an integer >= 100, got ${values.vehicles}`);
  if (!(personShare > 0 && personShare < 1))
    throw new Error(`--person-share: expected a number between 0 and 1, got ${values['person-share']}`);
  const { report } = evaluateSensors({
    scans: ev.scans,
    alertThreshold: ev.thresholds.laneDefault.alert,
    vehicles,
    personShare,
    seed: Number(values.seed),
  });
  const out = resolve(values.out!);
  writeFileSync(join(out, 'sensors-eval.json'), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(join(out, 'sensors-eval.png'), await sensorFiguresPng(report));
  process.stdout.write(table(report));
}

function table(r: SensorEvalReport): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const clear = r.vehicles - r.withPeople;
  const rows = (
    [
      ['X-ray alone', r.systems.xray],
      ['CO2 alone', r.systems.co2],
      ['heartbeat alone', r.systems.heartbeat],
      ['fused', r.systems.fused],
    ] as const
  ).map(
    ([n, f]) =>
      `| ${n} | ${pct(f.recall)} (${f.flaggedWithPeople}/${r.withPeople}) | ${pct(f.falseAlarms)} (${f.flaggedClear}/${clear}) | ${f.noReading} |`,
  );
  return `| system | recall | false alarms | vehicles without a usable reading |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n\nX-ray alerts on vehicles with people: ${JSON.stringify(r.support.trueAlerts)}; on vehicles without: ${JSON.stringify(r.support.falseAlerts)}\nadded alerts: ${r.added.caught} of ${r.added.xrayMissed} vehicles with people the X-ray missed; ${r.added.falseAdded} on vehicles without people\nfitted: ${JSON.stringify(r.fitted)}\n`;
}

main().catch((err: Error) => {
  process.stderr.write(`eval:sensors: ${err.message}\n`);
  process.exit(1);
});
