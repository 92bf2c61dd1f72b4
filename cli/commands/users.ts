import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { usersFilePath } from '../../console/server/console-service.js';
import { passwordProblem, ROLES, UserDirectory, type Role } from '../../console/server/users.js';
import { ConfigError, loadConfigPaths } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { EXIT, parseCommandArgs, UsageError, type CliCommand } from '../../core/command-line.js';

const cmd: CliCommand = {
  name: 'users',
  summary: 'manage the operator console accounts',
  usage: `Usage: checkpoint-edge users <action> [name] (--config <site.yaml> | --users-file <file>) [options]

Manages the accounts of the operator console, kept in the users file (console.usersFile, else
<dataDir>/users.json) as scrypt hashes. The running console sees changes without a restart.

Actions:
  add <name> --role <operator|supervisor>   add an account; asks for the password
  passwd <name> [--role <role>]             set a new password (and role) of an account; a new
                                            password ends the account's open console sessions
  role <name> --role <role>                 change the role only (sessions stay open, the new role
                                            applies to their next request)
  remove <name>                             remove an account (and end its sessions)
  list                                      list the accounts and their roles

Options:
  --config <file>       the site's config file: the users file is taken from it
  --users-file <file>   the users file itself
  --role <role>         operator (acknowledges alerts, records dispositions) or supervisor
                        (also reads the audit log and the list of users)
  --help                show this help

The password is asked twice on a terminal; otherwise the first line of standard input is the
password (e.g. from a secrets manager: ... | checkpoint-edge users add ...). It must have at
least 12 characters and must not be or contain the user name.

Exit codes: 0 done, 1 failed, 2 bad usage.`,
  run(argv) {
    return runUsers(argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  },
};
export default cmd;

/** Where the command reads the password and writes its lines (tests pass their own streams). */
export interface UsersIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function runUsers(argv: string[], io: UsersIo): Promise<number> {
  const args = parseCommandArgs(
    cmd,
    argv,
    { config: { type: 'string', short: 'c' }, 'users-file': { type: 'string' }, role: { type: 'string' } },
    true,
  );
  if (!args) return EXIT.ok;
  const [action, name, ...extra] = args.positionals;
  if (!action || !['add', 'passwd', 'role', 'remove', 'list'].includes(action))
    throw new UsageError(`users: give an action: add, passwd, role, remove or list\n\n${cmd.usage}`);
  if (extra.length > 0) throw new UsageError(`users: unexpected argument "${extra[0]}"`);
  if (action !== 'list' && !name) throw new UsageError(`users ${action}: give the user name`);
  const role = args.values.role as Role | undefined;
  if (role !== undefined && !ROLES.includes(role))
    throw new UsageError(`users: --role must be ${ROLES.join(' or ')}, got "${role}"`);
  if ((action === 'add' || action === 'role') && !role)
    throw new UsageError(`users ${action}: give --role ${ROLES.join(' or ')}`);

  let path = args.values['users-file'];
  if (!path) {
    const file = args.values.config;
    if (!file) throw new UsageError('users: give --config <site.yaml> or --users-file <file>');
    try {
      // Only the users file is needed: the MQTT, OPC UA and camera secrets need not be set here.
      const paths = loadConfigPaths(file);
      path = paths.usersFile
        ? resolve(paths.usersFile)
        : usersFilePath({ config: { console: {} } as Config, dataDir: resolve(paths.dataDir) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const line of err.lines()) io.stderr.write(`${file}: ${line}\n`);
      return EXIT.usage;
    }
  }
  const users = new UserDirectory(resolve(path));
  users.load();

  if (action === 'list') {
    const list = users.list();
    if (list.length === 0) io.stdout.write(`no users in ${users.path}\n`);
    for (const u of list) io.stdout.write(`${u.name}\t${u.role}\t${u.createdAt}\n`);
    return EXIT.ok;
  }
  if (action === 'remove') {
    if (!users.remove(name!)) {
      io.stderr.write(`users remove: no user ${name} in ${users.path}\n`);
      return EXIT.failure;
    }
    io.stdout.write(`removed ${name} from ${users.path}\n`);
    return EXIT.ok;
  }
  if (action === 'role') {
    if (!users.setRole(name!, role!)) {
      io.stderr.write(
        `users role: no user ${name} in ${users.path}; add it with 'checkpoint-edge users add ${name} --role ${role}'\n`,
      );
      return EXIT.failure;
    }
    io.stdout.write(`${name} is now ${role} in ${users.path}\n`);
    return EXIT.ok;
  }
  const existing = users.get(name!);
  if (action === 'passwd' && !existing) {
    io.stderr.write(
      `users passwd: no user ${name} in ${users.path}; add it with 'checkpoint-edge users add ${name} --role operator'\n`,
    );
    return EXIT.failure;
  }
  if (action === 'add' && existing) {
    io.stderr.write(
      `users add: ${name} already exists in ${users.path}; change the password with 'checkpoint-edge users passwd ${name}'\n`,
    );
    return EXIT.failure;
  }
  const password = await readPassword(io, `Password for ${name}: `);
  const problem = passwordProblem(name!, password);
  if (problem) {
    io.stderr.write(`users ${action}: ${problem}; nothing was changed\n`);
    return EXIT.failure;
  }
  await users.set(name!, role ?? existing!.role, password, { replace: action === 'passwd' });
  io.stdout.write(`${action === 'add' ? 'added' : 'updated'} ${name} (${role ?? existing!.role}) in ${users.path}\n`);
  return EXIT.ok;
}

/** Asks twice without echo on a terminal; otherwise reads the first line of stdin. */
async function readPassword(io: UsersIo, prompt: string): Promise<string> {
  if (!io.stdin.isTTY) {
    const rl = createInterface({ input: io.stdin, terminal: false });
    for await (const line of rl) {
      rl.close();
      if (!line) throw new Error('users: the first line of standard input (the password) is empty');
      return line;
    }
    throw new Error('users: no password on standard input');
  }
  const ask = async (q: string): Promise<string> => {
    let muted = false;
    const output = new Writable({
      write(chunk, _enc, cb) {
        if (!muted) io.stdout.write(chunk);
        cb();
      },
    });
    const rl = createInterface({ input: io.stdin, output, terminal: true });
    const answer = new Promise<string>((res) => rl.question(q, res));
    muted = true;
    const a = await answer;
    rl.close();
    io.stdout.write('\n');
    return a;
  };
  const first = await ask(prompt);
  const second = await ask('Again: ');
  if (first !== second) throw new Error('users: the two passwords differ; nothing was changed');
  return first;
}
