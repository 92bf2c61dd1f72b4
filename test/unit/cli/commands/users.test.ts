import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../../core/command-line.js';
import { runUsers } from '../../../../cli/commands/users.js';
import { UserDirectory } from '../../../../console/server/users.js';

const BIN = join(import.meta.dirname, '../../../../bin/checkpoint-edge.js');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'users-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command in this process with `input` as standard input (not a terminal). */
async function users(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runUsers(args, { stdin: Readable.from([input]), stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe('checkpoint-edge users', () => {
  it('adds an account to the users file named by the site config, with the password from stdin', async () => {
    const config = join(dir, 'site.yaml');
    writeFileSync(
      config,
      `site: { id: s }\ndataDir: ${join(dir, 'data')}\nlanes:\n  - id: l1\n    scanner: { fileDrop: { dir: ${join(dir, 'drop')} } }\n`,
    );
    const add = await users(['add', 'carol', '--role', 'supervisor', '--config', config], 'amber-harbour-41\n');
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const path = join(dir, 'data', 'users.json');
    expect(add.stdout).toBe(`added carol (supervisor) in ${path}\n`);
    expect(await new UserDirectory(path).authenticate('carol', 'amber-harbour-41')).toMatchObject({
      role: 'supervisor',
    });

    const again = await users(['add', 'carol', '--role', 'operator', '--config', config], 'x\n');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect((await users(['passwd', 'carol', '--users-file', path], 'quiet-lantern-77\n')).code).toBe(0);
    expect(await new UserDirectory(path).authenticate('carol', 'quiet-lantern-77')).toMatchObject({
      role: 'supervisor',
    });
    expect((await users(['list', '--users-file', path])).stdout).toMatch(/^carol\tsupervisor\t/);
    expect((await users(['passwd', 'nobody', '--users-file', path], 'quiet-lantern-77\n')).stderr).toContain(
      'no user nobody',
    );
    expect((await users(['remove', 'carol', '--users-file', path])).code).toBe(0);
    expect((await users(['remove', 'carol', '--users-file', path])).code).toBe(1);
    expect(new UserDirectory(path).list()).toEqual([]);
  });

  it('finds the users file from the site config without the MQTT, OPC UA or camera secrets being set', async () => {
    const config = join(dir, 'secret-site.yaml');
    writeFileSync(
      config,
      `site: { id: s }\ndataDir: ${join(dir, 'data2')}\nmqtt: { url: "mqtts://b:8883", username: "\${MQTT_USERNAME}", password: "\${MQTT_PASSWORD}" }\nlanes:\n  - id: l1\n    scanner: { fileDrop: { dir: ${join(dir, 'drop')} }, opcua: { endpoint: "opc.tcp://s:4840", username: u, password: "\${OPCUA_PASSWORD}" } }\n`,
    );
    delete process.env.MQTT_PASSWORD;
    delete process.env.OPCUA_PASSWORD;
    const add = await users(['add', 'dora', '--role', 'operator', '--config', config], 'long-enough-secret-7\n');
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const list = await users(['list', '--config', config]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('dora\toperator');
    expect(existsSync(join(dir, 'data2', 'users.json'))).toBe(true);
  });

  it('changes a role without touching the password, so open sessions stay open; a new password changes the hash', async () => {
    const path = join(dir, 'roles.json');
    await users(['add', 'erin', '--role', 'operator', '--users-file', path], 'copper-meadow-19\n');
    const before = new UserDirectory(path).get('erin')!.password;
    const r = await users(['role', 'erin', '--role', 'supervisor', '--users-file', path]);
    expect(r).toMatchObject({ code: 0, stdout: `erin is now supervisor in ${path}\n` });
    expect(new UserDirectory(path).get('erin')).toMatchObject({ role: 'supervisor', password: before });
    // The same password again keeps the hash too; another one replaces it (and so ends sessions).
    await users(['passwd', 'erin', '--users-file', path], 'copper-meadow-19\n');
    expect(new UserDirectory(path).get('erin')!.password).toBe(before);
    await users(['passwd', 'erin', '--users-file', path], 'silver-meadow-23\n');
    expect(new UserDirectory(path).get('erin')!.password).not.toBe(before);
    expect((await users(['role', 'nobody', '--role', 'operator', '--users-file', path])).stderr).toContain(
      'no user nobody',
    );
    await expect(users(['role', 'erin', '--users-file', path])).rejects.toThrow(
      new UsageError('users role: give --role operator or supervisor'),
    );
  });

  it('says what is missing on bad usage, and refuses an empty password', async () => {
    const u = join(dir, 'u.json');
    await expect(users(['add', 'dave', '--users-file', u])).rejects.toThrow(
      new UsageError('users add: give --role operator or supervisor'),
    );
    await expect(users(['add', 'dave', '--role', 'admin', '--users-file', u])).rejects.toThrow(
      /--role must be operator or supervisor/,
    );
    await expect(users(['list'])).rejects.toThrow(/give --config <site.yaml> or --users-file <file>/);
    await expect(users(['add', 'dave', '--role', 'operator', '--users-file', u], '\n')).rejects.toThrow(/empty/);
  });

  it('refuses a password under 12 characters or containing the user name, and changes nothing', async () => {
    const path = join(dir, 'policy.json');
    const short = await users(['add', 'frank', '--role', 'operator', '--users-file', path], 'eleven-char\n');
    expect(short).toMatchObject({ code: 1, stdout: '' });
    expect(short.stderr).toBe(
      'users add: the password of frank is too short: use at least 12 characters (a few unrelated words are easy to type and hard to guess); nothing was changed\n',
    );
    expect(
      (await users(['add', 'frank', '--role', 'operator', '--users-file', path], 'frankfrankfrank\n')).stderr,
    ).toContain('contains the user name');
    expect(
      (await users(['add', 'frank', '--role', 'operator', '--users-file', path], 'My-FRANK-password-1\n')).stderr,
    ).toContain('contains the user name');
    expect(new UserDirectory(path).list()).toEqual([]);
    expect((await users(['add', 'frank', '--role', 'operator', '--users-file', path], 'twelve-chars\n')).code).toBe(0);
    expect((await users(['passwd', 'frank', '--users-file', path], 'short\n')).code).toBe(1);
    expect(await new UserDirectory(path).authenticate('frank', 'twelve-chars')).toMatchObject({ name: 'frank' });
  });

  it('is a command of the checkpoint-edge CLI', () => {
    const path = join(dir, 'cli.json');
    const r = spawnSync(process.execPath, [BIN, 'users', 'add', 'erin', '--role', 'operator', '--users-file', path], {
      input: 'copper-meadow-19\n',
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`added erin (operator) in ${path}\n`);
    expect(r.status).toBe(0);
  });
});
