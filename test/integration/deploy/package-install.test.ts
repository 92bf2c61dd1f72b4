import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/cli.js';

/**
 * The acceptance test of the offline install (docs/deployment.md): builds the release archive,
 * installs it into a clean folder with --prefix while the network is cut (unshare -n: a new,
 * empty network namespace), verifies the unit with systemd-analyze, runs the demo lane from
 * the installed copy with the bundled Node, then upgrades and rolls back.
 *
 * The archive is built once per state of the tree and kept in the temp folder, so a rerun
 * without changes takes seconds.
 */

const root = process.getuid?.() === 0;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NAME = `checkpoint-edge-${VERSION}`;

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} took over ${opts.timeoutMs ?? 60_000} ms\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What goes into the release: its key is their paths, sizes and modification times. */
const SHIPPED = [
  'package.json',
  'package-lock.json',
  'deploy',
  'models',
  'config',
  'docs',
  'core',
  'firmware-bridge',
  'inference',
  'pipeline',
  'outputs',
  'console',
  'central',
  'watchlist',
  'app',
  'sim',
  'eval',
  'cli',
];

/** A key for the state of what the release is built from. */
function treeKey(): string {
  const h = createHash('sha256');
  const walk = (p: string) => {
    const s = statSync(p);
    if (!s.isDirectory()) return void h.update(`${p}:${s.size}:${s.mtimeMs}\n`);
    for (const e of readdirSync(p).sort())
      if (e !== 'node_modules' && e !== 'dist' && !e.startsWith('dist.')) walk(join(p, e));
  };
  for (const s of SHIPPED) walk(join(ROOT, s));
  h.update(process.version);
  return h.digest('hex').slice(0, 16);
}

describe.skipIf(!root)(
  'release archive: build, offline install, demo from the installed copy (needs root for unshare -n)',
  () => {
    let cache = '';
    let out = '';
    let work = '';
    let prefix = '';
    let archive = '';

    beforeAll(async () => {
      cache = join(tmpdir(), `checkpoint-edge-package-${treeKey()}`);
      // Archives of earlier states of the tree (80 MiB each): dropped after an hour unused.
      for (const e of readdirSync(tmpdir()))
        if (e.startsWith('checkpoint-edge-package-') && join(tmpdir(), e) !== cache) {
          const p = join(tmpdir(), e);
          if (Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { recursive: true, force: true });
        }
      out = join(cache, 'out');
      archive = join(out, `${NAME}-linux-x64.tar.gz`);
      if (existsSync(join(cache, 'done'))) utimesSync(cache, new Date(), new Date());
      else {
        rmSync(cache, { recursive: true, force: true });
        const r = await run(process.execPath, ['bin/run-ts.js', 'deploy/package.ts', '--out', out], {
          timeoutMs: 170_000,
        });
        expect(r.code, r.stderr).toBe(0);
        writeFileSync(join(cache, 'done'), new Date().toISOString());
      }
      work = mkdtempSync(join(tmpdir(), 'install-'));
      prefix = join(work, 'root');
    }, 180_000);

    afterAll(() => {
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('writes the archive, its sha256 and a manifest of versions', () => {
      const sha = createHash('sha256').update(readFileSync(archive)).digest('hex');
      expect(readFileSync(`${archive}.sha256`, 'utf8')).toBe(`${sha}  ${NAME}-linux-x64.tar.gz\n`);
      const m = JSON.parse(readFileSync(join(out, `${NAME}-linux-x64.manifest.json`), 'utf8')) as {
        version: string;
        node: { version: string };
        dependencies: Record<string, string>;
        model: { sha256: string; version: string };
        archive: { sha256: string; bytes: number };
      };
      const model = JSON.parse(readFileSync(join(ROOT, 'models/person-fcn/manifest.json'), 'utf8')) as {
        sha256: string;
        version: string;
      };
      expect(m.version).toBe(VERSION);
      expect(m.node.version).toBe(process.version);
      expect(m.model).toMatchObject({ sha256: model.sha256, version: model.version });
      expect(m.archive).toMatchObject({ sha256: sha, bytes: statSync(archive).size });
      for (const dep of ['onnxruntime-node', 'better-sqlite3', 'serialport', 'sharp', 'mqtt'])
        expect(m.dependencies[dep], dep).toMatch(/^\d+\.\d+\.\d+/);
      expect(m.dependencies.tsx).toBeUndefined();
    });

    it('installs with the network cut, into versioned folders, with the unit passing systemd-analyze verify', async () => {
      const unpacked = join(work, 'unpacked');
      mkdirSync(unpacked);
      execFileSync('tar', ['-xzf', archive, '-C', unpacked]);
      const release = join(unpacked, NAME);
      // An existing account (Debian's daemon, from base-passwd) as the service user: it gets the data folder.
      const r = await run('unshare', ['-n', join(release, 'install.sh'), '--prefix', prefix, '--user', 'daemon'], {
        cwd: work,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`installed ${VERSION} under ${prefix}`);
      const opt = join(prefix, 'opt/checkpoint-edge');
      expect(readlinkSync(join(opt, 'current'))).toBe(`releases/${VERSION}`);
      const data = statSync(join(prefix, 'var/lib/checkpoint-edge'));
      expect(data.mode & 0o777).toBe(0o700);
      const [, , uid, gid] = readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('daemon:'))!
        .split(':');
      expect([data.uid, data.gid]).toEqual([Number(uid), Number(gid)]);
      const config = statSync(join(prefix, 'etc/checkpoint-edge/site.yaml'));
      expect([config.mode & 0o777, config.uid, config.gid]).toEqual([0o640, 0, Number(gid)]);
      expect(readFileSync(join(prefix, 'etc/systemd/system/checkpoint-edge.service'), 'utf8')).toContain(
        'User=daemon\nGroup=daemon',
      );
      expect(readFileSync(join(prefix, 'etc/checkpoint-edge/site.yaml'), 'utf8')).toContain(
        `dataDir: ${prefix}/var/lib/checkpoint-edge`,
      );
      // Only linux-x64 native parts, no TypeScript loader, the bundled Node.
      const mods = join(opt, 'current/node_modules');
      expect(readdirSync(join(mods, 'onnxruntime-node/bin/napi-v6'))).toEqual(['linux']);
      expect(existsSync(join(mods, 'better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
      expect(existsSync(join(mods, 'tsx'))).toBe(false);
      expect(existsSync(join(opt, 'current/cli/main.js'))).toBe(true);
      const unit = join(prefix, 'etc/systemd/system/checkpoint-edge.service');
      const verify = await run('systemd-analyze', ['verify', unit]);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stderr).toBe('');
    }, 60_000);

    it('runs the demo lane from the installed copy with the bundled Node until a scan is decided', async () => {
      const current = join(prefix, 'opt/checkpoint-edge/current');
      const env = { PATH: '/usr/bin:/bin', HOME: work, NO_COLOR: '1' }; // no node on the PATH it could fall back to
      const r = await run(
        join(current, 'node/bin/node'),
        [
          join(current, 'bin/checkpoint-edge.js'),
          'demo',
          '--scans',
          '1',
          '--port',
          '0',
          '--mqtt-port',
          '0',
          '--no-central',
          '--gap-ms',
          '300',
          '--data-dir',
          join(work, 'demo'),
          '--log-level',
          'error',
        ],
        { cwd: work, env, timeoutMs: 90_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^scan \S+ lane=lane-1 outcome=completed verdict=(person|clear) score=\d\.\d{3}/m);
    }, 100_000);

    it('upgrades to a newer release keeping data and config, and rolls back with one command', async () => {
      const opt = join(prefix, 'opt/checkpoint-edge');
      const config = join(prefix, 'etc/checkpoint-edge/site.yaml');
      writeFileSync(config, `${readFileSync(config, 'utf8')}# edited on site\n`);
      // A "newer" release: a copy of the installed one with the next patch version in release.json.
      const next = join(work, 'next');
      cpSync(join(opt, `releases/${VERSION}`), next, { recursive: true, verbatimSymlinks: true });
      const rel = JSON.parse(readFileSync(join(next, 'release.json'), 'utf8')) as { version: string };
      unlinkSync(join(next, 'release.json'));
      const [major, minor, patch] = VERSION.split('.').map(Number);
      const newer = `${major}.${minor}.${(patch ?? 0) + 1}`;
      writeFileSync(join(next, 'release.json'), JSON.stringify({ ...rel, version: newer }));
      const bin = join(opt, 'current/bin/checkpoint-edge');
      const up = await run(bin, ['upgrade', '--prefix', prefix, '--no-user', '--from', next], { cwd: work });
      expect(up.code, up.stderr).toBe(0);
      expect(readlinkSync(join(opt, 'current'))).toBe(`releases/${newer}`);
      expect(readlinkSync(join(opt, 'previous'))).toBe(`releases/${VERSION}`);
      expect(readFileSync(config, 'utf8')).toContain('# edited on site');
      const back = await run(bin, ['rollback', '--prefix', prefix], { cwd: work });
      expect(back.code, back.stderr).toBe(0);
      expect(readlinkSync(join(opt, 'current'))).toBe(`releases/${VERSION}`);
      expect(readFileSync(config, 'utf8')).toContain('# edited on site');
    }, 60_000);
  },
);
