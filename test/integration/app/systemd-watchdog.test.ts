import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/cli.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

/** A notification socket that records every datagram with the time it arrived. */
async function startListener(path: string): Promise<{ child: ChildProcess; messages: [number, string][] }> {
  const child = spawn('python3', [join(FIXTURES, 'notify-listener.py'), path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages: [number, string][] = [];
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the notify listener exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as [number, string];
      if (m[1] === 'LISTENING') resolve();
      else messages.push(m);
    });
  });
  return { child, messages };
}

describe('systemd watchdog (systemd-notify to a NOTIFY_SOCKET)', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('sends READY=1, then WATCHDOG=1 from the event loop, and no ping while the loop is blocked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'notify-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const socketPath = join(dir, 'notify.sock');
    const listener = await startListener(socketPath);
    cleanup.push(() => listener.child.kill('SIGKILL'));

    const child = spawn(process.execPath, [join(ROOT, 'bin', 'run-ts.js'), join(FIXTURES, 'watchdog-child.ts')], {
      env: {
        ...process.env,
        NOTIFY_SOCKET: socketPath,
        WATCHDOG_USEC: '200000', // a ping every 100 ms
        BEFORE_MS: '2000',
        BLOCK_MS: '4000',
        AFTER_MS: '2000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 300)); // the last datagrams reach the listener

    const blockStart = Number(/block-start (\d+)/.exec(stdout)?.[1]);
    const blockEnd = Number(/block-end (\d+)/.exec(stdout)?.[1]);
    expect(blockEnd - blockStart).toBeGreaterThanOrEqual(4000);
    const msgs = listener.messages;
    expect(msgs[0]?.[1]).toMatch(/^READY=1\nSTATUS=watchdog test/);
    const pings = msgs.filter(([, text]) => text === 'WATCHDOG=1').map(([at]) => at);
    const before = pings.filter((t) => t < blockStart);
    // A systemd-notify started just before the loop blocked may still deliver its ping: 1.5 s of grace.
    const during = pings.filter((t) => t > blockStart + 1500 && t < blockEnd);
    const after = pings.filter((t) => t > blockEnd);
    expect(before.length, `pings before the block: ${before.length}`).toBeGreaterThanOrEqual(5);
    expect(during, 'pings while the event loop was blocked').toEqual([]);
    expect(after.length, `pings after the block: ${after.length}`).toBeGreaterThanOrEqual(3);
  }, 30_000);
});
