import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, startCli } from '../../../helpers/cli.js';
import { MosquittoBroker, skipWithoutMosquitto } from '../../outputs/mqtt/helpers.js';

/**
 * `checkpoint-edge doctor` against real peers: the scanner simulator on TCP (line protocol),
 * the OPC UA simulator, the camera simulator (MJPEG and snapshots through ffmpeg), mosquitto
 * with the documented per-lane ACL and password_file (docs/examples/mosquitto), the shipped
 * model. One site where everything passes, one where every check that can fail does.
 */

const LANE_1 = 's1-lane-1';
const LANE_2 = 's1-lane-2';
const ACL = (lane: string, id: string) => `user ${id}
topic write checkpoint/s1/${lane}/availability
topic write checkpoint/s1/${lane}/status
topic write checkpoint/s1/${lane}/scan
topic write checkpoint/s1/${lane}/alert
topic write checkpoint/s1/${lane}/event
topic write checkpoint/s1/${lane}/cmd/+/response
topic read checkpoint/s1/${lane}/cmd/+
`;

describe.skipIf(skipWithoutMosquitto)('checkpoint-edge doctor with real peers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
  const f = (name: string) => join(dir, name);
  const children: ChildProcess[] = [];
  let broker: MosquittoBroker;
  let scannerPort = 0;
  let opcuaEndpoint = '';
  let cameras = '';

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'docs/examples/mosquitto/make-passwords.sh'), dir, LANE_1, LANE_2], {
      stdio: 'pipe',
    });
    writeFileSync(f('acl'), `${ACL('lane-1', LANE_1)}\n${ACL('lane-2', LANE_2)}`);
    broker = new MosquittoBroker({
      listenerExtra: `allow_anonymous false\npassword_file ${f('password_file')}\nacl_file ${f('acl')}`,
    });
    const [scanner, opcua, camera] = await Promise.all([
      startCli(['sim', 'scanner', '--tcp', '0', '--gap-ms', '600000'], /tcp:\/\/127\.0\.0\.1:(\d+)/),
      startCli(['sim', 'opcua', '--port', '0'], /opcua simulator: (opc\.tcp:\/\/\S+)/),
      startCli(['sim', 'camera', '--port', '0', '--cameras', 'front:front,plate:plate'], /camera simulator: (\S+)\//),
      broker.start(),
    ]);
    children.push(scanner.child, opcua.child, camera.child);
    scannerPort = Number(/tcp:\/\/127\.0\.0\.1:(\d+)/.exec(scanner.out())![1]);
    opcuaEndpoint = /opcua simulator: (opc\.tcp:\/\/\S+)/.exec(opcua.out())![1]!;
    cameras = /camera simulator: (\S+)\//.exec(camera.out())![1]!;
  }, 60_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A site config and its secrets file, as `install` lays them out (environment beside site.yaml). */
  function site(name: string, o: { scannerPort: number; security?: string; camera?: string; alert?: number }) {
    const folder = f(name);
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, 'site.yaml'),
      `site: { id: s1 }
dataDir: ${join(folder, 'data')}
# A cap that any test machine's disk holds: the disk check is not what these tests are about.
evidence: { maxMb: 256 }
console: { enabled: false }
mqtt:
  url: ${broker.url}
  protocolVersion: 5
  username: \${MQTT_USERNAME}
  password: \${MQTT_PASSWORD}
lanes:
  - id: lane-1
    scanner:
      transport: { type: tcp, host: 127.0.0.1, port: ${o.scannerPort} }
      opcua:
        endpoint: ${opcuaEndpoint}
        ${o.security ?? 'securityMode: None'}
    cameras:
      - { id: front, role: front, kind: mjpeg, url: "${cameras}/front/mjpeg" }
      - { id: plate, role: plate, kind: snapshot, url: "${o.camera ?? `${cameras}/plate/snapshot.jpg`}" }
    model:
      path: models/person-fcn
${o.alert === undefined ? '' : `    thresholds: { alert: ${o.alert} }\n`}`,
    );
    return folder;
  }

  it('passes a site whose devices, broker account and model all work: exit 0', async () => {
    const folder = site('good', { scannerPort });
    writeFileSync(
      join(folder, 'environment'),
      `MQTT_USERNAME=${LANE_1}\nMQTT_PASSWORD=${readFileSync(f(`secrets/${LANE_1}`), 'utf8')}\n`,
      { mode: 0o600 },
    );
    const r = await runCli(
      [
        'doctor',
        '--config',
        join(folder, 'site.yaml'),
        '--unit',
        join(ROOT, 'deploy/checkpoint-edge.service'),
        '--allow-warnings',
      ],
      { timeoutMs: 150_000 },
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const line = (re: RegExp) => r.stdout.split('\n').find((l) => re.test(l)) ?? `(no line for ${re})`;
    expect(line(/ config \//)).toMatch(/^ok {3}config .*: valid: site s1, 1 lane\(s\): lane-1$/);
    expect(line(/ secrets file /)).toMatch(/^ok {3}secrets file .*: mode 0600$/);
    expect(line(/ secret MQTT_PASSWORD:/)).toMatch(/^ok {3}secret MQTT_PASSWORD: set \(32 characters\)$/);
    expect(line(/ watchdog /)).toMatch(/^ok {3}watchdog .*: Type=notify, watchdog 30s, NotifyAccess=all/);
    expect(line(/ scanner /)).toMatch(
      new RegExp(
        `^ok {3}scanner lane-1 tcp 127\\.0\\.0\\.1:${scannerPort}: hello from .* heartbeat every 1000 ms received$`,
      ),
    );
    expect(line(/ opcua /)).toMatch(/^warn opcua .*: session open without security \(securityMode None\)/);
    expect(line(/ camera lane-1 front/)).toMatch(/^ok {3}camera lane-1 front: one mjpeg frame received/);
    expect(line(/ camera lane-1 plate/)).toMatch(/^ok {3}camera lane-1 plate: one snapshot frame received/);
    expect(line(/ mqtt broker /)).toMatch(
      /^ok {3}mqtt broker lane-1 .* as s1-lane-1: connected, subscribed to checkpoint\/s1\/lane-1\/cmd\/\+, published to checkpoint\/s1\/lane-1\/cmd\/doctor\/response \(PUBACK success\)$/,
    );
    expect(line(/ model /)).toMatch(
      /^ok {3}model lane-1 .*person-fcn .* loaded; self-test .*with people.*without people/,
    );
    expect(r.stdout).not.toMatch(/^FAIL/m);
  }, 160_000);

  it('fails each check that finds a fault, says what to do, and exits 1', async () => {
    // Lane 2's account for lane 1, a port that is not a line stream (the camera simulator's HTTP),
    // a signed OPC UA channel to a server whose certificate nobody trusted, a camera path that is
    // not there, a threshold that makes the model alarm on everything, a readable secrets file
    // and a unit without its watchdog.
    const folder = site('bad', {
      scannerPort: Number(new URL(cameras).port),
      security: 'securityMode: SignAndEncrypt\n        securityPolicy: Basic256Sha256',
      camera: `${cameras}/nowhere/snapshot.jpg`,
      alert: 0,
    });
    writeFileSync(
      join(folder, 'environment'),
      `MQTT_USERNAME=${LANE_2}\nMQTT_PASSWORD=${readFileSync(f(`secrets/${LANE_2}`), 'utf8')}\n`,
    );
    chmodSync(join(folder, 'environment'), 0o644);
    const unit = join(folder, 'checkpoint-edge.service');
    writeFileSync(
      unit,
      readFileSync(join(ROOT, 'deploy/checkpoint-edge.service'), 'utf8').replace(/^WatchdogSec=.*\n/m, ''),
    );
    const r = await runCli(['doctor', '--config', join(folder, 'site.yaml'), '--unit', unit], {
      timeoutMs: 150_000,
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    const line = (re: RegExp) => r.stdout.split('\n').find((l) => re.test(l)) ?? `(no line for ${re})`;
    expect(line(/ secrets file /)).toMatch(
      /^FAIL secrets file .*: mode 0644: others can read the secrets → chmod 0600/,
    );
    expect(line(/ watchdog /)).toMatch(/^FAIL watchdog .*: no WatchdogSec → /);
    expect(line(/ scanner /)).toMatch(/^FAIL scanner lane-1 tcp .*: connected, but no byte within 5000 ms → /);
    expect(line(/ opcua /)).toMatch(/^FAIL opcua .*certificate of the server .* is not trusted/);
    expect(line(/ camera lane-1 front/)).toMatch(/^ok {3}camera lane-1 front/);
    expect(line(/ camera lane-1 plate/)).toMatch(/^FAIL camera lane-1 plate: no frame .* → is the camera on/);
    // mosquitto's acl_file checks read rights per delivered message, not at SUBSCRIBE: the publish shows it.
    expect(line(/ mqtt broker /)).toMatch(
      /^FAIL mqtt broker lane-1 .* as s1-lane-2: connected, but the broker refuses the lane's publish to checkpoint\/s1\/lane-1\/cmd\/doctor\/response \(.*Not authorized\) → let the lane's account write/,
    );
    expect(line(/ model /)).toMatch(/^FAIL model lane-1 .*alarms on the self-test synthetic vehicle without people/);
    expect(r.stdout).toMatch(/\d+ checks: \d+ ok, \d+ warning\(s\), 7 failed\n$/);
  }, 160_000);
});
