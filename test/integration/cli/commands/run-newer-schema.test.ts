import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../helpers/cli.js';
import { freePort } from '../../../helpers/net.js';

describe('run after a rollback, on data a newer release migrated', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('refuses to start, naming the database and both schema versions, and leaves the file as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'newer-schema-'));
    dirs.push(dir);
    const laneDir = join(dir, 'data', 'lanes', 'lane-1');
    mkdirSync(laneDir, { recursive: true });
    const journal = join(laneDir, 'open-scans.sqlite');
    const db = new Database(journal);
    db.exec(
      'CREATE TABLE schema_versions (store TEXT PRIMARY KEY, version INTEGER NOT NULL, migrated_at TEXT NOT NULL)',
    );
    db.prepare('INSERT INTO schema_versions VALUES (?, ?, ?)').run('open-scan journal', 7, '2027-01-01T00:00:00Z');
    db.close();
    const config = join(dir, 'site.yaml');
    writeFileSync(
      config,
      `site: { id: s1 }\ndataDir: ${join(dir, 'data')}\nconsole: { enabled: false }\nhttp: { port: 0 }\nlanes:\n  - id: lane-1\n    scanner:\n      transport: { type: tcp, host: 127.0.0.1, port: ${await freePort()} }\n`,
    );
    const r = await runCli(['run', '--config', config], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `open-scan journal database ${journal} is at schema version 7, but this release knows versions up to 2: a newer release has migrated it`,
    );
    const after = new Database(journal);
    expect(after.prepare('SELECT version FROM schema_versions').get()).toEqual({ version: 7 });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE name = 'open_scans'").get()).toBeUndefined();
    after.close();
  }, 40_000);
});
