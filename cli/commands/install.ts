import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT, parseCommandArgs, UsageError, type CliCommand } from '../../core/command-line.js';
import { APP, createSystemUser, installRelease, layout, lookupUser, type Owner } from '../install/release-install.js';

/** The release this command runs from: bin/checkpoint-edge.js's folder's parent. */
const THIS_RELEASE = resolve(import.meta.dirname, '..', '..');

/** Tells a running systemd about a changed unit, and restarts the service where it runs. */
export function reloadSystemd(prefix: string, restart: boolean, say: (line: string) => void): void {
  if (resolve(prefix) !== '/' || !existsSync('/run/systemd/system')) {
    say(`then, on the box: systemctl daemon-reload && systemctl enable --now ${APP}`);
    return;
  }
  execFileSync('systemctl', ['daemon-reload']);
  let active = false;
  try {
    execFileSync('systemctl', ['is-active', '--quiet', APP]);
    active = true;
  } catch {
    active = false;
  }
  if (restart && active) {
    execFileSync('systemctl', ['restart', APP]);
    say(`${APP} restarted`);
  } else if (!active) say(`start it with: systemctl enable --now ${APP} (after editing the config)`);
}

export function releaseCommand(mode: 'install' | 'upgrade'): CliCommand {
  const cmd: CliCommand = {
    name: mode,
    summary:
      mode === 'install' ? 'install this release on a site box' : 'install this newer release over the installed one',
    usage: `Usage: checkpoint-edge ${mode} [--prefix DIR] [--user NAME | --no-user] [--from DIR]

${
  mode === 'install'
    ? `Installs the release this command comes from (the folder unpacked from the archive) without
any network: the release under /opt/checkpoint-edge/releases/<version>, the link
/opt/checkpoint-edge/current, the service user, the data folder /var/lib/checkpoint-edge (0700),
/etc/checkpoint-edge/site.yaml from the template (only if there is none) and the systemd unit.`
    : `Installs this release beside the installed one and switches /opt/checkpoint-edge/current to it;
the release it replaces becomes /opt/checkpoint-edge/previous (\`checkpoint-edge rollback\` goes
back). The data folder and the config are kept. Databases migrate forward when the service
starts, and the log says which migration ran. Only a newer version is taken.`
}

Options:
  --prefix DIR   install under DIR instead of / (a staging root, a test); no user is created
  --user NAME    the service account (default ${APP}); as root without --prefix it is created
  --no-user      create no account and change no owner (files stay the installer's)
  --from DIR     the unpacked release to install (default: the one this command runs from)
  --help         show this help

Exit codes: 0 done, 1 failed, 2 bad usage.`,
    async run(argv) {
      const args = parseCommandArgs(cmd, argv, {
        prefix: { type: 'string' },
        user: { type: 'string' },
        'no-user': { type: 'boolean' },
        from: { type: 'string' },
      });
      if (!args) return EXIT.ok;
      const v = args.values;
      if (v.user && v['no-user']) throw new UsageError(`${mode}: --user and --no-user exclude each other`);
      const prefix = resolve(v.prefix ?? '/');
      const user = v.user ?? APP;
      if (!/^[a-z_][a-z0-9_-]*$/.test(user)) throw new UsageError(`${mode}: --user "${user}" is not an account name`);
      const root = process.getuid?.() === 0;
      const say = (line: string) => process.stdout.write(`${line}\n`);
      let owner: Owner | null = null;
      if (!v['no-user']) {
        if (root && !v.prefix) {
          owner = createSystemUser(user, layout(prefix).data);
          say(`service account ${user} (uid ${owner.uid})`);
        } else if (root) {
          owner = lookupUser(user);
          if (!owner) say(`no account ${user} on this machine: files under ${prefix} stay root's`);
        } else if (!v.prefix) {
          throw new UsageError(
            `${mode}: a system install (no --prefix) needs root: run it with sudo, or give --prefix DIR and --no-user`,
          );
        }
      }
      let report: ReturnType<typeof installRelease>;
      try {
        report = installRelease({ from: resolve(v.from ?? THIS_RELEASE), prefix, owner, user, mode, say });
      } catch (err) {
        process.stderr.write(`${mode}: ${(err as Error).message}\n`);
        return EXIT.failure;
      }
      say(`installed ${report.version} under ${report.layout.prefix}`);
      reloadSystemd(prefix, mode === 'upgrade', say);
      return EXIT.ok;
    },
  };
  return cmd;
}

export default releaseCommand('install');
