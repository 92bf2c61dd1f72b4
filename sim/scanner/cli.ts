import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  choiceOption,
  EXIT,
  numberOption,
  parseCommandArgs,
  requiredOption,
  usageError,
} from '../../core/command-line.js';
import { createLogger } from '../../core/logger.js';
import { onShutdownSignal } from '../../app/shutdown-signal.js';
import { writeFileDropScan, type FileDropFormat } from './file-drop-writer.js';
import { startScannerStreamSim } from './index.js';
import { imageDirSource, synthSource, withLinePitch } from './scan-source.js';
import { round2 } from '../../firmware-bridge/scanner/line-pitch.js';

const SCANNER_USAGE = `Usage: checkpoint-edge sim scanner (--tcp <port> | --serial <path>) [options]

Streams vehicle scans on the scanner line protocol (docs/protocols/scanner-line-protocol.md),
line by line at a realistic rate, as a real scanner does. Prints one line per scan and, at the
end, exactly which faults it injected.

Options:
  --tcp <port>            serve on this TCP port (0 = any free port; printed)
  --host <addr>           TCP address to listen on (default 127.0.0.1)
  --serial <path>         stream on this serial device instead (e.g. one end of a socat pty pair)
  --baud <n>              serial baud rate (default 3000000)
  --images <dir>          scans from 16-bit grey PNG/TIFF files (rows = channels); <name>.low.png = low energy
                          (default: the X-ray synthesizer, dual energy)
  --person-share <f>      share of synthesized vehicles carrying people (default 0.25)
  --low-energy-scale <k>  a scanner of another energy pair: low-energy attenuation multiplied by k
                          (0.5-2, default 1; 1.15 = every low/high ratio 15 % higher)
  --seed <n>              seed of scans and faults (default 1)
  --scans <n>             stop after n scans (default: run until Ctrl-C)
  --line-rate <hz>        lines per second (default 300)
  --line-mm <mm>          lines this far apart (a scanner with a fixed line rate; scan-begin sends the
                          channels' pitch and the speed that makes it); default: as far apart as the
                          channels (square pixels). A lane reads them with scanner.lineMm: speed
  --gap-ms <ms>           pause between vehicles (default 3000)
  --heartbeat-ms <ms>     heartbeat interval, 0 = none (default 1000)
  --garbage <p>           probability per line of a burst of garbage bytes before it
  --bad-crc <p>           probability per line of a corrupted payload (bad CRC)
  --drop <p>              probability per line of it being lost
  --fault-rate <p>        probability per scan of a scanner fault midway
  --disconnect-rate <p>   probability per scan of the connection dropping mid-frame (TCP only)
  --help                  show this help`;

const FILEDROP_USAGE = `Usage: checkpoint-edge sim filedrop --out <dir> [options]

Writes completed scans into a drop folder the way scanners export them: images first, the
sidecar last (scanner.fileDrop in the lane config reads them).

Options:
  --out <dir>             the drop folder (created if missing)
  --format <f>            png16 (16-bit PNGs + JSON sidecar, default), tiff16 (16-bit TIFFs + JSON)
                          or jpeg-xml (8-bit JPEG + vendor XML)
  --scans <n>             how many scans (default 1)
  --interval-ms <ms>      pause between scans (default 2000)
  --images <dir>          scans from image files (default: the X-ray synthesizer)
  --person-share <f>      share of synthesized vehicles carrying people (default 0.25)
  --line-mm <mm>          lines this far apart (a scanner with a fixed line rate): each scan resampled
                          along the scan, its sidecar giving the speed and line rate (300 lines/s) that
                          make it; default: as far apart as the channels. A lane reads them with
                          scanner.lineMm: speed
  --seed <n>              seed (default 1)
  --help                  show this help`;

function num(cmd: string, name: string, raw: string | undefined, def: number, min: number, max: number): number {
  return numberOption(`sim ${cmd}`, name, raw, { min, max }) ?? def;
}

export async function runScannerSim(argv: string[]): Promise<number> {
  const args = parseCommandArgs({ name: 'sim scanner', usage: SCANNER_USAGE }, argv, {
    tcp: { type: 'string' },
    host: { type: 'string' },
    serial: { type: 'string' },
    baud: { type: 'string' },
    images: { type: 'string' },
    'person-share': { type: 'string' },
    'low-energy-scale': { type: 'string' },
    seed: { type: 'string' },
    scans: { type: 'string' },
    'line-rate': { type: 'string' },
    'line-mm': { type: 'string' },
    'gap-ms': { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    garbage: { type: 'string' },
    'bad-crc': { type: 'string' },
    drop: { type: 'string' },
    'fault-rate': { type: 'string' },
    'disconnect-rate': { type: 'string' },
  });
  if (!args) return EXIT.ok;
  const v = args.values;
  if ((v.tcp === undefined) === (v.serial === undefined))
    throw usageError('sim scanner', 'give exactly one of --tcp <port> or --serial <path>');
  const p = (name: keyof typeof v) => num('scanner', name, v[name] as string | undefined, 0, 0, 1);
  const faults = {
    garbage: p('garbage'),
    badCrc: p('bad-crc'),
    drop: p('drop'),
    faultRate: p('fault-rate'),
    disconnectRate: p('disconnect-rate'),
  };
  if (v.serial !== undefined && faults.disconnectRate > 0)
    throw usageError(
      'sim scanner',
      '--disconnect-rate works over TCP only (over serial, unplug the device or kill socat)',
    );
  const log = createLogger({ level: 'info', format: 'pretty', stderr: true });
  const { sim, tcp } = await startScannerStreamSim({
    ...(v.tcp !== undefined
      ? { tcpPort: num('scanner', 'tcp', v.tcp, 0, 0, 65535), host: v.host ?? '127.0.0.1' }
      : { serial: { path: v.serial!, baudRate: num('scanner', 'baud', v.baud, 3_000_000, 1200, 12_000_000) } }),
    ...(v.images ? { images: v.images } : {}),
    personShare: num('scanner', 'person-share', v['person-share'], 0.25, 0, 1),
    lowEnergyScale: num('scanner', 'low-energy-scale', v['low-energy-scale'], 1, 0.5, 2),
    seed: num('scanner', 'seed', v.seed, 1, 0, 2 ** 31),
    ...(v.scans !== undefined ? { scans: num('scanner', 'scans', v.scans, 1, 1, 1_000_000) } : {}),
    lineRateHz: num('scanner', 'line-rate', v['line-rate'], 300, 1, 100_000),
    ...(v['line-mm'] !== undefined ? { lineMm: num('scanner', 'line-mm', v['line-mm'], 5, 0.5, 50) } : {}),
    gapMs: num('scanner', 'gap-ms', v['gap-ms'], 3000, 0, 3_600_000),
    heartbeatMs: num('scanner', 'heartbeat-ms', v['heartbeat-ms'], 1000, 0, 60_000),
    faults,
    log,
  });
  const say = (l: string) => process.stdout.write(`${l}\n`);
  say(tcp ? `scanner line stream: tcp://${tcp.host}:${tcp.port}` : `scanner line stream: serial ${v.serial}`);
  sim.on('connection', (n: number) => say(`host connected (connection ${n})`));
  sim.on('scan', (r) =>
    say(
      `scan ${r.scanId} ${r.outcome} lines=${r.linesSent}/${r.scan.width} channels=${r.scan.height}${r.scan.lineMm !== undefined ? ` lineMm=${round2(r.scan.lineMm)}` : ''} energies=${r.scan.low ? 2 : 1} dropped=${r.dropped.length} badCrc=${r.badCrc.length} source="${r.scan.origin}"${r.scan.label ? ` truth=${r.scan.label}` : ''}`,
    ),
  );
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= sim.stop().then(() => {
      say(`injected: ${JSON.stringify(sim.report.injected)}`);
    }));
  if (v.scans !== undefined) {
    const signalled = onShutdownSignal(log, 5000, stop);
    await Promise.race([sim.finished, signalled]);
    await stop();
    return EXIT.ok;
  }
  return onShutdownSignal(log, 5000, stop);
}

export async function runFileDropSim(argv: string[]): Promise<number> {
  const args = parseCommandArgs({ name: 'sim filedrop', usage: FILEDROP_USAGE }, argv, {
    out: { type: 'string' },
    format: { type: 'string' },
    scans: { type: 'string' },
    'interval-ms': { type: 'string' },
    images: { type: 'string' },
    'person-share': { type: 'string' },
    'line-mm': { type: 'string' },
    seed: { type: 'string' },
  });
  if (!args) return EXIT.ok;
  const v = args.values;
  const out = requiredOption('sim filedrop', 'out', v.out, '<dir>');
  const format: FileDropFormat =
    choiceOption<FileDropFormat>('sim filedrop', 'format', v.format, ['png16', 'tiff16', 'jpeg-xml']) ?? 'png16';
  const count = num('filedrop', 'scans', v.scans, 1, 1, 100_000);
  const interval = num('filedrop', 'interval-ms', v['interval-ms'], 2000, 0, 3_600_000);
  const seed = num('filedrop', 'seed', v.seed, 1, 0, 2 ** 31);
  await mkdir(out, { recursive: true });
  const scans = v.images
    ? await imageDirSource(v.images)
    : synthSource({
        seed,
        personShare: num('filedrop', 'person-share', v['person-share'], 0.25, 0, 1),
        dual: format !== 'jpeg-xml',
      });
  const source =
    v['line-mm'] !== undefined ? withLinePitch(scans, num('filedrop', 'line-mm', v['line-mm'], 5, 0.5, 50)) : scans;
  try {
    for (let i = 0; i < count; i++) {
      const scan = await source.next(i);
      const d = await writeFileDropScan(out, scan, { scanId: `drop-${seed}-${i + 1}`, format });
      process.stdout.write(`wrote ${d.scanId}: ${d.files.join(' ')}\n`);
      if (i + 1 < count) await sleep(interval);
    }
  } finally {
    await source.close();
  }
  return EXIT.ok;
}
