import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger.js';
import { RotatingLogFile } from '../../../core/rotating-log-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'logs-'));
  dirs.push(d);
  return d;
};
const end = (s: NodeJS.WritableStream) => new Promise<void>((r) => s.end(r));

describe('RotatingLogFile', () => {
  it('rotates before a file would pass maxBytes, keeps `keep` old files, never splits a line', async () => {
    const path = join(temp(), 'logs', 'edge.log');
    const f = new RotatingLogFile({ path, maxBytes: 100, keep: 2 });
    for (let i = 0; i < 20; i++) f.write(`line ${String(i).padStart(2, '0')} ${'x'.repeat(22)}\n`); // 31 bytes each
    await end(f);
    expect(readdirSync(join(path, '..')).sort()).toEqual(['edge.log', 'edge.log.1', 'edge.log.2']);
    const lines = (p: string) =>
      readFileSync(p, 'utf8')
        .trim()
        .split('\n')
        .map((l) => Number(l.slice(5, 7)));
    expect(lines(path)).toEqual([18, 19]);
    expect(lines(`${path}.1`)).toEqual([15, 16, 17]);
    expect(lines(`${path}.2`)).toEqual([12, 13, 14]);
    for (const p of [path, `${path}.1`, `${path}.2`]) expect(statSync(p).size).toBeLessThanOrEqual(100);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('with keep 0, starts the file afresh', async () => {
    const path = join(temp(), 'edge.log');
    const f = new RotatingLogFile({ path, maxBytes: 10, keep: 0 });
    f.write('12345678\n');
    f.write('abcdefgh\n');
    await end(f);
    expect(readFileSync(path, 'utf8')).toBe('abcdefgh\n');
    expect(existsSync(`${path}.1`)).toBe(false);
  });

  it('appends to the file a previous run left, counting its size', async () => {
    const path = join(temp(), 'edge.log');
    const a = new RotatingLogFile({ path, maxBytes: 20, keep: 1 });
    a.write('first run line 1\n');
    await end(a);
    const b = new RotatingLogFile({ path, maxBytes: 20, keep: 1 });
    b.write('second run\n');
    await end(b);
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('first run line 1\n');
    expect(readFileSync(path, 'utf8')).toBe('second run\n');
  });
});

describe('createLogger with log.file', () => {
  it('writes the same JSON lines to the terminal stream and the file, secrets redacted in both', async () => {
    const path = join(temp(), 'edge.log');
    const terminal = new PassThrough();
    let shown = '';
    terminal.on('data', (d) => (shown += d));
    const log = createLogger({ level: 'debug', destination: terminal, file: { path, maxMb: 1, keep: 1 } });
    log.debug({ password: 'hunter2' }, 'connecting to mqtt://lane:hunter2@broker:1883');
    await new Promise((r) => setTimeout(r, 50));
    const line = JSON.parse(readFileSync(path, 'utf8').trim()) as { level: number; msg: string; password: string };
    expect(line).toMatchObject({ level: 20, password: '[redacted]' });
    expect(line.msg).not.toContain('hunter2');
    expect(shown.trim()).toBe(readFileSync(path, 'utf8').trim());
  });
});
