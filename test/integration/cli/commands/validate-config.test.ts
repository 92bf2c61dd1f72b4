import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../helpers/cli.js';
import { makeTestPki } from '../../../helpers/pki.js';

// `validate-config --check` against real files: openssl-made certificates, a missing serial
// device, a model folder without its files, an empty secret file.
let dir: string;
const f = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'site-check-'));
  makeTestPki(dir, { caName: 'site-ca', clients: ['lane', 'other'], server: false });
  writeFileSync(f('empty-secret'), '');
  writeFileSync(f('secret'), 'lane-1-password\n');
  mkdirSync(f('drop'));
  mkdirSync(f('empty-model'));
  // The shipped model without its held-out point, as a model trained before one existed.
  mkdirSync(f('no-held-out'));
  const manifest = JSON.parse(readFileSync('models/person-fcn/manifest.json', 'utf8'));
  delete manifest.operatingPoint.heldOut;
  delete manifest.operatingPoint.laneDefault;
  writeFileSync(f('no-held-out/manifest.json'), JSON.stringify(manifest));
  copyFileSync('models/person-fcn/model.onnx', f('no-held-out/model.onnx'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function site(o: { ca: string; cert: string; key: string; serial: string; model: string; alert?: string }): string {
  const file = f(`site-${Math.random().toString(16).slice(2, 8)}.yaml`);
  writeFileSync(
    file,
    [
      'site: { id: s }',
      `dataDir: ${f('data')}`,
      'mqtt:',
      '  url: mqtts://broker.example:8883',
      '  username: lane-1',
      '  password: ${MQTT_PASSWORD}',
      `  tls: { ca: ${o.ca}, cert: ${o.cert}, key: ${o.key} }`,
      'lanes:',
      '  - id: lane-1',
      `    scanner: { transport: { type: serial, path: ${o.serial} }, fileDrop: { dir: ${f('drop')} } }`,
      `    model: { path: ${o.model} }`,
      ...(o.alert ? [`    thresholds: { alert: ${o.alert} }`] : []),
    ].join('\n'),
  );
  return file;
}

describe('validate-config --check', () => {
  it('refuses an empty secret before any check, naming the variable and its line', async () => {
    const file = site({
      ca: f('lane.pem'),
      cert: f('lane.pem'),
      key: f('other.key'),
      serial: '/dev/null',
      model: f('empty-model'),
    });
    const r = await runCli(['validate-config', '--check', file], { env: { MQTT_PASSWORD_FILE: f('empty-secret') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('mqtt.password (line 6): MQTT_PASSWORD is set but empty');
  });

  it('says which named file, device, certificate or secret fails and why, and exits 2', async () => {
    const file = site({
      ca: f('lane.pem'),
      cert: f('lane.pem'),
      key: f('other.key'),
      serial: '/dev/ttyUSB-none',
      model: f('empty-model'),
    });
    const r = await runCli(['validate-config', '--check', file], { env: { MQTT_PASSWORD_FILE: f('secret') } });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${file}: valid`); // the schema is fine: only the check finds these
    const fails = r.stderr.trim().split('\n');
    expect(fails).toEqual(
      expect.arrayContaining([
        `${file}: FAIL mqtt.tls.ca ${f('lane.pem')}: holds no CA certificate (basicConstraints CA:TRUE): is this the server's own certificate instead of its CA?`,
        `${file}: FAIL mqtt.tls.key ${f('other.key')}: does not belong to the certificate in mqtt.tls.cert (${f('lane.pem')})`,
        `${file}: FAIL lanes[0].scanner.transport.path /dev/ttyUSB-none: does not exist: is the scanner plugged in? (ls /dev/serial/by-id/)`,
        expect.stringMatching(
          new RegExp(
            `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: FAIL lanes\\[0\\]\\.model\\.path .*: model manifest .*manifest\\.json cannot be read \\(ENOENT\\)`,
          ),
        ),
      ]),
    );
    expect(fails).toHaveLength(4);
    expect(r.stdout).toMatch(/: 1\d checked, 4 failed\n/);
    expect(r.stderr + r.stdout).not.toContain('lane-1-password');
  });

  it('passes a config whose files are all right, and names a missing CA file', async () => {
    const good = site({
      ca: f('ca.pem'),
      cert: f('lane.pem'),
      key: f('lane.key'),
      serial: '/dev/null',
      model: 'models/person-fcn',
    });
    const ok = await runCli(['validate-config', '--check', good], { env: { MQTT_PASSWORD: 'lane-1-password' } });
    expect(ok.stdout).toContain('ok   mqtt.tls.ca');
    expect(ok.stdout).toContain('ok   mqtt.tls.key');
    expect(ok.stdout).toContain('matches mqtt.tls.cert');
    expect(ok.stdout).toMatch(/ok {3}lanes\[0\]\.model\.path .*person-fcn .*checksum verified$/m);
    // A lane asking for the held-out point of a model that names none is told what it gets instead.
    const heldOut = site({
      ca: f('ca.pem'),
      cert: f('lane.pem'),
      key: f('lane.key'),
      serial: '/dev/null',
      model: f('no-held-out'),
      alert: 'held-out',
    });
    const h = await runCli(['validate-config', '--check', heldOut], { env: { MQTT_PASSWORD: 'x' } });
    expect(h.stdout).toMatch(
      /ok {3}lanes\[0\]\.model\.path .*checksum verified; lanes\[\]\.thresholds\.alert is held-out, but model person-fcn \S+ names no held-out operating point \(operatingPoint\.heldOut in its manifest\.json\): the operating point of model person-fcn \S+ instead$/m,
    );
    expect(ok.stdout).toContain('ok   lanes[0].scanner.transport.path /dev/null: serial device');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const missing = site({
      ca: f('no-such-ca.pem'),
      cert: f('lane.pem'),
      key: f('lane.key'),
      serial: '/dev/null',
      model: 'models/person-fcn',
    });
    const r = await runCli(['validate-config', '--check', missing], { env: { MQTT_PASSWORD: 'x' } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`${missing}: FAIL mqtt.tls.ca ${f('no-such-ca.pem')}: cannot be read (ENOENT)`);
  });

  it('without --check, a wrong serial path and a missing CA are not looked at (the schema is valid)', async () => {
    const file = site({
      ca: f('no-such-ca.pem'),
      cert: f('lane.pem'),
      key: f('lane.key'),
      serial: '/dev/ttyUSB-none',
      model: f('empty-model'),
    });
    const r = await runCli(['validate-config', file], { env: { MQTT_PASSWORD: 'x' } });
    expect(r.code).toBe(0);
  });
});
