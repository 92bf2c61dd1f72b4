import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median, type BenchFile, type Figure } from './harness.js';

/**
 * `npm run bench [-- --filter <text>]`: runs every bench/*.bench.ts, prints one line per figure
 * (`bench <name> <value> <unit>`) and rewrites docs/benchmarks.md. With --filter, figures not
 * run keep their previous rows in the document.
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values } = parseArgs({ options: { filter: { type: 'string' }, 'no-write': { type: 'boolean' } } });
const filter = values.filter?.toLowerCase();

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const figures: Figure[] = [];
const benches: { f: string; b: BenchFile }[] = [];
for (const f of files)
  benches.push({ f, b: ((await import(pathToFileURL(join(here, f)).href)) as { default: BenchFile }).default });
// A filter that names an area (`lanes`) or a figure in it (`lanes.memory`) runs that area's file
// only; any other filter runs every file and keeps the figures whose names contain it.
const inArea = (b: BenchFile) => {
  const area = b.area.toLowerCase();
  return filter !== undefined && (area.includes(filter) || filter.startsWith(`${area}.`));
};
const someArea = benches.some(({ b }) => inArea(b));
for (const { f, b } of benches) {
  if (someArea && !inArea(b)) continue;
  const areaSelected = !filter || b.area.toLowerCase().includes(filter);
  const wants = (name: string) => areaSelected || name.toLowerCase().includes(filter!);
  if (!areaSelected && !filter) continue;
  const before = figures.length;
  try {
    await b.run({
      wants,
      report(name, samples, unit, note) {
        if (!wants(name)) return;
        const xs = Array.isArray(samples) ? samples : [samples];
        const value = median(xs);
        const fig: Figure = { name, value, unit, runs: xs.length, ...(note ? { note } : {}) };
        figures.push(fig);
        console.log(`bench ${name} ${fmt(value)} ${unit}`);
      },
    });
  } catch (err) {
    console.error(`bench file ${f} failed: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  }
  if (filter && figures.length === before) continue;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

if (!values['no-write']) {
  const docPath = join(root, 'docs', 'benchmarks.md');
  const previous = new Map<string, string>();
  if (existsSync(docPath)) {
    for (const line of readFileSync(docPath, 'utf8').split('\n')) {
      const m = /^\| `([^`]+)`\s*\|/.exec(line); // also a table aligned by the formatter
      if (m) previous.set(m[1], line);
    }
  }
  const date = new Date().toISOString().slice(0, 10);
  for (const fig of figures) {
    previous.set(
      fig.name,
      `| \`${fig.name}\` | ${fmt(fig.value)} | ${fig.unit} | ${fig.runs} | ${date} | ${fig.note ?? ''} |`,
    );
  }
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
  const rows = [...previous.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, l]) => l);
  const doc = `# Benchmarks

Written by \`npm run bench\` (bench/run.ts); do not edit by hand. Each value is the median of
the runs given. Rows not re-run by a filtered run keep their earlier date.

Machine of the latest run: ${machine}.
Latest run: ${new Date().toISOString()}.

| figure | value | unit | runs | date | note |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
  writeFileSync(docPath, doc);
  console.log(`wrote ${docPath} (${figures.length} figure(s) measured)`);
}
