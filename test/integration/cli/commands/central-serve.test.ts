import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../helpers/cli.js';

/** A loopback port that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What a start failure never prints, on stdout or stderr: the test's secret, or a stack trace. */
function expectNoSecretNoStack(r: { stdout: string; stderr: string }): void {
  const out = r.stdout + r.stderr;
  expect(out).not.toContain('not-to-be-shown');
  expect(out.split('\n').filter((l) => /^\s+at /.test(l))).toEqual([]);
}

describe('checkpoint-edge central serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'central-serve-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a store it cannot reach at start: one line naming it, no stack trace, no password, exit 1', async () => {
    const [pg, broker, http] = [await closedPort(), await closedPort(), await closedPort()];
    const file = join(dir, 'central.yaml');
    writeFileSync(
      file,
      `dataDir: ${join(dir, 'data')}
http: { host: 127.0.0.1, port: ${http} }
store: { kind: postgres, url: "postgres://central:\${PGPASSWORD}@127.0.0.1:${pg}/central" }
ingest: { kind: mqtt, url: "mqtt://127.0.0.1:${broker}" }
`,
    );
    const r = await runCli(['central', 'serve', '--config', file], {
      env: { PGPASSWORD: 'not-to-be-shown' },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`central serve: could not start: PostgreSQL at postgres://***@127.0.0.1:${pg}/central`);
    expect(r.stderr).toContain('check store.url');
    expectNoSecretNoStack(r);
  }, 90_000);

  it('a broker it cannot reach at start: one line naming it after the 10 s wait, no password, exit 1', async () => {
    const [broker, http] = [await closedPort(), await closedPort()];
    const file = join(dir, 'central-broker.yaml');
    // The embedded store (PGlite) starts; the broker is the peer that is not there.
    writeFileSync(
      file,
      `dataDir: ${join(dir, 'data-broker')}
http: { host: 127.0.0.1, port: ${http} }
ingest: { kind: mqtt, url: "mqtt://central:\${MQTT_PASSWORD}@127.0.0.1:${broker}" }
`,
    );
    const started = Date.now();
    const r = await runCli(['central', 'serve', '--config', file], {
      env: { MQTT_PASSWORD: 'not-to-be-shown' },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    // The command link meets the broker first; it names the key, as the ingest would.
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('central serve: could not start: ');
    expect(r.stderr).toContain(
      `central command link: MQTT broker mqtt://***@127.0.0.1:${broker} not reached within 10 s; check ingest.url`,
    );
    expectNoSecretNoStack(r);
  }, 90_000);
});
