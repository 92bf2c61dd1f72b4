import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compareVersions, installRelease, layout, rollbackRelease } from '../../../../cli/install/release-install.js';

const UNIT = `[Service]
User=checkpoint-edge
Group=checkpoint-edge
WorkingDirectory=/var/lib/checkpoint-edge
ExecStart=/opt/checkpoint-edge/current/node/bin/node /opt/checkpoint-edge/current/bin/checkpoint-edge.js run --config /etc/checkpoint-edge/site.yaml
ReadWritePaths=/var/lib/checkpoint-edge
`;

/** A small stand-in for an unpacked release: release.json, the config template, the unit. */
function fakeRelease(root: string, version: string, template = 'dataDir: /var/lib/checkpoint-edge\n'): string {
  const dir = join(root, `unpacked-${version}`);
  mkdirSync(join(dir, 'config', 'examples'), { recursive: true });
  mkdirSync(join(dir, 'deploy'), { recursive: true });
  writeFileSync(
    join(dir, 'release.json'),
    JSON.stringify({ name: 'checkpoint-edge', version, node: { version: 'v20' }, model: {} }),
  );
  writeFileSync(join(dir, 'config', 'examples', 'site-template.yaml'), template);
  writeFileSync(join(dir, 'deploy', 'checkpoint-edge.service'), UNIT.replace('[Service]', `[Service]\n# ${version}`));
  return dir;
}

describe('release install, upgrade and rollback', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'release-'));
    dirs.push(d);
    return d;
  };
  const lines: string[] = [];
  const say = (l: string) => lines.push(l);

  it('installs into versioned folders with a current link, a private data folder, the config once and the unit with the prefix', () => {
    const root = temp();
    const prefix = join(root, 'p');
    const r = installRelease({
      from: fakeRelease(root, '1.0.0'),
      prefix,
      owner: null,
      user: 'lane',
      mode: 'install',
      say,
    });
    const l = layout(prefix);
    expect(r.configCreated).toBe(true);
    expect(readlinkSync(l.current)).toBe('releases/1.0.0');
    expect(statSync(l.data).mode & 0o777).toBe(0o700);
    expect(statSync(join(l.data, '..')).mode & 0o777).toBe(0o755);
    expect(statSync(l.environment).mode & 0o777).toBe(0o600);
    expect(readFileSync(l.config, 'utf8')).toBe(`dataDir: ${prefix}/var/lib/checkpoint-edge\n`);
    const unit = readFileSync(l.unit, 'utf8');
    expect(unit).toContain(`ExecStart=${prefix}/opt/checkpoint-edge/current/node/bin/node`);
    expect(unit).toContain(`ReadWritePaths=${prefix}/var/lib/checkpoint-edge`);
    expect(unit).toContain('User=lane\nGroup=lane');
    // The command on PATH follows current (upgrades and rollbacks switch only current).
    expect(readlinkSync(l.command)).toBe(`${prefix}/opt/checkpoint-edge/current/bin/checkpoint-edge`);
  });

  it('leaves a command of the same name that is not its link alone, and says so', () => {
    const root = temp();
    const prefix = join(root, 'p');
    const l = layout(prefix);
    mkdirSync(join(l.command, '..'), { recursive: true });
    writeFileSync(l.command, '#!/bin/sh\n');
    lines.length = 0;
    installRelease({ from: fakeRelease(root, '1.0.0'), prefix, owner: null, user: 'lane', mode: 'install', say });
    expect(readFileSync(l.command, 'utf8')).toBe('#!/bin/sh\n');
    expect(lines.join('\n')).toContain(`${l.command} exists and is not a link: left as it is`);
  });

  it('upgrades forward only, keeps the edited config and the data, and rolls back with one call', () => {
    const root = temp();
    const prefix = join(root, 'p');
    const l = layout(prefix);
    const base = { prefix, owner: null, user: 'checkpoint-edge', say };
    installRelease({ ...base, from: fakeRelease(root, '1.9.0'), mode: 'install' });
    writeFileSync(l.config, 'edited by the site\n');
    writeFileSync(join(l.data, 'outbox.db'), 'data');

    expect(() => installRelease({ ...base, from: fakeRelease(root, '1.9.0-rc.1'), mode: 'upgrade' })).toThrow(
      /older than the installed 1\.9\.0: upgrade only goes forward; use rollback/,
    );
    const up = installRelease({ ...base, from: fakeRelease(root, '1.10.0'), mode: 'upgrade' });
    expect(up.previous).toBe('1.9.0');
    expect(readlinkSync(l.current)).toBe('releases/1.10.0');
    expect(readlinkSync(l.previous)).toBe('releases/1.9.0');
    expect(readFileSync(l.config, 'utf8')).toBe('edited by the site\n');
    expect(readFileSync(join(l.data, 'outbox.db'), 'utf8')).toBe('data');
    expect(readFileSync(l.unit, 'utf8')).toContain('# 1.10.0');

    expect(rollbackRelease(prefix, say)).toEqual({ from: '1.10.0', to: '1.9.0' });
    expect(readlinkSync(l.current)).toBe('releases/1.9.0');
    expect(readlinkSync(l.previous)).toBe('releases/1.10.0');
    expect(readFileSync(l.unit, 'utf8')).toContain('# 1.9.0');
    expect(readFileSync(l.config, 'utf8')).toBe('edited by the site\n');
  });

  it('refuses an upgrade with nothing installed and a rollback with nothing to go back to', () => {
    const root = temp();
    const prefix = join(root, 'p');
    expect(() =>
      installRelease({
        from: fakeRelease(root, '1.0.0'),
        prefix,
        owner: null,
        user: 'x',
        mode: 'upgrade',
        say,
      }),
    ).toThrow(/nothing to upgrade/);
    expect(() => rollbackRelease(prefix, say)).toThrow(/nothing is installed/);
    installRelease({ from: fakeRelease(root, '1.0.0'), prefix, owner: null, user: 'x', mode: 'install', say });
    expect(() => rollbackRelease(prefix, say)).toThrow(/no previous release to go back to/);
    expect(() =>
      installRelease({ from: join(root, 'nowhere'), prefix, owner: null, user: 'x', mode: 'install', say }),
    ).toThrow(/is not an unpacked release \(no release\.json\)/);
  });

  it("names the account's primary group in the unit, which is not always the account's name", () => {
    const root = temp();
    const prefix = join(root, 'p');
    const me = { name: 'svc', uid: process.getuid!(), gid: process.getgid!(), group: 'nogroup' };
    installRelease({ from: fakeRelease(root, '1.0.0'), prefix, owner: me, user: 'svc', mode: 'install', say });
    expect(readFileSync(layout(prefix).unit, 'utf8')).toContain('User=svc\nGroup=nogroup');
    installRelease({ from: fakeRelease(root, '1.1.0'), prefix, owner: me, user: 'svc', mode: 'upgrade', say });
    rollbackRelease(prefix, say);
    expect(readFileSync(layout(prefix).unit, 'utf8')).toContain('User=svc\nGroup=nogroup');
  });

  it('orders versions numerically, a pre-release before its release', () => {
    expect(compareVersions('1.10.0', '1.9.0')).toBe(1);
    expect(compareVersions('1.0.0-rc.1', '1.0.0')).toBe(-1);
    expect(compareVersions('2.0', '2.0.0')).toBe(0);
  });
});
