import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/**
 * The layer order of the tree, lowest first. A file may import files of its own top folder and of
 * folders on a lower layer, never of a folder on its own layer or above it.
 */
export const LAYERS: readonly (readonly string[])[] = [
  // the ground: domain types, events, the bus, Service, logger, backoff, health types, the MQTT contract
  ['core'],
  // the config schema (it may name the ground's vocabulary, e.g. the MQTT command names)
  ['config'],
  // the parts: they talk through the lane's bus and never import each other
  ['firmware-bridge', 'inference', 'pipeline', 'outputs', 'console', 'central', 'watchlist'],
  // the composition root: builds every part from the config, owns start/stop order
  ['app'],
  // simulators (speaking the devices' protocols), then the model evaluation (which synthesizes scans)
  ['sim'],
  ['eval'],
  // the checkpoint-edge command
  ['cli'],
  // tools around the product, free to import anything
  ['bin', 'bench', 'test', 'training', 'deploy'],
];

/** Folders whose code is not walked: dependencies, build output, data. */
const SKIPPED = new Set(['node_modules', 'dist', 'var', 'models', 'docs', 'fixtures', 'data', '.cache', '.git', 'tmp']);
const CODE = /\.(ts|tsx|mts|js|mjs)$/;

/** Repository-relative path → source text of every code file under root. */
export function readSources(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!SKIPPED.has(e.name) && !e.name.startsWith('.')) walk(rel);
      } else if (e.isFile() && CODE.test(e.name) && !e.name.endsWith('.d.ts')) {
        files.set(rel, readFileSync(join(root, rel), 'utf8'));
      }
    }
  };
  walk('');
  return files;
}

// Static imports and re-exports (also `import type`), side-effect imports, dynamic import(), and
// files started as workers through new URL('…', import.meta.url).
const WORKER_URL = /\bnew URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g;
const SPECIFIERS = [
  /^\s*(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  WORKER_URL,
];

/** Comments are blanked (keeping line breaks) so that an example in a comment is not an import. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\/|(?<![:'"`\w])\/\/[^\n]*/g, (c) => c.replace(/[^\n]/g, ' '));
}

export interface Import {
  from: string;
  to: string;
  /** Started as a worker thread (new URL): a dependency, but no module-loading circle. */
  worker?: true;
}

/** Every import between files of the set; a relative import of a file outside it is resolved as a .ts file. */
export function importsOf(files: Map<string, string>): Import[] {
  const out: Import[] = [];
  for (const [file, src] of files) {
    const code = stripComments(src);
    const seen = new Set<string>();
    for (const re of SPECIFIERS) {
      const worker = re === WORKER_URL;
      for (const m of code.matchAll(re)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) continue;
        const to = resolveSpecifier(files, posix.normalize(posix.join(posix.dirname(file), spec)));
        if (to && !seen.has(to)) {
          seen.add(to);
          out.push(worker ? { from: file, to, worker } : { from: file, to });
        }
      }
    }
  }
  return out;
}

/** NodeNext specifiers name the emitted .js; the source is the .ts/.tsx beside it. Data files (JSON) are not code. */
function resolveSpecifier(files: Map<string, string>, target: string): string | null {
  if (files.has(target)) return target;
  for (const [js, ts] of [
    ['.js', '.ts'],
    ['.js', '.tsx'],
    ['.mjs', '.mts'],
  ] as const) {
    if (target.endsWith(js)) {
      const candidate = target.slice(0, -js.length) + ts;
      if (files.has(candidate)) return candidate;
    }
  }
  return CODE.test(target) ? target : null;
}

export function layerOf(file: string): number {
  const top = file.includes('/') ? file.slice(0, file.indexOf('/')) : '';
  return LAYERS.findIndex((l) => l.includes(top));
}

function topFolder(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : '(root)';
}

/** One line per import against the layer order, and per code file in a folder that has no layer. */
export function layerViolations(files: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const f of files.keys()) {
    if (f.includes('/') && layerOf(f) < 0)
      problems.push(`${f}: folder ${topFolder(f)}/ has no layer: add it to LAYERS in test/helpers/import-graph.ts`);
  }
  for (const { from, to } of importsOf(files)) {
    if (!from.includes('/')) continue; // root files (vitest.config.ts) configure the tools
    const a = topFolder(from);
    const b = topFolder(to);
    if (a === b) continue;
    const la = layerOf(from);
    const lb = layerOf(to);
    if (la < 0 || lb < 0) {
      if (lb < 0 && to.includes('/')) problems.push(`${from} imports ${to}: folder ${b}/ has no layer`);
      continue;
    }
    if (la === LAYERS.length - 1) continue; // the tools import each other freely
    if (lb === la)
      problems.push(
        `${from} imports ${to}: ${a}/ and ${b}/ are on the same layer and must talk through the lane's bus or app/`,
      );
    else if (lb > la) problems.push(`${from} imports ${to}: ${a}/ is below ${b}/ and may not import it`);
  }
  return problems;
}

/** Import circles between files (type-only imports included), each as its files in order. */
export function importCycles(files: Map<string, string>): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to, worker } of importsOf(files)) {
    if (worker || !files.has(to)) continue;
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  // Tarjan's strongly connected components; a component of more than one file is a circle.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const f of [...files.keys()].sort()) if (!idx.has(f)) visit(f);
  return cycles;
}
