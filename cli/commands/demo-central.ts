import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

// The command itself, started again as `central serve` in a child process (a path, not an import).
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin', 'checkpoint-edge.js');

export interface DemoCentral {
  url: string;
  user: string;
  password: string;
  stop(): Promise<void>;
}

/**
 * The demo's central command centre: `checkpoint-edge central serve` in its own process (PGlite
 * costs seconds and hundreds of MiB to open, which must not weigh on the lane), with the embedded
 * store under the demo's data folder, reading the demo broker. Its first admin's password is
 * made once and kept beside the database, since the account is created only with the database.
 */
export async function startDemoCentral(o: {
  dataDir: string;
  mqttUrl: string;
  port: number;
  timeoutMs?: number;
  onLog: (line: string) => void;
}): Promise<DemoCentral> {
  const dir = resolve(o.dataDir, 'central');
  mkdirSync(dir, { recursive: true });
  const pwFile = join(dir, 'admin-password');
  if (!existsSync(pwFile)) writeFileSync(pwFile, `${randomBytes(9).toString('base64url')}\n`, { mode: 0o600 });
  const password = readFileSync(pwFile, 'utf8').trim();
  const configFile = join(dir, 'central.yaml');
  writeFileSync(
    configFile,
    stringify({
      dataDir: dir,
      http: { host: '127.0.0.1', port: o.port },
      store: { kind: 'pglite', dir: join(dir, 'db') },
      ingest: { kind: 'mqtt', url: o.mqttUrl, protocolVersion: 4, clientId: 'checkpoint-central-demo' },
      accounts: { bootstrapAdmin: { name: 'admin', password: '${CENTRAL_ADMIN_PASSWORD}' } },
      log: { level: 'info', format: 'json' },
    }),
  );
  const child: ChildProcess = spawn(process.execPath, [CLI, 'central', 'serve', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CENTRAL_ADMIN_PASSWORD: password },
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error(`central did not start within ${(o.timeoutMs ?? 90_000) / 1000} s`)),
      o.timeoutMs ?? 90_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const rec = JSON.parse(line) as { level: number; msg: string; url?: string };
          if (rec.url && rec.msg.startsWith('central command centre at')) {
            clearTimeout(timer);
            resolveUrl(rec.url);
          } else if (rec.level >= 40) o.onLog(`central: ${rec.msg}`);
        } catch {
          o.onLog(`central: ${line}`);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => o.onLog(`central: ${d.toString().trimEnd()}`));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`central exited at start with code ${code}`));
    });
  }).catch(async (err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    url,
    user: 'admin',
    password,
    async stop() {
      if (child.exitCode !== null) return;
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(t);
    },
  };
}
