import { onShutdownSignal } from '../../app/shutdown-signal.js';
import { choiceOption, integerOption, numberOption, parseCommandArgs, usageError } from '../../core/command-line.js';
import { createLogger } from '../../core/logger.js';
import { Rng } from '../xray/prng.js';
import { SensorSimulator, type SimSensorKind } from './sensor-sim.js';

const VEHICLE_CLASSES = [
  'car',
  'van',
  'box-truck',
  'articulated (container)',
  'articulated (curtain-trailer)',
] as const;

const usage = (kind: SimSensorKind) => `Usage: checkpoint-edge sim ${kind} [options]

A simulated ${kind === 'co2' ? 'CO2 probe (NDIR transmitter): holding registers 0 ppm, 1 temperature ×0.1 °C,\n2 humidity ×0.1 %, 3 status (bit 0 warming up, bit 1 fault)' : 'heartbeat (geophone) detector: input registers 0 score ×0.001, 1 signal quality\n×0.001, 2 engine off (1), 3 status (bit 0 measuring, bit 1 fault)'}, on Modbus TCP and/or Modbus RTU
on a serial port. Vehicles pass by themselves (people in --person-share of them), or one fixed
vehicle stays (--people). Read it with e.g.
  mbpoll -m tcp -a 1 -t ${kind === 'co2' ? '4' : '3'} -r 1 -c 4 -p 5020 127.0.0.1

Options:
  --tcp-port <port>       Modbus TCP port (default 5020; 0 = any free port; -1 = no TCP)
  --host <address>        listen address (default 127.0.0.1)
  --serial <path>         also serve Modbus RTU on this serial port (e.g. one end of a socat pty pair)
  --baud <n>              serial speed (default 9600, 8N1)
  --unit <id>             Modbus unit id (default 1)
  --seed <n>              random seed (default 1)
  --traffic-ms <ms>       a new vehicle every so often (default 20000)
  --person-share <p>      share of vehicles with people (default 0.25)
  --people <n>            one fixed vehicle with n people instead of traffic
  --vehicle-class <c>     its class: ${VEHICLE_CLASSES.join(', ')} (default articulated (container))
  --engine-running        the fixed vehicle's engine is left running
  --door-opened           the fixed vehicle's doors were opened before the probe went in
  --exception <code>      answer every read with this Modbus exception (e.g. 4 device failure, 6 busy)
  --delay-ms <ms>         answer this late (a slow device)
  --silent                do not answer at all
  --out-of-range          serve 0xFFFF as the main value (an NDIR cell or geophone gone bad)
  --sensor-fault          set the status word's fault bit
  --help                  show this help`;

async function runSensorSim(kind: SimSensorKind, argv: string[]): Promise<number> {
  const CMD = `sim ${kind}`;
  const args = parseCommandArgs({ name: CMD, usage: usage(kind) }, argv, {
    'tcp-port': { type: 'string' },
    host: { type: 'string' },
    serial: { type: 'string' },
    baud: { type: 'string' },
    unit: { type: 'string' },
    seed: { type: 'string' },
    'traffic-ms': { type: 'string' },
    'person-share': { type: 'string' },
    people: { type: 'string' },
    'vehicle-class': { type: 'string' },
    'engine-running': { type: 'boolean' },
    'door-opened': { type: 'boolean' },
    exception: { type: 'string' },
    'delay-ms': { type: 'string' },
    silent: { type: 'boolean' },
    'out-of-range': { type: 'boolean' },
    'sensor-fault': { type: 'boolean' },
  });
  if (!args) return 0;
  const v = args.values;
  const tcpPort = integerOption(CMD, 'tcp-port', v['tcp-port'], -1, 65535) ?? 5020;
  if (tcpPort === -1 && !v.serial)
    throw usageError(CMD, 'with --tcp-port -1 give --serial, or the simulator serves nothing');
  const seed = integerOption(CMD, 'seed', v.seed, 0, 2 ** 31) ?? 1;
  const sim = new SensorSimulator(kind, { unitId: integerOption(CMD, 'unit', v.unit, 1, 247) ?? 1, seed });
  sim.slave.faults.exception = integerOption(CMD, 'exception', v.exception, 1, 11) ?? null;
  sim.slave.faults.delayMs = integerOption(CMD, 'delay-ms', v['delay-ms'], 0, 60_000) ?? 0;
  sim.slave.faults.silent = v.silent ?? false;
  sim.device.sensing.outOfRange = v['out-of-range'] ?? false;
  sim.device.sensing.sensorFault = v['sensor-fault'] ?? false;
  const log = createLogger({ level: 'info', stderr: true });
  const people = integerOption(CMD, 'people', v.people, 0, 50);
  const vehicleClass =
    choiceOption(CMD, 'vehicle-class', v['vehicle-class'], VEHICLE_CLASSES) ?? 'articulated (container)';
  let timer: NodeJS.Timeout | null = null;
  const say = (what: string) => process.stdout.write(`${new Date().toISOString()} ${what}\n`);
  if (people !== undefined) {
    sim.vehicleArrives(
      { plate: 'SIM-1', vehicleClass, people },
      { engineRunning: v['engine-running'] ?? false, doorOpened: v['door-opened'] ?? false, probeDisconnected: false },
    );
    say(`vehicle SIM-1 (${vehicleClass}) with ${people} people stays at the ${kind === 'co2' ? 'probe' : 'detector'}`);
  } else {
    const rng = new Rng(seed, 3);
    const share = numberOption(CMD, 'person-share', v['person-share'], { min: 0, max: 1 }) ?? 0.25;
    const every = integerOption(CMD, 'traffic-ms', v['traffic-ms'], 500, 3_600_000) ?? 20_000;
    let n = 0;
    const next = () => {
      const withPeople = rng.chance(share);
      const s = sim.vehicleArrives({
        plate: `SIM-${++n}`,
        vehicleClass: rng.pick(VEHICLE_CLASSES),
        people: withPeople ? rng.int(1, 6) : 0,
      });
      say(
        `vehicle ${s.plate} (${s.vehicleClass}): ${s.people} people${s.people ? ` shut in ${s.hoursInside.toFixed(1)} h` : ''}${s.doorOpened ? ', door opened' : ''}${s.engineRunning ? ', engine running' : ''}${s.probeDisconnected && kind === 'co2' ? ', probe not plugged in' : ''}`,
      );
    };
    next();
    timer = setInterval(next, every);
  }
  if (tcpPort >= 0) {
    const a = await sim.listenTcp(tcpPort, v.host ?? '127.0.0.1');
    say(`${kind} simulator: Modbus TCP on ${a.host}:${a.port}, unit ${sim.slave.unitId}`);
  }
  if (v.serial) {
    const baud = integerOption(CMD, 'baud', v.baud, 1200, 115_200) ?? 9600;
    await sim.openSerial(v.serial, baud);
    say(`${kind} simulator: Modbus RTU on ${v.serial} @ ${baud} 8N1, unit ${sim.slave.unitId}`);
  }
  return onShutdownSignal(log, 5000, async () => {
    if (timer) clearInterval(timer);
    await sim.stop();
  });
}

export const runCo2Sim = (argv: string[]) => runSensorSim('co2', argv);
export const runHeartbeatSim = (argv: string[]) => runSensorSim('heartbeat', argv);
