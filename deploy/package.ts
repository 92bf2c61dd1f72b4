/**
 * `npm run package`: builds the offline release archive for linux-x64 (docs/deployment.md).
 *
 *   dist/checkpoint-edge-<version>-linux-x64.tar.gz         the release
 *   dist/checkpoint-edge-<version>-linux-x64.tar.gz.sha256  its checksum (sha256sum -c)
 *   dist/checkpoint-edge-<version>-linux-x64.manifest.json  versions: app, Node, every production package, the model
 *
 * The archive holds one folder, checkpoint-edge-<version>/, with the application compiled from
 * TypeScript to JavaScript file by file (the same paths, so every `new URL(…, import.meta.url)`
 * still finds its file), the production node_modules with their linux-x64 native parts only,
 * the models, the built console and central web UIs, the config templates, the service unit,
 * install.sh and a copy of the Node binary that runs this script. A box needs nothing else.
 *
 * Options: --out <dir> (default dist/), --stage <dir> (where the folder is assembled; default
 * a folder under --out), --keep-stage (leave the assembled folder, for tests).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';
import { createLogger } from '../core/logger.js';
import { ensureWebBuild } from '../console/server/web-build.js';
import { ensureCentralWebBuild } from '../central/server/web-build.js';

const ROOT = resolve(import.meta.dirname, '..');
/** Folders of the product's code (the layers of ARCHITECTURE.md); the rest of the tree is tooling. */
const CODE_DIRS = [
  'core',
  'config',
  'firmware-bridge',
  'inference',
  'pipeline',
  'outputs',
  'console/server',
  'central',
  'watchlist',
  'app',
  'sim',
  'eval',
  'cli',
];
/** Inside CODE_DIRS but not run: front-end sources (shipped built) and build scripts. */
const NOT_SHIPPED = new Set(['central/web', 'console/server/build.ts']);
/** Files and folders copied as they are. */
const ASSETS = [
  'package.json',
  'README.md',
  'ARCHITECTURE.md',
  'models',
  'config/examples',
  'docs',
  'console/dist',
  'central/dist',
  'deploy/checkpoint-edge.service',
];
/** Pictures and figures of the docs and the model card that the running lane never reads. */
const ASSET_SKIP = /\.(png|jpe?g|gif|webm|mp4)$/i;
/** Native builds of other platforms, and sources of native parts, left out of node_modules. */
const PRUNE: RegExp[] = [
  /^onnxruntime-node\/bin\/napi-v\d+\/(darwin|win32)$/,
  /^onnxruntime-node\/bin\/napi-v\d+\/linux\/(arm64|arm)$/,
  /^better-sqlite3\/(deps|src)$/,
  /^better-sqlite3\/build\/Release\/(obj\.target|obj|\.deps|test_extension\.node)$/,
  /^better-sqlite3\/build\/(deps|Makefile|binding\.Makefile|config\.gypi|better_sqlite3\.target\.mk|test_extension\.target\.mk)$/,
  /^@serialport\/bindings-cpp\/prebuilds\/(?!linux-x64$)[^/]+$/,
  /^@serialport\/bindings-cpp\/src$/,
];

interface Manifest {
  name: string;
  version: string;
  platform: string;
  builtAt: string;
  commit: string | null;
  node: { version: string; modules: string; binary: string };
  runsWith: string;
  dependencies: Record<string, string>;
  packages: Record<string, string>;
  model: { name: string; version: string; file: string; sha256: string };
  archive?: { file: string; sha256: string; bytes: number };
}

const log = createLogger({ level: 'info', format: 'pretty', stderr: true });

function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => res(h.digest('hex')))
      .on('error', rej);
  });
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Every .ts file of the product compiled to a .js file at the same place (no type checking: tsc does that). */
function compile(stage: string): number {
  let n = 0;
  for (const dir of CODE_DIRS) {
    for (const file of walk(join(ROOT, dir))) {
      const rel = relative(ROOT, file);
      if ([...NOT_SHIPPED].some((s) => rel === s || rel.startsWith(`${s}/`))) continue;
      if (rel.startsWith('central/dist/') || rel.endsWith('.d.ts')) continue;
      const target = join(stage, rel);
      mkdirSync(dirname(target), { recursive: true });
      if (rel.endsWith('.ts')) {
        const out = ts.transpileModule(readFileSync(file, 'utf8'), {
          fileName: rel,
          compilerOptions: {
            module: ts.ModuleKind.ESNext,
            target: ts.ScriptTarget.ES2023,
            verbatimModuleSyntax: true,
            sourceMap: false,
          },
        });
        writeFileSync(target.replace(/\.ts$/, '.js'), out.outputText);
        n++;
      } else if (rel.endsWith('.mjs')) {
        // The worker entries register tsx for their thread; compiled, they load the .js directly.
        const text = readFileSync(file, 'utf8')
          .replace(/^import \{ register \} from 'tsx\/esm\/api';\n/m, '')
          .replace(/^register\(\);\n/m, '')
          .replace(/(import\('\.\/[^']+)\.ts'\)/g, "$1.js')");
        if (/tsx|\.ts'/.test(text.replace(/^\/\/.*$/gm, '')))
          throw new Error(`${rel}: a worker entry still names tsx or a .ts file after compiling`);
        writeFileSync(target, text);
      } else if (!rel.endsWith('.tsx')) copyFileSync(file, target);
    }
  }
  return n;
}

/** The production packages (npm ls --omit=dev), copied with the folder layout npm gave them. */
function copyProductionModules(stage: string): {
  dependencies: Record<string, string>;
  packages: Record<string, string>;
} {
  const paths = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== ROOT)
    .map((l) => relative(ROOT, l));
  const unique = [...new Set(paths)].sort();
  const packages: Record<string, string> = {};
  for (const rel of unique) {
    if (!rel.startsWith('node_modules/')) throw new Error(`npm ls named a package outside node_modules: ${rel}`);
    // A nested package is copied with its parent; only the parent folder's own files are copied here.
    const from = join(ROOT, rel);
    const to = join(stage, rel);
    const inner = rel.slice('node_modules/'.length);
    cpSync(from, to, {
      recursive: true,
      dereference: true,
      filter: (src) => {
        const r = relative(join(ROOT, 'node_modules'), src);
        if (r !== inner && r.startsWith(`${inner}/node_modules/`)) return false; // copied as its own entry
        // Type declarations, TypeScript sources, source maps and read-mes are never loaded at run time.
        if (/\.([cm]?ts|map|md)$/.test(r) || /(^|\/)\.bin$/.test(r)) return false;
        return !PRUNE.some((p) => p.test(r));
      },
    });
    const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { name: string; version: string };
    packages[`${rel.slice('node_modules/'.length)}`] = pkg.version;
  }
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const dependencies = Object.fromEntries(
    Object.keys(root.dependencies).map((name) => [name, packages[name] ?? 'missing']),
  );
  const missing = Object.entries(dependencies).filter(([, v]) => v === 'missing');
  if (missing.length) throw new Error(`not installed: ${missing.map(([k]) => k).join(', ')}: run npm ci first`);
  return { dependencies, packages };
}

function launcher(stage: string): void {
  mkdirSync(join(stage, 'bin'), { recursive: true });
  writeFileSync(
    join(stage, 'bin', 'checkpoint-edge.js'),
    `#!/usr/bin/env node
// The release's entry: the application compiled to JavaScript, run by the bundled Node.
const { main } = await import('../cli/main.js');
process.exitCode = await main(process.argv.slice(2));
`,
  );
  // The command for people: runs the bundled Node, wherever the release folder lies.
  writeFileSync(
    join(stage, 'bin', 'checkpoint-edge'),
    `#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
exec "$here/../node/bin/node" "$here/checkpoint-edge.js" "$@"
`,
  );
  chmodSync(join(stage, 'bin', 'checkpoint-edge'), 0o755);
  writeFileSync(
    join(stage, 'install.sh'),
    `#!/bin/sh
# Installs this release (docs/deployment.md). Options: --prefix DIR, --user NAME, --no-user.
# Run as root for a system install: it creates the service user, /etc/checkpoint-edge,
# /var/lib/checkpoint-edge and the systemd unit, and switches /opt/checkpoint-edge/current.
here=$(dirname "$(readlink -f "$0")")
exec "$here/node/bin/node" "$here/bin/checkpoint-edge.js" install --from "$here" "$@"
`,
  );
  chmodSync(join(stage, 'install.sh'), 0o755);
}

export async function buildPackage(opts: { out: string; stage?: string; keepStage?: boolean }): Promise<Manifest> {
  const t0 = performance.now();
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const name = `${pkg.name}-${pkg.version}`;
  const base = `${name}-linux-x64`;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`the release is built for linux-x64 on linux-x64 (this is ${process.platform}-${process.arch})`);
  mkdirSync(opts.out, { recursive: true });
  const stageRoot = opts.stage ?? join(opts.out, `stage-${process.pid}`);
  const stage = join(stageRoot, name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });

  await ensureWebBuild(log);
  await ensureCentralWebBuild(log);
  const compiled = compile(stage);
  for (const a of ASSETS) {
    const from = join(ROOT, a);
    if (!existsSync(from)) throw new Error(`${a} is missing: it goes into the release`);
    const pictureless = a === 'docs' || a === 'models';
    cpSync(from, join(stage, a), {
      recursive: true,
      filter: (src) => !pictureless || statSync(src).isDirectory() || !ASSET_SKIP.test(src),
    });
  }
  launcher(stage);
  const modules = copyProductionModules(stage);
  mkdirSync(join(stage, 'node', 'bin'), { recursive: true });
  copyFileSync(process.execPath, join(stage, 'node', 'bin', 'node'));
  chmodSync(join(stage, 'node', 'bin', 'node'), 0o755);

  const model = JSON.parse(readFileSync(join(ROOT, 'models', 'person-fcn', 'manifest.json'), 'utf8')) as {
    name: string;
    version: string;
    file: string;
    sha256: string;
  };
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    commit = null; // built from an unpacked source tree
  }
  const manifest: Manifest = {
    name: pkg.name,
    version: pkg.version,
    platform: 'linux-x64',
    builtAt: new Date().toISOString(),
    commit,
    node: { version: process.version, modules: process.versions.modules, binary: 'node/bin/node' },
    runsWith: 'JavaScript compiled from the TypeScript sources at packaging (no loader at start)',
    dependencies: modules.dependencies,
    packages: modules.packages,
    model: {
      name: model.name,
      version: model.version,
      file: `models/${model.name}/${model.file}`,
      sha256: model.sha256,
    },
  };
  writeFileSync(join(stage, 'release.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const archive = join(opts.out, `${base}.tar.gz`);
  rmSync(archive, { force: true });
  // --owner/--group: unpacked by root, the files belong to root, not to whoever built them.
  execFileSync('tar', ['--owner=0', '--group=0', '-czf', archive, '-C', stageRoot, name]);
  const sha = await sha256File(archive);
  writeFileSync(`${archive}.sha256`, `${sha}  ${base}.tar.gz\n`);
  manifest.archive = { file: `${base}.tar.gz`, sha256: sha, bytes: statSync(archive).size };
  writeFileSync(join(opts.out, `${base}.manifest.json`), `${JSON.stringify(manifest, null, 2)}\n`);
  if (!opts.keepStage) rmSync(stageRoot, { recursive: true, force: true });
  log.info(
    `${archive}: ${(manifest.archive.bytes / 2 ** 20).toFixed(1)} MiB, ${compiled} files compiled, ${Object.keys(modules.packages).length} packages, node ${process.version}, in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return manifest;
}

const USAGE = `Usage: npm run package -- [--out DIR] [--stage DIR] [--keep-stage]

Builds the offline release archive for linux-x64: dist/checkpoint-edge-<version>-linux-x64.tar.gz,
its .sha256 and a .manifest.json of versions (docs/deployment.md).

Options:
  --out DIR      where the archive goes (default dist/)
  --stage DIR    the folder the release is assembled in (default: a temporary folder)
  --keep-stage   keep that folder afterwards
  --help         show this help

Exit codes: 0 built, 1 failed, 2 bad usage.`;

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  let values: { out?: string; stage?: string; 'keep-stage'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        out: { type: 'string' },
        stage: { type: 'string' },
        'keep-stage': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    process.stderr.write(`package: ${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  await buildPackage({
    out: resolve(values.out ?? join(ROOT, 'dist')),
    ...(values.stage ? { stage: resolve(values.stage) } : {}),
    keepStage: values['keep-stage'] ?? false,
  });
}
