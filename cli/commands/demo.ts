import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { SiteRuntime } from '../../app/site-runtime.js';
import type { ScanResult } from '../../core/domain.js';
import { EmbeddedBroker } from '../../app/embedded-broker.js';
import { createLogger } from '../../core/logger.js';
import { onShutdownSignal } from '../../app/shutdown-signal.js';
import { startDemoSimulators } from '../../sim/demo.js';
import { EXIT, numberOption, parseCommandArgs, type CliCommand } from '../../core/command-line.js';
import { version } from '../version.js';
import { DEMO_KEY_ID, demoCentralKey, publishDemoWatchlist } from '../../sim/demo-watchlist.js';
import { startDemoCentral, type DemoCentral } from './demo-central.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../config/examples/demo.yaml', import.meta.url));

const cmd: CliCommand = {
  name: 'demo',
  summary: 'run a simulated lane',
  usage: `Usage: checkpoint-edge demo [options]

Runs a whole checkpoint lane on this machine: the scanner, OPC UA and camera simulators, the
runtime (config/examples/demo.yaml), an embedded MQTT broker and the operator console, and a
central command centre (\`central serve\`, embedded store) in its own process reading that broker.
Prints where to look, one per line, then one summary line per decided scan. Stop with Ctrl-C.

Options:
  --scans <n>          exit 0 after n scans have been decided
  --mqtt-url <url>     publish to this broker instead of starting the embedded one
  --mqtt-port <port>   port of the embedded broker (default 1883; 0 = any free port)
  --port <port>        HTTP port of the console (default 8080; 0 = any free port)
  --central-port <p>   HTTP port of the central command centre (default 8090; 0 = any free port)
  --no-central         do not start the central command centre
  --person-share <f>   share of vehicles carrying concealed people (default 0.25)
  --gap-ms <ms>        pause between vehicles (default 3000)
  --seed <n>           seed of the simulated traffic (default: from the clock)
  --data-dir <dir>     where the demo keeps its state (default ./var/demo)
  --log-level <level>  fatal, error, warn, info, debug (default info; logs go to stderr)
  --help               show this help`,
  async run(argv) {
    const args = parseCommandArgs(cmd, argv, {
      scans: { type: 'string' },
      'mqtt-url': { type: 'string' },
      'mqtt-port': { type: 'string' },
      port: { type: 'string' },
      'central-port': { type: 'string' },
      'no-central': { type: 'boolean' },
      'person-share': { type: 'string' },
      'gap-ms': { type: 'string' },
      seed: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string' },
    });
    if (!args) return EXIT.ok;
    const v = args.values;
    const num = (name: string, raw: string | undefined, def: number, min: number, max: number): number =>
      numberOption('demo', name, raw, { min, max }) ?? def;
    const scans = v.scans === undefined ? null : num('scans', v.scans, 0, 1, 1_000_000);
    const personShare = num('person-share', v['person-share'], 0.25, 0, 1);
    const gapMs = num('gap-ms', v['gap-ms'], 3000, 0, 600_000);
    const seed = num('seed', v.seed, Date.now() % 1_000_000, 0, 2 ** 31);
    const httpPort = num('port', v.port, 8080, 0, 65535);
    const mqttPort = num('mqtt-port', v['mqtt-port'], 1883, 0, 65535);
    const centralPort = num('central-port', v['central-port'], 8090, 0, 65535);
    const level = v['log-level'] ?? 'info';

    const base = loadConfig(DEMO_CONFIG);
    const log = createLogger({ level, format: base.log.format, stderr: true });
    const say = (line: string) => process.stdout.write(`${line}\n`);

    const sims = await startDemoSimulators({ log: log.child({ part: 'sim' }), personShare, seed, gapMs });
    let broker: EmbeddedBroker | null = null;
    let mqttUrl = v['mqtt-url'];
    if (!mqttUrl) {
      broker = new EmbeddedBroker({ port: mqttPort });
      try {
        await broker.start();
      } catch (err) {
        await sims.stop();
        throw err;
      }
      mqttUrl = broker.url;
    }
    const centralKey = demoCentralKey(v['data-dir'] ?? base.dataDir);
    const config = demoConfig(base, {
      mqttUrl,
      httpPort,
      dataDir: v['data-dir'],
      sims,
      watchlistKey: centralKey.publicPem,
    });
    const runtime = new SiteRuntime({ config, log, version: version(), demo: true, announce: say });
    await runtime.build();

    let decided = 0;
    let done: (() => void) | null = null;
    const finished = new Promise<void>((r) => (done = r));
    for (const lane of runtime.lanes) {
      lane.bus.on('scan.decided', 'demo', ({ result }) => {
        // With --scans n, a scan decided while the demo stops (a slow machine) is not the n+1th line.
        if (scans !== null && decided >= scans) return;
        say(summaryLine(result));
        decided++;
        if (scans !== null && decided >= scans) done?.();
      });
    }
    let central: DemoCentral | null = null;
    const stopAll = async () => {
      await central?.stop();
      await runtime.stop();
      await sims.stop();
      await broker?.stop();
    };
    // Published retained before the lane starts, so the lane has it before the first vehicle.
    const demoList = await publishDemoWatchlist({
      mqttUrl,
      prefix: config.mqtt?.topicPrefix ?? 'checkpoint',
      seed,
      privatePem: centralKey.privatePem,
    }).catch((err: Error) => {
      log.error({ err }, `demo: the demo watchlist was not published: ${err.message}`);
      return null;
    });
    // Central is up and subscribed before the lane starts, so it has every scan and alert from the
    // first vehicle on (the 3rd vehicle's watchlist hit among them).
    let centralError: string | null = null;
    if (!v['no-central']) {
      try {
        central = await startDemoCentral({
          dataDir: config.dataDir,
          mqttUrl,
          port: centralPort,
          onLog: (l) => log.warn(l),
        });
      } catch (err) {
        centralError = (err as Error).message;
      }
    }
    try {
      await runtime.start();
    } catch (err) {
      await stopAll();
      throw err;
    }
    say(`mqtt: ${mqttUrl}`);
    const prefix = config.mqtt?.topicPrefix ?? 'checkpoint';
    for (const lane of runtime.lanes)
      say(`topics: ${prefix}/${config.site.id}/${lane.id}/{availability,status,scan,alert,event,cmd/#}`);
    for (const m of sims.missing) say(`not in this build: ${m}`);
    if (demoList)
      say(
        `watchlist: ${demoList.entries} entries signed and published as central would, on ${demoList.topic} (v${demoList.version}): the 3rd vehicle is a hit, the 6th a confusable one, the 9th a covert one that only central sees`,
      );
    if (central) {
      say(`central: ${central.url}`);
      say(`central log-in: ${central.user} / ${central.password}`);
    } else if (centralError) say(`central: not started (${centralError}); the lane runs on`);
    say(`health: ${runtime.http.url}/healthz`);
    say(`metrics: ${runtime.http.url}/metrics`);
    say(scans !== null ? `running until ${scans} scan(s) are decided` : 'running: stop with Ctrl-C');

    const signalled = onShutdownSignal(log, config.shutdownTimeoutMs, stopAll);
    if (scans === null) return signalled;
    await Promise.race([finished, signalled]);
    if (decided >= scans) await stopAll();
    return EXIT.ok;
  },
};
export default cmd;

function summaryLine(r: ScanResult): string {
  const parts = [
    `scan ${r.scanId}`,
    `lane=${r.laneId}`,
    `outcome=${r.outcome}${r.abortReason ? `(${r.abortReason})` : ''}`,
    `verdict=${r.verdict}`,
    `score=${r.score === null ? '-' : r.score.toFixed(3)}`,
    `regions=${r.regions.length}`,
    `lines=${r.lines}`,
    `plate=${r.vehicle?.plate ?? '-'}`,
  ];
  if (r.unavailableReason) parts.push(`reason="${r.unavailableReason}"`);
  const f = r.fusion;
  if (f) {
    const co2 = f.senses.find((s) => s.sense === 'co2');
    const hb = f.senses.find((s) => s.sense === 'heartbeat');
    parts.push(`co2=${co2?.state === 'evidence' ? `${co2.reading?.ppm}ppm(+${co2.value})` : (co2?.state ?? '-')}`);
    parts.push(`heartbeat=${hb?.state === 'evidence' ? hb.value!.toFixed(2) : (hb?.state ?? '-')}`);
    parts.push(`fused=${f.verdict}${f.addedAlert ? '(added alert)' : ''}${f.xraySupport ? `(${f.xraySupport})` : ''}`);
    if (f.missing.length) parts.push(`missing=${f.missing.join(',')}`);
  }
  return parts.join(' ');
}

function demoConfig(
  base: Config,
  o: {
    mqttUrl: string;
    httpPort: number;
    dataDir?: string;
    sims: Awaited<ReturnType<typeof startDemoSimulators>>;
    watchlistKey: string;
  },
): Config {
  const lanes = base.lanes.map((l) => {
    const scanner = { ...l.scanner };
    if (o.sims.scanner && scanner.transport?.type === 'tcp')
      scanner.transport = { ...scanner.transport, host: o.sims.scanner.host, port: o.sims.scanner.port };
    if (o.sims.opcuaEndpoint && scanner.opcua) scanner.opcua = { ...scanner.opcua, endpoint: o.sims.opcuaEndpoint };
    else delete scanner.opcua;
    const cameras = o.sims.cameraBaseUrl
      ? l.cameras.map((c) => ({ ...c, url: c.url.replace(/^http:\/\/[^/]+/, o.sims.cameraBaseUrl!) }))
      : [];
    const sims = o.sims.sensors;
    const sensors = sims
      ? l.sensors.map((s) =>
          s.transport.type === 'tcp' ? { ...s, transport: { ...s.transport, ...sims[s.kind] } } : s,
        )
      : [];
    return { ...l, scanner, cameras, sensors };
  });
  return {
    ...base,
    dataDir: o.dataDir ?? base.dataDir,
    http: { ...base.http, port: o.httpPort },
    mqtt: base.mqtt ? { ...base.mqtt, url: o.mqttUrl } : undefined,
    watchlist: {
      ...(base.watchlist ?? { maxMb: 16, repeatS: 120 }),
      keys: [{ keyId: DEMO_KEY_ID, publicKey: o.watchlistKey }],
    },
    lanes,
  };
}
