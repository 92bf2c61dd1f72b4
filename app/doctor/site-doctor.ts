import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../core/logger.js';
import { checkSite } from '../site-check.js';
import { checkBroker } from './broker-check.js';
import { cameraUrl, grabFrame, probeOpcua, probeScanner } from './device-checks.js';
import { bounded, type DoctorResult, fail, ok } from './doctor-check.js';
import { checkClock, checkDisk, checkSecrets, checkSerialDevice, checkWatchdog } from './host-checks.js';
import { checkModel, type SelfTestScan } from './model-check.js';

/**
 * `checkpoint-edge doctor`: checks a site box before go-live, one result per check, in the
 * order of the lanes' data: the config and its files, secrets, clock, disk, watchdog, then for
 * every lane of the config its scanner, OPC UA server, cameras, broker account and model.
 */

export interface DoctorOptions {
  configFile: string;
  /** The environment the service gets: this process's, with the secrets file read in. */
  env: NodeJS.ProcessEnv;
  /** The service's secrets file (EnvironmentFile=), when there is one. */
  envFile: string | null;
  /** The installed unit, read when systemd cannot be asked. */
  unitFile: string;
  /** Scans with known answers for the model's self-test (made on demand: synthesis takes a moment). */
  selfTestScans: () => readonly SelfTestScan[];
  log: Logger;
  /** Each result as soon as it is known (for printing). */
  onResult?: (r: DoctorResult) => void;
  timeouts?: Partial<{ scannerMs: number; opcuaMs: number; cameraMs: number; brokerMs: number; modelMs: number }>;
}

/** NAME=value lines of a systemd EnvironmentFile (comments, blank lines and quotes as systemd reads them). */
export function readEnvironmentFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0]))
      value = value.slice(1, -1);
    out[line.slice(0, eq).trim()] = value;
  }
  return out;
}

export async function runDoctor(o: DoctorOptions): Promise<DoctorResult[]> {
  const results: DoctorResult[] = [];
  const add = (r: DoctorResult) => {
    results.push(r);
    o.onResult?.(r);
  };
  const t = { scannerMs: 20_000, opcuaMs: 30_000, cameraMs: 15_000, brokerMs: 15_000, modelMs: 120_000, ...o.timeouts };

  let config: Config;
  try {
    config = loadConfig(o.configFile, o.env);
    add(
      ok(
        'config',
        o.configFile,
        `valid: site ${config.site.id}, ${config.lanes.length} lane(s): ${config.lanes.map((l) => l.id).join(', ')}`,
      ),
    );
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const line of err.lines())
      add(fail('config', o.configFile, line, `edit ${o.configFile} (checkpoint-edge validate-config lists the same)`));
    return results;
  }

  for (const r of await checkSite(config))
    if (!r.ok || r.what.includes('transport.path'))
      add(
        r.ok
          ? ok(r.what.includes('transport.path') ? 'serial port' : 'config file', r.target, r.detail)
          : fail(
              r.what.includes('transport.path') ? 'serial port' : 'config file',
              `${r.what} ${r.target}`,
              r.detail,
              `fix the file or ${r.what} in ${o.configFile}`,
            ),
      );
  const files = results.filter((r) => r.check === 'config file').length;
  if (files === 0)
    add(
      ok(
        'config files',
        '-',
        'every file, folder and certificate the config names can be used (validate-config --check)',
      ),
    );

  for (const r of checkSecrets(readFileSync(o.configFile, 'utf8'), o.env, o.envFile)) add(r);
  add(await checkClock());
  add(checkDisk(config));
  add(await checkWatchdog(o.unitFile));

  let scans: readonly SelfTestScan[] | null = null;
  for (const lane of config.lanes) {
    for (const sensor of lane.sensors)
      if (sensor.transport.type === 'rtu') add(checkSerialDevice(`${lane.id} ${sensor.id}`, sensor.transport.path));
    const t0 = lane.scanner.transport;
    if (t0)
      add(
        await bounded(
          'scanner',
          lane.id,
          t.scannerMs,
          (signal) => probeScanner(lane, signal),
          'is the scanner on and the transport in the config right?',
        ),
      );
    if (lane.scanner.opcua)
      add(
        await bounded(
          'opcua',
          `${lane.id} ${lane.scanner.opcua.endpoint}`,
          t.opcuaMs,
          (signal) => probeOpcua(lane, config.dataDir, o.log.child({ lane: lane.id, part: 'doctor' }), signal),
          'is the scanner on and scanner.opcua.endpoint right? (docs/opcua.md)',
        ),
      );
    for (const cam of lane.cameras) {
      const target = `${lane.id} ${cam.id}`;
      add(
        await bounded(
          'camera',
          target,
          t.cameraMs + 1000,
          async () => {
            const bytes = await grabFrame(cameraUrl(cam), cam.kind, t.cameraMs);
            return ok('camera', target, `one ${cam.kind} frame received (${Math.round(bytes / 1024)} KiB JPEG)`);
          },
          `is the camera on, and its URL, kind (${cam.kind}) and user right? try the URL in a video player on this box`,
        ),
      );
    }
    if (config.mqtt)
      add(
        await bounded(
          'mqtt broker',
          lane.id,
          t.brokerMs,
          (signal) => checkBroker(config, lane.id, signal),
          'is the broker reachable from this box (firewall, port 8883)?',
        ),
      );
    if (lane.model) {
      scans ??= o.selfTestScans();
      const s = scans;
      add(
        await bounded(
          'model',
          lane.id,
          t.modelMs,
          () => checkModel(lane, s),
          'the model did not finish its self-test: is the box overloaded?',
        ),
      );
    } else
      add(
        fail(
          'model',
          lane.id,
          'no model is configured: every scan would be decided "unavailable"',
          `set lanes[].model.path (the release ships models/person-fcn)`,
        ),
      );
  }
  return results;
}
