import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword, UserDirectory, verifyPassword } from '../../../../console/server/users.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'console-users-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt per hash', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horse ', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
    expect(await verifyPassword('correct horse', 'plain-text')).toBe(false);
  });
});

describe('UserDirectory', () => {
  it('adds users to the file with hashes only, authenticates them, and removes them', async () => {
    const path = join(dir, 'sub', 'users.json');
    const users = new UserDirectory(path);
    await users.set('alice', 'operator', 'alice-secret');
    await users.set('sam', 'supervisor', 'sam-secret');
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('alice-secret');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(users.list().map((u) => [u.name, u.role])).toEqual([
      ['alice', 'operator'],
      ['sam', 'supervisor'],
    ]);
    expect(await users.authenticate('alice', 'alice-secret')).toMatchObject({ name: 'alice', role: 'operator' });
    expect(await users.authenticate('alice', 'sam-secret')).toBeNull();
    expect(await users.authenticate('nobody', 'alice-secret')).toBeNull();
    await expect(users.set('alice', 'operator', 'other-pass')).rejects.toThrow(/already exists/);
    await users.set('alice', 'supervisor', 'new-secret', { replace: true });
    expect(await users.authenticate('alice', 'alice-secret')).toBeNull();
    expect(await users.authenticate('alice', 'new-secret')).toMatchObject({ role: 'supervisor' });
    expect(users.remove('alice')).toBe(true);
    expect(users.remove('alice')).toBe(false);
    expect(await users.authenticate('alice', 'new-secret')).toBeNull();
  });

  it('sees a user added to the file by another process without a restart', async () => {
    const path = join(dir, 'users.json');
    const running = new UserDirectory(path);
    running.load();
    expect(running.list()).toEqual([]);
    await new UserDirectory(path).set('bob', 'operator', 'bob-secret');
    expect(await running.authenticate('bob', 'bob-secret')).toMatchObject({ name: 'bob' });
  });

  it('refuses bad names, roles and short passwords, and names the file of a broken users file', async () => {
    const path = join(dir, 'users.json');
    const users = new UserDirectory(path);
    await expect(users.set('bad name', 'operator', 'long-enough')).rejects.toThrow(/not valid/);
    await expect(users.set('carl', 'admin' as never, 'long-enough')).rejects.toThrow(/role "admin"/);
    await expect(users.set('carl', 'operator', 'abc')).rejects.toThrow(/too short/);
    writeFileSync(path, '{"users": [{"name": "x", "role": "operator", "password": "plain"}]}');
    expect(() => users.load()).toThrow(`users file ${path}: users[0] (x): password must be an scrypt hash`);
    writeFileSync(path, '{not json');
    expect(() => users.load()).toThrow(`users file ${path} is not valid JSON`);
  });
});
