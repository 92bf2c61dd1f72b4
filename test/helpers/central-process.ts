import { spawn, type ChildProcess } from 'node:child_process';

/**
 * One central command process (test/integration/central/central-worker.ts) started by a test
 * that kills it or runs several on one database. `ready()` waits for its `ready <url>` line.
 */
export class CentralProcess {
  readonly child: ChildProcess;
  out = '';
  err = '';
  url = '';

  constructor(configFile: string, name: string) {
    this.child = spawn(
      process.execPath,
      ['bin/run-ts.js', 'test/integration/central/central-worker.ts', configFile, name],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.err = (this.err + d.toString()).slice(-20_000);
    });
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      const m = /ready (\S+)/.exec(this.out);
      if (m) {
        this.url = m[1]!;
        return;
      }
      if (this.child.exitCode !== null)
        throw new Error(
          `central process exited with ${this.child.exitCode} before it was ready: ${this.err.slice(-1500)}`,
        );
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`central process not ready within ${timeoutMs / 1000} s: ${this.err.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((r) => {
      this.child.once('exit', () => r());
      this.child.kill(signal);
    });
  }

  /** POST /api/login; the session cookie, or the refusal's status. */
  async login(name: string, password: string): Promise<{ status: number; cookie: string | null }> {
    const res = await fetch(`${this.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    await res.arrayBuffer();
    return { status: res.status, cookie: res.headers.get('set-cookie')?.split(';')[0] ?? null };
  }
}
