import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readEnvironmentFile, runDoctor } from '../../app/doctor/site-doctor.js';
import { doctorLine } from '../../app/doctor/doctor-check.js';
import type { SelfTestScan } from '../../app/doctor/model-check.js';
import type { ScanMeta } from '../../core/domain.js';
import { createLogger } from '../../core/logger.js';
import { EXIT, parseCommandArgs, UsageError, type CliCommand } from '../../core/command-line.js';
import { scanLines, synthesizeScan } from '../../sim/xray/index.js';

/**
 * The model's self-test scans: held-out synthetic scans (outside the training seeds) that the
 * shipped model person-fcn 1.2.0 gets right at its operating point, the same two as
 * test/integration/inference/shipped-model.test.ts: a car with two people in the boot, and a
 * box truck without people.
 */
const SELF_TEST = [
  { seed: 2_000_010, expectPerson: true, name: 'synthetic vehicle with people' },
  { seed: 2_000_019, expectPerson: false, name: 'synthetic vehicle without people' },
];

function selfTestScans(): SelfTestScan[] {
  return SELF_TEST.map(({ seed, expectPerson, name }) => {
    const image = synthesizeScan({ seed, dual: true });
    const meta: ScanMeta = {
      scanId: `doctor-self-test-${seed}`,
      laneId: 'doctor',
      startedAt: new Date().toISOString(),
      channels: image.height,
      energies: 2,
      pixelMm: image.pixelMm,
      source: 'stream',
    };
    const batches = [];
    for (let x = 0; x < image.width; x += 32)
      batches.push(scanLines(image, meta.scanId, x, Math.min(32, image.width - x)));
    return {
      name: `${name} (seed ${seed})`,
      expectPerson,
      batches,
      scan: { meta, endedAt: new Date().toISOString(), image },
    };
  });
}

const cmd: CliCommand = {
  name: 'doctor',
  summary: 'check a site before go-live',
  usage: `Usage: checkpoint-edge doctor --config <site.yaml> [options]

Checks the box and every lane of the config as the service would meet them, and prints one line
per check: "ok", "warn" (it cannot tell, or a weaker setting) or "FAIL", what it found, and after
"→" what to do. The checks: the config is valid and the files it names can be used; every
${'$'}{NAME} it names is set (only numbers, true/false and words are shown), and secret files are
not readable by others; the clock is synchronised; the disk holds the evidence the retention
keeps; the service unit has the watchdog; then per lane: the serial port is there and permitted,
the scanner answers with its hello (and heartbeats) on its line stream, its OPC UA server opens
a session with certificates trusted both ways, each camera delivers a frame (ffmpeg), the broker
takes the lane's credentials and its ACL lets it subscribe to its commands and publish, and the
model loads and passes a self-test (a synthetic scan with people alarms, one without does not).

Run it as the service user, with the service stopped (the scanner's link takes one host):
  sudo systemctl stop checkpoint-edge
  sudo -u checkpoint-edge /opt/checkpoint-edge/current/bin/checkpoint-edge doctor --config /etc/checkpoint-edge/site.yaml

Options:
  --config <file>     the site's config file
  --env-file <file>   the service's secrets (NAME=value lines) to read ${'$'}{NAME} from
                      (default: "environment" beside the config, when there is one)
  --unit <file>       the service unit, read when systemd cannot be asked
                      (default /etc/systemd/system/checkpoint-edge.service)
  --allow-warnings    exit 0 when checks only warn (a check that could not tell, or a weaker
                      setting such as OPC UA without security); by default a warning fails
  --help              show this help

Exit codes: 0 every check passed (and warnings with --allow-warnings), 1 a check failed or warned, 2 bad usage.`,
  async run(argv) {
    const args = parseCommandArgs(cmd, argv, {
      config: { type: 'string', short: 'c' },
      'env-file': { type: 'string' },
      unit: { type: 'string' },
      'allow-warnings': { type: 'boolean' },
    });
    if (!args) return EXIT.ok;
    const v = args.values;
    if (!v.config) throw new UsageError(`doctor: --config <file> is required\n\n${cmd.usage}`);
    const configFile = resolve(v.config);
    if (!existsSync(configFile)) throw new UsageError(`doctor: ${configFile} does not exist`);
    const besideConfig = join(dirname(configFile), 'environment');
    const envFile = v['env-file'] ? resolve(v['env-file']) : existsSync(besideConfig) ? besideConfig : null;
    if (envFile && !existsSync(envFile)) throw new UsageError(`doctor: --env-file ${envFile} does not exist`);
    // The service's environment: the secrets file as systemd hands it over, this shell's variables first.
    const env = { ...(envFile ? readEnvironmentFile(envFile) : {}), ...process.env };
    const log = createLogger({ level: 'fatal', stderr: true });
    const results = await runDoctor({
      configFile,
      env,
      envFile,
      unitFile: resolve(v.unit ?? '/etc/systemd/system/checkpoint-edge.service'),
      selfTestScans,
      log,
      onResult: (r) => process.stdout.write(`${doctorLine(r)}\n`),
    });
    const failed = results.filter((r) => r.status === 'FAIL').length;
    const warned = results.filter((r) => r.status === 'warn').length;
    process.stdout.write(
      `${results.length} checks: ${results.length - failed - warned} ok, ${warned} warning(s), ${failed} failed\n`,
    );
    return doctorPassed(results, v['allow-warnings'] === true) ? EXIT.ok : EXIT.failure;
  },
};
export default cmd;

/** Go-live needs every check to pass: a warning fails too unless warnings are allowed. */
export function doctorPassed(results: readonly { status: string }[], allowWarnings: boolean): boolean {
  return results.every((r) => r.status === 'ok' || (allowWarnings && r.status === 'warn'));
}
