import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../config/load.js';
import {
  checkDisk,
  checkSecrets,
  checkSerialDevice,
  configEnvReferences,
  literalUrlPasswords,
  readConfigText,
} from '../../../../app/doctor/host-checks.js';
import { doctorLine } from '../../../../app/doctor/doctor-check.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'doctor-host-'));
  dirs.push(d);
  return d;
};

describe('doctor: disk against the evidence retention', () => {
  const config = (dataDir: string, maxMb: number) =>
    validateConfig({
      site: { id: 's' },
      dataDir,
      evidence: { maxMb, retentionDays: 30 },
      lanes: [{ id: 'l', scanner: { transport: { type: 'tcp', port: 4001 } } }],
    });
  const statfs = (freeBytes: number) => () => ({ bavail: freeBytes / 4096, bsize: 4096 }) as never;

  it('passes when the disk holds the evidence cap and 2 GiB of headroom', () => {
    const r = checkDisk(config(temp(), 10_240), statfs(13 * 2 ** 30));
    expect(r.status).toBe('ok');
    expect(r.detail).toMatch(
      /^13\.0 GiB free .* evidence uses 0\.0 GiB of its cap 10\.0 GiB \(evidence\.maxMb, kept 30 days\)$/,
    );
  });

  it('fails when it does not, saying how much is missing, and counts evidence already stored', () => {
    const dir = temp();
    const r = checkDisk(config(dir, 10_240), statfs(11 * 2 ** 30));
    expect(doctorLine(r)).toMatch(
      /^FAIL disk .*: the cap needs 1\.0 GiB more \(with 2\.0 GiB headroom\) → lower evidence\.maxMb/,
    );
    // 1 GiB of evidence already stored (a sparse file) is part of the cap: then 11 GiB are enough.
    mkdirSync(join(dir, 'evidence', 'scan-1'), { recursive: true });
    writeFileSync(join(dir, 'evidence', 'scan-1', 'scan.jpg'), '');
    truncateSync(join(dir, 'evidence', 'scan-1', 'scan.jpg'), 2 ** 30);
    expect(checkDisk(config(dir, 10_240), statfs(11 * 2 ** 30)).status).toBe('ok');
  });
});

describe('doctor: secrets', () => {
  it('checks every ${NAME} of the config: set, empty, from a private or a readable file, missing', () => {
    const d = temp();
    const priv = join(d, 'priv');
    const open = join(d, 'open');
    writeFileSync(priv, 's3cret', { mode: 0o600 });
    writeFileSync(open, 's3cret', { mode: 0o644 });
    const env = { A: 'x', B: '', C_FILE: priv, D_FILE: open };
    const text = [
      'mqtt:',
      '  password: ${A}',
      '  username: ${B}',
      'lanes:',
      '  - cameras:',
      '      - password: ${C}',
      '    scanner: { opcua: { password: "${D}" } }',
      '# f: ${F} (a comment)',
      'x: ${E}',
    ].join('\n');
    const lines = checkSecrets(text, env, null).map(doctorLine);
    expect(lines).toEqual([
      'ok   secret A: set (1 characters)',
      'warn environment B: is set but empty; the service takes it as empty text → give B its value',
      `ok   secret C: C_FILE ${priv}, mode 0600`,
      `FAIL secret D: D_FILE ${open} has mode 0644: anyone on the box can read it → chmod o-rwx ${open}`,
      'FAIL environment E: the config names ${E}, and neither E nor E_FILE is set → add E=… to the service environment (/etc/checkpoint-edge/environment)',
    ]);
  });

  it("shows a setting's value and only the length of anything else", () => {
    const text = [
      'mqtt:',
      '  url: mqtt://edge:${MQTT_PASSWORD}@broker:1883',
      'lanes:',
      '  - id: lane-1',
      '    thresholds: { alert: "${LANE_ALERT}" }',
      '    anpr: { token: "${ANPR_TOKEN}" }',
      '    cameras: [{ id: c, url: "${CAMERA_URL}" }]',
    ].join('\n');
    const env = {
      MQTT_PASSWORD: 'pw',
      LANE_ALERT: ' 0.4',
      ANPR_TOKEN: 't'.repeat(24),
      CAMERA_URL: 'http://cam/snapshot.cgi?user=admin&pwd=hunter2',
    };
    expect(checkSecrets(text, env, null).map(doctorLine)).toEqual([
      'ok   secret MQTT_PASSWORD: set (2 characters)',
      'ok   environment LANE_ALERT: set: 0.4',
      'ok   secret ANPR_TOKEN: set (24 characters)',
      'ok   environment CAMERA_URL: set (46 characters)',
    ]);
    // An empty secret that is a secret key's whole value is refused by the service, so doctor fails it.
    expect(checkSecrets('mqtt: { password: "${PW}" }', { PW: ' ' }, null).map(doctorLine)).toEqual([
      'FAIL secret PW: is set but empty; the service refuses the config → give PW its value',
    ]);
    // The same name set both ways is refused by the service, so doctor fails it.
    expect(
      checkSecrets('mqtt: { password: "${PW}" }', { PW: 'x', PW_FILE: '/run/secrets/pw' }, null).map(doctorLine),
    ).toEqual(['FAIL secret PW: both PW and PW_FILE are set; the service refuses the config → set only one']);
    // A file that is not YAML: every reference is taken for a secret.
    expect([...configEnvReferences(readConfigText('a: [${X}\n'))]).toEqual([['X', 'secret']]);
  });
});

describe("doctor: a sensor's serial device", () => {
  it('passes a character device it may read and write, and says what to do about a missing or plain file', () => {
    expect(checkSerialDevice('lane-1 probe-1', '/dev/null')).toMatchObject({ status: 'ok' });
    expect(doctorLine(checkSerialDevice('lane-1 probe-1', '/dev/ttyUSB-none'))).toBe(
      'FAIL serial port lane-1 probe-1 /dev/ttyUSB-none: does not exist → is the RS-485 adapter plugged in? (ls /dev/serial/by-id/)',
    );
    const file = join(temp(), 'not-a-port');
    writeFileSync(file, '');
    expect(checkSerialDevice('l s', file)).toMatchObject({
      status: 'FAIL',
      detail: 'is not a character device (a serial port is)',
    });
  });
});

describe('doctor: passwords written into the config file', () => {
  it('warns of a URL whose password is written out, and not of one from ${NAME} or one without a password', () => {
    const text = [
      'mqtt: { url: "mqtt://edge:${MQTT_PASSWORD}@broker:1883" }',
      'lanes:',
      '  - cameras:',
      '      - { id: a, url: "rtsp://admin:hunter2@10.0.0.5/stream" }',
      '      - { id: b, url: "http://10.0.0.6/snapshot.jpg", username: admin, password: "${CAM_B}" }',
      '      - { id: c, url: "http://viewer@10.0.0.7/mjpeg" }',
      '      - { id: d, kind: rtsp, url: "rtsp://10.0.0.8/s", ffmpegArgs: "-i rtsp://op:plain@10.0.0.8/s" }',
      '      - { id: e, url: "http://op:pre${CAM_E}@10.0.0.9/mjpeg" }',
    ].join('\n');
    expect(literalUrlPasswords(readConfigText(text))).toEqual([
      'lanes[0].cameras[0].url',
      'lanes[0].cameras[3].ffmpegArgs',
      'lanes[0].cameras[4].url',
    ]);
    const lines = checkSecrets(text, { MQTT_PASSWORD: 'x', CAM_B: 'y', CAM_E: 'z' }, null).map(doctorLine);
    expect(lines.at(-3)).toBe(
      "warn secret lanes[0].cameras[0].url: a password is written into the config file in this URL → give it as ${NAME} from the service environment, or in the key's own password field",
    );
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual(
      ['lanes[0].cameras[0].url', 'lanes[0].cameras[3].ffmpegArgs', 'lanes[0].cameras[4].url'].map(
        (at) =>
          `warn secret ${at}: a password is written into the config file in this URL → give it as \${NAME} from the service environment, or in the key's own password field`,
      ),
    );
    expect(literalUrlPasswords(readConfigText('a: [unclosed'))).toEqual([]);
  });
});
