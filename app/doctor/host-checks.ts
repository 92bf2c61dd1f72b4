import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import {
  ENV_REF,
  type EnvUse,
  emptyRefused,
  envReferences,
  formatPath,
  isBlank,
  stringValues,
} from '../../config/load.js';
import { urlUserinfo } from '../../core/redact.js';
import type { Config } from '../../config/schema.js';
import { type DoctorResult, fail, ok, warn } from './doctor-check.js';

/** The checks of the box itself: secrets, clock, disk, watchdog. */

function run(cmd: string, args: string[], timeoutMs = 5000): Promise<{ ok: boolean; out: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) =>
      res({ ok: !err, out: `${stdout}${err ? stderr || err.message : ''}`.trim() }),
    );
  });
}

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/** A config file's text, and what YAML makes of it (`raw`: undefined where the text is not YAML): parsed once for
 * every check of the secrets. */
export interface ConfigText {
  text: string;
  raw?: unknown;
}

export function readConfigText(text: string): ConfigText {
  try {
    return { text, raw: parse(text) };
  } catch {
    return { text };
  }
}

/**
 * Each `${NAME}` the config file names (comments not read), in the order they appear, with how it is used
 * (config/load.ts envReferences). A file that is not YAML is read for its references alone, each taken
 * for a secret.
 */
export function configEnvReferences(config: ConfigText): Map<string, EnvUse> {
  if ('raw' in config) return envReferences(config.raw);
  const out = new Map<string, EnvUse>();
  for (const m of config.text.replace(/^\s*#.*$/gm, '').matchAll(ENV_REF)) out.set(m[1]!, 'secret');
  return out;
}

/**
 * Every ${NAME} the config file names: set (in the environment or the service's environment
 * file), or NAME_FILE naming a readable file that others cannot read; and the environment file
 * itself readable by its owner only.
 */
export function checkSecrets(configText: string, env: NodeJS.ProcessEnv, envFile: string | null): DoctorResult[] {
  const out: DoctorResult[] = [];
  const config = readConfigText(configText);
  if (envFile) {
    const mode = statSync(envFile).mode;
    out.push(
      mode & 0o077
        ? fail(
            'secrets file',
            envFile,
            `mode ${octal(mode)}: others can read the secrets`,
            `chmod 0600 ${envFile} (owned by root; systemd reads it for the service)`,
          )
        : ok('secrets file', envFile, `mode ${octal(mode)}`),
    );
  }
  // The `${NAME}`s the service refuses when empty (config/load.ts emptyRefused); a file that is not YAML: none known.
  const refusedEmpty = 'raw' in config ? emptyRefused(config.raw) : new Set<string>();
  for (const [name, use] of configEnvReferences(config)) {
    const label = use === 'secret' ? 'secret' : 'environment';
    const empty = (what: string, fix: string) =>
      refusedEmpty.has(name)
        ? fail(label, name, `${what}; the service refuses the config`, fix)
        : warn(label, name, `${what}; the service takes it as empty text`, fix);
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct !== undefined && file !== undefined) {
      out.push(
        fail(label, name, `both ${name} and ${name}_FILE are set; the service refuses the config`, `set only one`),
      );
    } else if (direct !== undefined) {
      out.push(
        isBlank(direct)
          ? empty('is set but empty', `give ${name} its value${envFile ? ` in ${envFile}` : ''}`)
          : ok(label, name, use === 'setting' ? `set: ${direct.trim()}` : `set (${direct.length} characters)`),
      );
    } else if (file !== undefined) {
      try {
        const s = statSync(file);
        const text = readFileSync(file, 'utf8');
        if (s.mode & 0o007)
          out.push(
            fail(
              label,
              name,
              `${name}_FILE ${file} has mode ${octal(s.mode)}: anyone on the box can read it`,
              `chmod o-rwx ${file}`,
            ),
          );
        else if (isBlank(text)) out.push(empty(`${name}_FILE ${file} is empty`, `write the value into ${file}`));
        else out.push(ok(label, name, `${name}_FILE ${file}, mode ${octal(s.mode)}`));
      } catch (err) {
        out.push(
          fail(
            label,
            name,
            `${name}_FILE names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code})`,
            `create it, readable by the service user only`,
          ),
        );
      }
    } else {
      out.push(
        fail(
          label,
          name,
          `the config names \${${name}}, and neither ${name} nor ${name}_FILE is set`,
          `add ${name}=… to ${envFile ?? 'the service environment (/etc/checkpoint-edge/environment)'}`,
        ),
      );
    }
  }
  for (const at of literalUrlPasswords(config))
    out.push(
      warn(
        'secret',
        at,
        'a password is written into the config file in this URL',
        "give it as ${NAME} from the service environment, or in the key's own password field",
      ),
    );
  return out;
}

/**
 * The keys (as a path) whose value holds a URL with a password written out, whole or in part, not given
 * only by `${NAME}` (a file that is not YAML: none).
 */
export function literalUrlPasswords(config: ConfigText): string[] {
  if (!('raw' in config)) return [];
  return stringValues(config.raw)
    .filter(({ text }) =>
      urlUserinfo(text).some((info) => {
        const colon = info.indexOf(':');
        return colon >= 0 && info.slice(colon + 1).replace(ENV_REF, '') !== '';
      }),
    )
    .map(({ path }) => formatPath(path));
}

/** The clock: synchronised by NTP (timedatectl, else chrony); a warning when it cannot be told. */
export async function checkClock(): Promise<DoctorResult> {
  const fix = 'enable time synchronisation (timedatectl set-ntp true, or chrony) against the site NTP server';
  const td = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
  if (td.ok && td.out === 'yes') return ok('clock', '-', 'synchronised (timedatectl: NTPSynchronized=yes)');
  if (td.ok && td.out === 'no')
    return fail('clock', '-', 'not synchronised (timedatectl: NTPSynchronized=no): scan times would drift', fix);
  const chrony = await run('chronyc', ['-n', 'tracking']);
  if (chrony.ok) {
    const leap = /Leap status\s*:\s*(.+)/.exec(chrony.out)?.[1]?.trim();
    if (leap === 'Normal') return ok('clock', '-', 'synchronised (chrony: leap status Normal)');
    return fail('clock', '-', `not synchronised (chrony: leap status ${leap ?? 'unknown'})`, fix);
  }
  return warn(
    'clock',
    '-',
    `cannot tell whether the clock is synchronised (timedatectl: ${td.out.split('\n')[0] || 'not found'}; chronyc: not available)`,
    `check by hand that the clock follows NTP; ${fix}`,
  );
}

/** Bytes under a folder, bounded (a huge evidence store is not walked to its end). */
function usedBytes(dir: string, budget = { files: 200_000 }): number {
  let n = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (budget.files-- <= 0) break;
    const p = join(dir, e.name);
    if (e.isDirectory()) n += usedBytes(p, budget);
    else if (e.isFile()) n += statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  }
  return n;
}

function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

const GiB = 2 ** 30;
/** Room kept beside the evidence: databases, logs, the model's scratch. */
const HEADROOM = 2 * GiB;

/** The disk of the evidence store: room for evidence.maxMb (the retention's size cap) and headroom. */
export function checkDisk(config: Config, statfs = statfsSync): DoctorResult {
  const dir = resolve(config.evidence.dir ?? join(config.dataDir, 'evidence'));
  const on = existingAncestor(dir);
  const fs = statfs(on);
  const free = Number(fs.bavail) * Number(fs.bsize);
  const cap = config.evidence.maxMb * 2 ** 20;
  const used = usedBytes(dir);
  const need = Math.max(0, cap - used) + HEADROOM;
  const gb = (b: number) => `${(b / GiB).toFixed(1)} GiB`;
  const what = `${gb(free)} free on the disk of ${dir}; evidence uses ${gb(used)} of its cap ${gb(cap)} (evidence.maxMb, kept ${config.evidence.retentionDays} days)`;
  if (free < need)
    return fail(
      'disk',
      dir,
      `${what}: the cap needs ${gb(need - free)} more (with ${gb(HEADROOM)} headroom)`,
      'lower evidence.maxMb or retentionDays, or give the data folder a larger disk (docs/deployment.md, sizing)',
    );
  return ok('disk', dir, what);
}

/**
 * The systemd watchdog: the unit the service runs under is Type=notify with WatchdogSec and
 * NotifyAccess=all (from `systemctl show` where systemd runs, which counts drop-ins, else from
 * the unit file), and systemd-notify is there to send the pings.
 */
export async function checkWatchdog(unitFile: string, unitName = 'checkpoint-edge.service'): Promise<DoctorResult> {
  const fix = `install the unit (checkpoint-edge install) and keep Type=notify, NotifyAccess=all and WatchdogSec= in ${unitFile}`;
  const notify = await run('systemd-notify', ['--help']);
  if (!notify.ok)
    return fail('watchdog', unitName, 'systemd-notify is not installed: the watchdog pings cannot be sent', fix);
  let props: Record<string, string> = {};
  let source = '';
  if (existsSync('/run/systemd/system')) {
    const shown = await run('systemctl', [
      'show',
      unitName,
      '-p',
      'Type',
      '-p',
      'WatchdogUSec',
      '-p',
      'NotifyAccess',
      '-p',
      'LoadState',
    ]);
    if (shown.ok) {
      props = Object.fromEntries(
        shown.out.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      if (props.LoadState === 'loaded') source = 'systemctl show';
    }
  }
  if (!source) {
    if (!existsSync(unitFile)) return fail('watchdog', unitFile, 'no service unit is installed', fix);
    const text = readFileSync(unitFile, 'utf8');
    const get = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
    props = { Type: get('Type'), WatchdogUSec: get('WatchdogSec'), NotifyAccess: get('NotifyAccess') };
    source = unitFile;
  }
  const wd = props.WatchdogUSec ?? '';
  const problems: string[] = [];
  if (props.Type !== 'notify') problems.push(`Type=${props.Type || '(simple)'}, not notify`);
  if (!wd || wd === '0' || wd === 'infinity') problems.push('no WatchdogSec');
  if (props.NotifyAccess !== 'all')
    problems.push(`NotifyAccess=${props.NotifyAccess || 'main'}: the pings come from systemd-notify, a child process`);
  if (problems.length) return fail('watchdog', source, problems.join('; '), fix);
  return ok('watchdog', source, `Type=notify, watchdog ${wd}, NotifyAccess=all; systemd-notify present`);
}

/** A serial device a lane opens (a Modbus RTU sensor line): there, a character device, readable and writable. */
export function checkSerialDevice(what: string, path: string): DoctorResult {
  try {
    if (!statSync(path).isCharacterDevice())
      return fail(
        'serial port',
        `${what} ${path}`,
        'is not a character device (a serial port is)',
        'name the adapter, e.g. /dev/serial/by-id/…',
      );
    accessSync(path, constants.R_OK | constants.W_OK);
    return ok('serial port', `${what} ${path}`, 'serial device, readable and writable (not opened by the check)');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(
      'serial port',
      `${what} ${path}`,
      code === 'ENOENT' ? 'does not exist' : `cannot be opened for reading and writing (${code})`,
      code === 'ENOENT'
        ? 'is the RS-485 adapter plugged in? (ls /dev/serial/by-id/)'
        : 'add the service user to group dialout (the unit does: SupplementaryGroups=dialout)',
    );
  }
}
