import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserDirectory } from '../../../console/server/users.js';

const BIN = join(import.meta.dirname, '../../../bin/checkpoint-edge.js');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'users-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'users', ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('checkpoint-edge users', () => {
  it('adds an account to the users file named by the site config, with the password from stdin', async () => {
    const config = join(dir, 'site.yaml');
    writeFileSync(config, `site: { id: s }\ndataDir: ${join(dir, 'data')}\nlanes:\n  - id: l1\n    scanner: { fileDrop: { dir: ${join(dir, 'drop')} } }\n`);
    const add = cli(['add', 'carol', '--role', 'supervisor', '--config', config], 'carol-secret\n');
    expect(add.stderr).toBe('');
    expect(add.status).toBe(0);
    const path = join(dir, 'data', 'users.json');
    expect(add.stdout).toBe(`added carol (supervisor) in ${path}\n`);
    expect(await new UserDirectory(path).authenticate('carol', 'carol-secret')).toMatchObject({ role: 'supervisor' });

    const again = cli(['add', 'carol', '--role', 'operator', '--config', config], 'x\n');
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(cli(['passwd', 'carol', '--users-file', path], 'new-secret\n').status).toBe(0);
    expect(await new UserDirectory(path).authenticate('carol', 'new-secret')).toMatchObject({ role: 'supervisor' });
    expect(cli(['list', '--users-file', path]).stdout).toMatch(/^carol\tsupervisor\t/);
    expect(cli(['remove', 'carol', '--users-file', path]).status).toBe(0);
    expect(new UserDirectory(path).list()).toEqual([]);
  });

  it('says what is missing on bad usage', () => {
    expect(cli(['add', 'dave', '--users-file', join(dir, 'u.json')]).stderr).toContain('give --role operator or supervisor');
    expect(cli(['list']).stderr).toContain('give --config <site.yaml> or --users-file <file>');
  });
});
