import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A pseudo-terminal pair linked by socat: a null-modem cable between two paths; kill() unplugs it. */
export async function ptyPair(
  dir: string,
  names: [string, string] = ['a', 'b'],
): Promise<{ a: string; b: string; proc: ChildProcess; kill(): Promise<void> }> {
  const a = join(dir, names[0]);
  const b = join(dir, names[1]);
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const spawnError = new Promise<never>((_, reject) =>
    proc.once('error', (e) => reject(new Error(`socat could not be started (is it installed?): ${e.message}`))),
  );
  for (let i = 0; i < 100 && !(existsSync(a) && existsSync(b)); i++) await Promise.race([sleep(20), spawnError]);
  if (!existsSync(a) || !existsSync(b)) throw new Error(`socat made no pty pair in 2 s: ${stderr}`);
  return {
    a,
    b,
    proc,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await gone;
    },
  };
}
