import { integerOption, parseCommandArgs, usageError } from '../../core/command-line.js';
import { createLogger } from '../../core/logger.js';
import { onShutdownSignal } from '../../app/shutdown-signal.js';
import { CameraSimulator, DEFAULT_SIM_CAMERAS, type ScheduledFault, type SimCamera } from './camera-sim.js';
import type { CameraRole } from './scene.js';

const USAGE = `Usage: checkpoint-edge sim camera [options]

Simulated lane cameras over HTTP. GET / lists the cameras; for each camera:
  GET  /<camera>/mjpeg         MJPEG stream (multipart/x-mixed-replace)
  GET  /<camera>/snapshot.jpg  one JPEG picture
  POST /<camera>/fault         {"type":"stall"|"disconnect"|"corrupt","durationMs":5000,"count":1}
  POST /vehicle                {"plate":"B-AB 1234","kind":"truck"|"van"|"car","passMs":6000}

Options:
  --port <port>            HTTP port (default 8554; 0 = any free port)
  --host <address>         listen address (default 127.0.0.1)
  --cameras <list>         id:role,... roles front, rear, side, plate, overview
                           (default front:front,plate:plate,side:side,rear:rear)
  --fps <n>                pictures per second of the MJPEG streams (default 10)
  --size <w>x<h>           picture size (default 640x360)
  --auto-traffic-ms <ms>   a vehicle by itself every so often (default 8000; 0 = only POST /vehicle)
  --pass-ms <ms>           time a vehicle takes to pass (default 6000)
  --fault <spec>           camera:type[:durationMs or count]@atMs, e.g. front:stall:3000@10000;
                           may be given more than once
  --auth <scheme:user:pw>  cameras ask for credentials: basic:admin:secret or digest:admin:secret
  --help                   show this help`;

const ROLES: readonly CameraRole[] = ['front', 'rear', 'side', 'plate', 'overview'];

const CMD = 'sim camera';

function fail(msg: string): never {
  throw usageError(CMD, msg);
}

function int(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  return integerOption(CMD, name, raw, min, max) ?? def;
}

export function parseFault(spec: string): ScheduledFault {
  const m = /^([A-Za-z0-9_-]+):(stall|disconnect|corrupt)(?::(\d+))?@(\d+)$/.exec(spec);
  if (!m) fail(`--fault "${spec}" is not camera:type[:durationMs|count]@atMs (type stall, disconnect or corrupt)`);
  const [, camera, type, n, at] = m;
  const f: ScheduledFault = { camera, type: type as ScheduledFault['type'], atMs: Number(at) };
  if (n !== undefined) {
    if (type === 'corrupt') f.count = Number(n);
    else f.durationMs = Number(n);
  }
  return f;
}

export default async function runCameraSim(argv: string[]): Promise<number> {
  const args = parseCommandArgs({ name: CMD, usage: USAGE }, argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    cameras: { type: 'string' },
    fps: { type: 'string' },
    size: { type: 'string' },
    'auto-traffic-ms': { type: 'string' },
    'pass-ms': { type: 'string' },
    fault: { type: 'string', multiple: true },
    auth: { type: 'string' },
  });
  if (!args) return 0;
  const v = args.values;
  let cameras: SimCamera[] = DEFAULT_SIM_CAMERAS;
  if (v.cameras !== undefined) {
    cameras = v.cameras.split(',').map((s) => {
      const [id, role] = s.split(':');
      if (!id || !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(id) || !ROLES.includes(role as CameraRole))
        fail(`--cameras entry "${s}" is not id:role with role ${ROLES.join(', ')}`);
      return { id, role: role as CameraRole };
    });
  }
  let width = 640;
  let height = 360;
  if (v.size !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(v.size);
    if (!m) fail(`--size expects <width>x<height>, got "${v.size}"`);
    width = int('size', m[1], 640, 64, 4096);
    height = int('size', m[2], 360, 64, 4096);
  }
  const faults = (v.fault ?? []).map(parseFault);
  for (const f of faults)
    if (!cameras.some((c) => c.id === f.camera))
      fail(`--fault names camera "${f.camera}", which is not one of ${cameras.map((c) => c.id).join(', ')}`);
  let auth: { scheme: 'basic' | 'digest'; username: string; password: string } | undefined;
  if (v.auth !== undefined) {
    const m = /^(basic|digest):([^:]+):(.+)$/.exec(v.auth);
    if (!m) fail('--auth expects basic:<user>:<password> or digest:<user>:<password>');
    auth = { scheme: m[1] as 'basic' | 'digest', username: m[2], password: m[3] };
  }
  const sim = new CameraSimulator({
    ...(auth ? { auth } : {}),
    host: v.host ?? '127.0.0.1',
    port: int('port', v.port, 8554, 0, 65535),
    cameras,
    width,
    height,
    fps: int('fps', v.fps, 10, 1, 60),
    autoTrafficMs: int('auto-traffic-ms', v['auto-traffic-ms'], 8000, 0, 3_600_000),
    passMs: int('pass-ms', v['pass-ms'], 6000, 100, 600_000),
    faults,
  });
  const log = createLogger({ level: 'info', stderr: true });
  await sim.start();
  process.stdout.write(
    `camera simulator: ${sim.url}/ (cameras: ${sim.cameras.map((c) => `${sim.url}/${c.id}/mjpeg`).join(' ')})\n`,
  );
  return onShutdownSignal(log, 5000, () => sim.stop());
}
