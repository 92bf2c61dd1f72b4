import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'checkpoint-edge.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `checkpoint-edge ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 20_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 20_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts the CLI and resolves once its stdout matches `ready`. */
export function startCli(
  args: string[],
  ready: RegExp,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ child: ChildProcess; out: () => string; err: () => string; exited: Promise<CliResult> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<CliResult>((res) =>
      child.on('exit', (code, signal) => res({ code, signal, stdout, stderr })),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `checkpoint-edge ${args.join(' ')} not ready in ${opts.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (ready.test(stdout)) {
        clearTimeout(timer);
        resolve({ child, out: () => stdout, err: () => stderr, exited });
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    void exited.then((r) => {
      clearTimeout(timer);
      reject(
        new Error(
          `checkpoint-edge ${args.join(' ')} exited (${r.code ?? r.signal}) before ready\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    });
  });
}

/**
 * Starts the CLI and keeps its output, stdout and stderr interleaved as printed (a watching
 * command that a test reads while it runs, types into, or stops).
 */
export function spawnCli(
  args: string[],
  opts: { stdin?: 'pipe' | 'ignore'; env?: NodeJS.ProcessEnv } = {},
): ChildProcess & { text: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: [opts.stdin ?? 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return Object.assign(child, { text: () => out });
}
