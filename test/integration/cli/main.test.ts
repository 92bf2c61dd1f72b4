import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../../helpers/cli.js';

const ENV = {
  MQTT_USERNAME: 'lane',
  MQTT_PASSWORD: 'pw',
  OPCUA_USERNAME: 'op',
  OPCUA_PASSWORD: 'pw',
  CAM_USER: 'c',
  CAM_PASSWORD: 'p',
};

describe('checkpoint-edge CLI', () => {
  it('prints --version and --help for the program and each command', async () => {
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    for (const c of ['run', 'demo', 'analyze', 'validate-config', 'sim', 'central'])
      expect(h.stdout).toContain(`  ${c}`);
    for (const c of ['run', 'demo', 'validate-config', 'analyze', 'central', 'sim']) {
      const r = await runCli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(/Usage: checkpoint-edge /);
    }
  });

  it('rejects an unknown command or option with exit code 2', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const r = await runCli(['run', '--confg', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--confg'");
  });

  it('validate-config accepts the examples and rejects a broken file with one line per problem', async () => {
    const ok = await runCli(['validate-config', 'config/examples/demo.yaml', 'config/examples/site-template.yaml'], {
      env: ENV,
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'site: { id: s }\nlanes:\n  - id: l1\n    scanner:\n      transport: { type: tcp, port: abc }\n    colour: red\n',
    );
    const r = await runCli(['validate-config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').sort()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: lanes\\[0\\]\\.colour \\(line 6\\): unknown key "colour" \\(known here: id, `,
        ),
      ),
      `${bad}: lanes[0].scanner.transport.port (line 5): expected an integer 1-65535, got "abc"`,
    ]);
  });

  it('run exits 2 naming every problem of an invalid config, and never prints a secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'site: { id: s }\nmqtt: { url: "mqtt://x", password: "${PW}", keepaliveS: 1 }\nlanes: []\n');
    const r = await runCli(['run', '--config', f], { env: { PW: 'hunter2' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lanes (line 3): expected at least one lane');
    expect(r.stderr).toContain('mqtt.keepaliveS (line 2): expected an integer 5-3600, got 1');
    expect(r.stderr).not.toContain('hunter2');
  });

  it('demo starts, says where to look, and stops cleanly on SIGINT', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'demo-'));
    const demo = await startCli(
      [
        'demo',
        '--port',
        '0',
        '--mqtt-port',
        '0',
        '--central-port',
        '0',
        '--gap-ms',
        '500',
        '--data-dir',
        dataDir,
        '--log-level',
        'warn',
      ],
      /running/,
      { timeoutMs: 120_000 },
    );
    const out = demo.out();
    // Central command, in its own process, with the log-in it prints.
    const centralUrl = /^central: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out)?.[1];
    expect(centralUrl, out).toBeDefined();
    const [, user, password] = /^central log-in: (\S+) \/ (\S+)$/m.exec(out)!;
    const login = await fetch(`${centralUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: user, password }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    await expect
      .poll(
        async () =>
          (
            (await (await fetch(`${centralUrl}/api/lanes`, { headers: { cookie } })).json()) as {
              lanes: { laneId: string; availability: string }[];
            }
          ).lanes.map((l) => `${l.laneId} ${l.availability}`),
        { timeout: 15_000 },
      )
      .toEqual(['lane-1 online']);
    // Central was listening before the first vehicle: the 3rd vehicle's watchlist hit, which the
    // demo announces, is in its alert queue.
    await expect
      .poll(() => demo.out().match(/^scan \S+/gm)?.length ?? 0, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(3);
    const third = demo
      .out()
      .match(/^scan (\S+)/gm)![2]!
      .slice('scan '.length);
    await expect
      .poll(
        async () =>
          (
            (await (await fetch(`${centralUrl}/api/alerts`, { headers: { cookie } })).json()) as {
              alerts: { scanId: string | null; kind: string }[];
            }
          ).alerts.some((a) => a.scanId === third && a.kind === 'watchlist'),
        { timeout: 15_000 },
      )
      .toBe(true);
    expect(out).toMatch(/^console: http:\/\/127\.0\.0\.1:\d+/m);
    expect(out).toMatch(/^mqtt: mqtt:\/\/127\.0\.0\.1:\d+$/m);
    expect(out).toMatch(/^topics: checkpoint\/demo-site\/lane-1\//m);
    const health = /^health: (\S+)$/m.exec(out)?.[1];
    const res = await fetch(health!);
    const body = (await res.json()) as { lanes: { laneId: string }[] };
    expect(body.lanes[0].laneId).toBe('lane-1');
    const metrics = await (await fetch(/^metrics: (\S+)$/m.exec(out)![1])).text();
    expect(metrics).toContain('checkpoint_edge_device_up');
    demo.child.kill('SIGINT');
    const r = await demo.exited;
    expect(r.code).toBe(0);
  }, 150_000);
});
