import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importsOf, layerViolations, readSources } from './helpers/import-graph.js';

const ROOT = join(import.meta.dirname, '..');

describe('the tree', () => {
  const files = readSources(ROOT);

  it('is read: every part and its imports are seen', () => {
    expect(files.has('core/domain.ts')).toBe(true);
    expect(files.has('console/web/src/main.tsx')).toBe(true);
    const imports = importsOf(files);
    expect(imports).toContainEqual({ from: 'app/site-runtime.ts', to: 'pipeline/lane-pipeline.ts' });
    expect(imports.length).toBeGreaterThan(500);
  });

  it('imports only downwards in the layer order (core, config < parts < app < sim < eval < cli)', () => {
    expect(layerViolations(files)).toEqual([]);
  });

  it('has no import circle', () => {
    expect(importCycles(files)).toEqual([]);
  });
});

describe('the checker', () => {
  const tree = (entries: Record<string, string>) => new Map(Object.entries(entries));

  it('fails on a wrong-way import: the ground importing the composition root', () => {
    const files = tree({
      'core/domain.ts': "import { SiteRuntime } from '../app/site-runtime.js';\nexport type X = SiteRuntime;\n",
      'app/site-runtime.ts': "import type { X } from '../core/domain.js';\nexport class SiteRuntime {}\n",
    });
    expect(layerViolations(files)).toEqual([
      'core/domain.ts imports app/site-runtime.ts: core/ is below app/ and may not import it',
    ]);
    expect(importCycles(files)).toEqual([['app/site-runtime.ts', 'core/domain.ts']]);
  });

  it('fails when one part imports another instead of talking through the bus', () => {
    const files = tree({
      'console/server/console-service.ts': "import type { LanePipeline } from '../../pipeline/lane-pipeline.js';\n",
      'pipeline/lane-pipeline.ts': 'export class LanePipeline {}\n',
    });
    expect(layerViolations(files)).toEqual([
      "console/server/console-service.ts imports pipeline/lane-pipeline.ts: console/ and pipeline/ are on the same layer and must talk through the lane's bus or app/",
    ]);
  });

  it('sees dynamic imports, re-exports and worker URLs, and ignores imports in comments', () => {
    const files = tree({
      'sim/a.ts': "const m = await import('../cli/main.js');\n// import { x } from '../eval/run-eval.js';\n",
      'sim/b.ts':
        "export { y } from '../eval/run-eval.js';\nnew Worker(new URL('../cli/worker.mjs', import.meta.url));\n",
      'cli/main.ts': '',
      'cli/worker.mjs': '',
      'eval/run-eval.ts': '',
    });
    expect(layerViolations(files)).toEqual([
      'sim/a.ts imports cli/main.ts: sim/ is below cli/ and may not import it',
      'sim/b.ts imports eval/run-eval.ts: sim/ is below eval/ and may not import it',
      'sim/b.ts imports cli/worker.mjs: sim/ is below cli/ and may not import it',
    ]);
  });

  it('finds a circle inside one folder and a folder that has no layer', () => {
    const files = tree({
      'console/server/sessions.ts': "import type { Role } from './users.js';\n",
      'console/server/users.ts': "import { credentialOf } from './sessions.js';\n",
      'runtime/app.ts': "import '../core/domain.js';\n",
      'core/domain.ts': '',
    });
    expect(importCycles(files)).toEqual([['console/server/sessions.ts', 'console/server/users.ts']]);
    expect(layerViolations(files)).toEqual([
      'runtime/app.ts: folder runtime/ has no layer: add it to LAYERS in test/helpers/import-graph.ts',
    ]);
  });
});
