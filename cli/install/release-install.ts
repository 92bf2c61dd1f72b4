import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';

/**
 * Installs, upgrades and rolls back releases of checkpoint-edge on a site box (docs/deployment.md).
 *
 *   <prefix>/opt/checkpoint-edge/releases/<version>/   one folder per release, never changed after install
 *   <prefix>/opt/checkpoint-edge/current -> releases/<version>    what the service runs
 *   <prefix>/opt/checkpoint-edge/previous -> releases/<version>   what `rollback` goes back to
 *   <prefix>/etc/checkpoint-edge/site.yaml             the site's config (from the template once, never overwritten)
 *   <prefix>/etc/checkpoint-edge/environment           secrets for ${NAME} in the config (0600, never overwritten)
 *   <prefix>/var/lib/checkpoint-edge/                  data: outbox, journal, console, evidence (0700, service user)
 *   <prefix>/etc/systemd/system/checkpoint-edge.service   the unit (the release's, with this installation's paths)
 *
 * Symlinks are switched by renaming a new link over the old one, so `current` always names a
 * whole release, even when the power fails halfway.
 */

export const APP = 'checkpoint-edge';
/** The default paths, as written in deploy/checkpoint-edge.service and the config template. */
const OPT = '/opt/checkpoint-edge';
const ETC = '/etc/checkpoint-edge';
const DATA = '/var/lib/checkpoint-edge';

export interface ReleaseInfo {
  name: string;
  version: string;
  node: { version: string };
  model: { name: string; version: string; sha256: string };
}

export interface InstallLayout {
  prefix: string;
  opt: string;
  releases: string;
  current: string;
  /** The command on PATH: a link to current/bin/checkpoint-edge, so it follows upgrades and rollbacks. */
  command: string;
  previous: string;
  etc: string;
  config: string;
  environment: string;
  data: string;
  unit: string;
}

export function layout(prefix: string): InstallLayout {
  const p = resolve(prefix);
  const at = (path: string) => join(p, path);
  return {
    prefix: p,
    opt: at(OPT),
    releases: at(`${OPT}/releases`),
    current: at(`${OPT}/current`),
    previous: at(`${OPT}/previous`),
    etc: at(ETC),
    config: at(`${ETC}/site.yaml`),
    environment: at(`${ETC}/environment`),
    data: at(DATA),
    unit: at(`/etc/systemd/system/${APP}.service`),
    command: at(`/usr/local/bin/${APP}`),
  };
}

/** The release.json of an unpacked release folder, or an error that says what the folder is not. */
export function readRelease(dir: string): ReleaseInfo {
  const file = join(dir, 'release.json');
  if (!existsSync(file))
    throw new Error(
      `${dir} is not an unpacked release (no release.json): run install from the folder unpacked from checkpoint-edge-<version>-linux-x64.tar.gz`,
    );
  const r = JSON.parse(readFileSync(file, 'utf8')) as ReleaseInfo;
  if (!r.version || !/^[0-9A-Za-z.+-]+$/.test(r.version))
    throw new Error(`${file}: no usable version ("${r.version}")`);
  return r;
}

/** Compares dotted versions numerically (1.10.0 > 1.9.0); a pre-release suffix sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const [main = '', pre] = v.split('-', 2);
    return { parts: main.split('.').map((x) => Number.parseInt(x, 10) || 0), pre };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.parts.length, y.parts.length); i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

/**
 * Puts the command on PATH: <prefix>/usr/local/bin/checkpoint-edge -> current/bin/checkpoint-edge.
 * A link already there is replaced (atomically); anything else there is left alone and named.
 */
function linkCommand(l: InstallLayout, say: (line: string) => void): void {
  const target = join(l.current, 'bin', APP);
  let there: 'none' | 'link' | 'other' = 'none';
  try {
    there = lstatSync(l.command).isSymbolicLink() ? 'link' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (there === 'other') {
    say(`${l.command} exists and is not a link: left as it is; the command is ${target}`);
    return;
  }
  if (there === 'link' && readlinkSync(l.command) === target) return;
  mkdirSync(join(l.command, '..'), { recursive: true, mode: 0o755 });
  const tmp = `${l.command}.new-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, l.command);
  say(`command ${l.command} -> ${target}`);
}

/** The release a link (current, previous) names, or null. */
export function linkedRelease(link: string): string | null {
  try {
    if (!lstatSync(link).isSymbolicLink()) throw new Error(`${link} should be a symbolic link to a release folder`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return basename(readlinkSync(link));
}

/** Points `link` at releases/<version>, atomically (a new link renamed over the old). */
function switchLink(link: string, version: string): void {
  const tmp = `${link}.new-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(join('releases', version), tmp);
  renameSync(tmp, link);
}

export interface Owner {
  name: string;
  uid: number;
  gid: number;
  /** The name of the account's primary group (not always its own name: nobody's is nogroup). */
  group: string;
}

/** The account's uid, gid and primary group, or null when there is no such account. */
export function lookupUser(name: string): Owner | null {
  try {
    const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
    const [, , uid, gid] = line.split(':');
    let group = name;
    try {
      group = execFileSync('getent', ['group', String(gid)], { encoding: 'utf8' }).split(':')[0] ?? name;
    } catch {
      group = name; // a gid without a group entry: the unit names the account's own
    }
    return { name, uid: Number(uid), gid: Number(gid), group };
  } catch {
    return null;
  }
}

/** Creates the service's system account (no login, no home of its own but the data folder). */
export function createSystemUser(name: string, home: string): Owner {
  const found = lookupUser(name);
  if (found) return found;
  execFileSync(
    'useradd',
    ['--system', '--user-group', '--home-dir', home, '--no-create-home', '--shell', '/usr/sbin/nologin', name],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const made = lookupUser(name);
  if (!made) throw new Error(`useradd created no account ${name}`);
  return made;
}

/** Replaces the default paths with those under the prefix, and the service account's names. */
function localise(text: string, l: InstallLayout, user: string, group = user): string {
  return text
    .replaceAll(OPT, l.opt)
    .replaceAll(ETC, l.etc)
    .replaceAll(DATA, l.data)
    .replace(/^User=.*$/m, `User=${user}`)
    .replace(/^Group=.*$/m, `Group=${group}`);
}

export interface InstallOptions {
  /** The unpacked release folder. */
  from: string;
  prefix: string;
  /** The service account; null: files stay with whoever runs the install (--no-user). */
  owner: Owner | null;
  /** The account name written into the unit. */
  user: string;
  /** upgrade: an installation must exist and the release must be newer. */
  mode: 'install' | 'upgrade';
  say: (line: string) => void;
}

export interface InstallReport {
  version: string;
  previous: string | null;
  layout: InstallLayout;
  configCreated: boolean;
}

export function installRelease(o: InstallOptions): InstallReport {
  const rel = readRelease(o.from);
  const l = layout(o.prefix);
  const current = linkedRelease(l.current);
  if (o.mode === 'upgrade') {
    if (!current)
      throw new Error(`nothing to upgrade: ${l.current} does not exist (run install for a first installation)`);
    const cmp = compareVersions(rel.version, current);
    if (cmp <= 0)
      throw new Error(
        `release ${rel.version} is ${cmp === 0 ? 'the one installed' : `older than the installed ${current}`}: upgrade only goes forward; use rollback to go back to ${linkedRelease(l.previous) ?? 'the previous release'}`,
      );
  }
  mkdirSync(l.releases, { recursive: true, mode: 0o755 });
  const target = join(l.releases, rel.version);
  if (existsSync(target)) {
    const there = readRelease(target);
    o.say(`release ${there.version} is already in ${target}: kept as it is`);
  } else {
    const tmp = `${target}.partial-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    cpSync(resolve(o.from), tmp, { recursive: true, verbatimSymlinks: true });
    renameSync(tmp, target);
    o.say(`release ${rel.version} copied to ${target}`);
  }
  let previous: string | null = null;
  if (current && current !== rel.version) {
    switchLink(l.previous, current);
    previous = current;
  }
  switchLink(l.current, rel.version);
  o.say(`${l.current} -> releases/${rel.version}${previous ? ` (previous: ${previous})` : ''}`);

  linkCommand(l, o.say);

  // Config and data: created once, then only ever the site's.
  // Parents (/etc, /var/lib under a prefix) get the usual 0755; only the leaves are private.
  mkdirSync(join(l.etc, '..'), { recursive: true, mode: 0o755 });
  mkdirSync(join(l.data, '..'), { recursive: true, mode: 0o755 });
  mkdirSync(l.etc, { recursive: true, mode: 0o750 });
  mkdirSync(l.data, { recursive: true, mode: 0o700 });
  chmodSync(l.data, 0o700);
  if (o.owner) {
    chownSync(l.data, o.owner.uid, o.owner.gid);
    chownSync(l.etc, 0, o.owner.gid);
  }
  let configCreated = false;
  if (!existsSync(l.config)) {
    const template = readFileSync(join(target, 'config', 'examples', 'site-template.yaml'), 'utf8');
    writeFileSync(l.config, localise(template, l, o.user), { mode: 0o640 });
    if (o.owner) chownSync(l.config, 0, o.owner.gid);
    configCreated = true;
    o.say(`config ${l.config} created from the template: edit every value marked EDIT`);
  } else o.say(`config ${l.config} kept`);
  if (!existsSync(l.environment)) {
    writeFileSync(
      l.environment,
      `# Secrets for the \${NAME} references of site.yaml, one NAME=value a line (systemd EnvironmentFile).\n# Readable by root only; systemd hands them to the service.\n#MQTT_USERNAME=\n#MQTT_PASSWORD=\n#OPCUA_USERNAME=\n#OPCUA_PASSWORD=\n#CAM_USER=\n#CAM_PASSWORD=\n`,
      { mode: 0o600 },
    );
    o.say(`secrets file ${l.environment} created (0600): fill in the values the config names`);
  }

  // The unit belongs to the release: rewritten on every install, site changes go in drop-ins.
  const unit = localise(
    readFileSync(join(target, 'deploy', `${APP}.service`), 'utf8'),
    l,
    o.user,
    o.owner?.group ?? o.user,
  );
  mkdirSync(join(l.unit, '..'), { recursive: true, mode: 0o755 });
  writeFileSync(l.unit, unit, { mode: 0o644 });
  o.say(`systemd unit ${l.unit} written`);
  return { version: rel.version, previous, layout: l, configCreated };
}

/** Switches current back to previous (and previous to what was current). */
export function rollbackRelease(prefix: string, say: (line: string) => void): { from: string; to: string } {
  const l = layout(prefix);
  const current = linkedRelease(l.current);
  const previous = linkedRelease(l.previous);
  if (!current) throw new Error(`nothing is installed: ${l.current} does not exist`);
  if (!previous)
    throw new Error(`no previous release to go back to: ${l.previous} does not exist (only ${current} was installed)`);
  if (!existsSync(join(l.releases, previous, 'release.json')))
    throw new Error(`the previous release ${previous} is gone from ${l.releases}: reinstall it from its archive`);
  switchLink(l.current, previous);
  switchLink(l.previous, current);
  // The unit of the release now current (it may differ between releases).
  const unitSource = join(l.releases, previous, 'deploy', `${APP}.service`);
  if (existsSync(l.unit) && existsSync(unitSource)) {
    const installed = readFileSync(l.unit, 'utf8');
    const user = /^User=(.*)$/m.exec(installed)?.[1] ?? APP;
    const group = /^Group=(.*)$/m.exec(installed)?.[1] ?? user;
    writeFileSync(l.unit, localise(readFileSync(unitSource, 'utf8'), l, user, group), { mode: 0o644 });
  }
  say(`${l.current} -> releases/${previous} (was ${current}; ${l.previous} -> releases/${current})`);
  return { from: current, to: previous };
}
