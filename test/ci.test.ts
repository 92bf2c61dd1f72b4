import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipWithout } from './helpers/peers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CI_RUN = readFileSync(join(ROOT, '.ci/run'), 'utf8');

/** The Debian package that provides each program a test may start by name. */
const PROGRAM_PACKAGE: Record<string, string> = {
  mosquitto: 'mosquitto',
  mosquitto_passwd: 'mosquitto',
  mosquitto_sub: 'mosquitto-clients',
  mosquitto_pub: 'mosquitto-clients',
  socat: 'socat',
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffmpeg',
  openssl: 'openssl',
  chromium: 'chromium',
  mbpoll: 'mbpoll',
  'nats-server': 'nats-server',
  promtool: 'prometheus',
  'systemd-analyze': 'systemd',
  'systemd-notify': 'systemd',
  python3: 'python3-minimal',
  // Debian's essential packages: on every Debian machine, never installed by .ci/run.
  bash: 'bash',
  runuser: 'util-linux',
  unshare: 'util-linux',
  tar: 'tar',
};

/** Packages of Debian's essential set, present on every machine. */
const ESSENTIAL = new Set(['bash', 'util-linux', 'tar']);

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : testFiles(p);
    return /\.(ts|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** The packages `.ci/run` installs with apt-get. */
function ciPackages(): Set<string> {
  const line = /apt-get install[^\n]*/.exec(CI_RUN)?.[0] ?? '';
  return new Set(
    line.split(/\s+/).filter((w) => /^[a-z0-9][a-z0-9+.-]+$/.test(w) && w !== 'apt-get' && w !== 'install'),
  );
}

describe('CI on a clean Debian machine (.ci/run)', () => {
  it('installs every program the tests start by name (ImageMagick convert is not one of them)', () => {
    const installed = ciPackages();
    const problems: string[] = [];
    for (const file of [...testFiles(join(ROOT, 'test')), ...testFiles(join(ROOT, 'bench'))]) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /(?<![\w.])(?:spawn|spawnSync|execFile|execFileSync|execSync|exec)\(\s*['"`]([A-Za-z0-9_./-]+)/g,
      )) {
        const program = m[1]!.split('/').pop()!.split(' ')[0]!;
        if (program === 'node' || m[1]!.startsWith('.')) continue;
        const pkg = PROGRAM_PACKAGE[program];
        if (!pkg)
          problems.push(
            `${relative(ROOT, file)} starts "${program}", which no package in .ci/run provides: make the fixture with the project's dependencies, or install it in .ci/run and name its package here`,
          );
        else if (!installed.has(pkg) && !ESSENTIAL.has(pkg))
          problems.push(
            `${relative(ROOT, file)} starts "${program}" from package ${pkg}, which .ci/run does not install`,
          );
      }
    }
    expect(problems).toEqual([]);
  });

  it('ends no process by name, and keeps the Debian mosquitto service from starting', () => {
    const code = CI_RUN.split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join('\n');
    expect(code).not.toMatch(/\b(pkill|killall)\b/);
    expect(code).toMatch(/policy-rc\.d/);
    expect(code).toMatch(/exit 101/);
  });

  it('fails a suite whose peer is missing in CI, and skips it only elsewhere', () => {
    expect(skipWithout('mosquitto', false, { CI: 'true' })).toBe(false);
    expect(skipWithout('mosquitto', true, {})).toBe(false);
    expect(skipWithout('mosquitto', false, {})).toBe(true);
    // No suite gates itself on a peer by hand: every skipIf on a peer goes through skipWithout.
    const byHand = testFiles(join(ROOT, 'test'))
      .filter((f) => /skipIf\(\s*!\s*have[A-Z]/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(byHand).toEqual([]);
  });
});
