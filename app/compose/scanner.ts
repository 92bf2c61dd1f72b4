import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LaneConfig } from '../../config/schema.js';
import { FileDropService } from '../../firmware-bridge/scanner/file-drop/file-drop-service.js';
import type { XmlField } from '../../firmware-bridge/scanner/file-drop/sidecar.js';
import { LineStreamService } from '../../firmware-bridge/scanner/line-stream-service.js';
import { newCounters } from '../../firmware-bridge/scanner/protocol/frame-parser.js';
import { ScannerTranslator } from '../../firmware-bridge/scanner/translator.js';
import { onScannerOpcuaFault } from '../../firmware-bridge/scanner/opcua/fault-signal.js';
import { createScannerOpcuaService } from './scanner-opcua.js';
import type { LinkOpener } from '../../firmware-bridge/scanner/transport/line-link.js';
import { SerialLinkOpener } from '../../firmware-bridge/scanner/transport/serial.js';
import { TcpLinkOpener } from '../../firmware-bridge/scanner/transport/tcp.js';
import type { LaneContext } from '../context.js';
import { exportLinePitchFallbacks, exportLinkCounters, exportLowEnergyScale } from '../monitoring.js';
import type { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import type { Service } from '../../core/service.js';
import { StreamedLowEnergyScale, type StreamedLowEnergyMemory } from '../../core/dual-energy-scale.js';
import { DATA_FILE_MODE } from '../../core/data-files.js';

type ScannerConfig = LaneConfig['scanner'];

/** What the scanner's services share: the one translator to lane events, and the line stream if any. */
export interface ScannerParts {
  translator: ScannerTranslator;
  lineStream: LineStreamService | null;
}

/**
 * Builds the scanner bridge services of a lane: the framed line stream (TCP or serial), the
 * file drop, and the OPC UA control client. Each part that is configured adds its service.
 * `begunBefore` (the lane pipeline's journal) recognises a resent scan the lane has begun before.
 */
export function createScannerServices(
  ctx: LaneContext,
  begunBefore?: (scannerScanId: string, startedAt: string) => string | null,
): Service[] {
  const cfg = ctx.lane.scanner;
  const log = ctx.log.child({ part: 'scanner' });
  const counters = newCounters();
  if (cfg.transport) exportLinkCounters(ctx.metrics.registry, ctx.lane.id, cfg.id, counters);
  const lowEnergyScale = cfg.transport ? streamedLowEnergyScale(ctx, cfg.lowEnergyScale, log) : null;
  if (lowEnergyScale) exportLowEnergyScale(ctx.metrics.registry, ctx.lane.id, cfg.id, () => lowEnergyScale.state);
  const translator = new ScannerTranslator({
    laneId: ctx.lane.id,
    device: cfg.id,
    bus: ctx.bus,
    log,
    defaultPixelMm: cfg.pixelMm,
    lineMm: cfg.lineMm,
    scanTimeoutMs: cfg.scanTimeoutMs,
    frameCounters: counters,
    ...(lowEnergyScale ? { lowEnergyScale } : {}),
    ...(begunBefore ? { begunBefore } : {}),
  });
  const lineStream = cfg.transport
    ? new LineStreamService({
        name: `scanner-line-stream:${ctx.lane.id}`,
        opener: lineOpener(cfg.transport),
        translator,
        counters,
        log: log.child({ link: cfg.transport.type }),
        reconnect: cfg.reconnect,
        logFrames: cfg.logFrames,
      })
    : null;
  const parts: ScannerParts = { translator, lineStream };
  const opcua = createScannerOpcuaService(ctx);
  const fileDrop = cfg.fileDrop ? fileDropService(ctx, cfg, cfg.fileDrop, parts) : null;
  exportLinePitchFallbacks(
    ctx.metrics.registry,
    ctx.lane.id,
    cfg.id,
    () => translator.counters.linePitchFallbacks + (fileDrop?.linePitchFallbacks ?? 0),
  );
  const services: (Service | null)[] = [
    lineStream,
    fileDrop,
    // Listens before the OPC UA client publishes, and stops listening after it has stopped.
    opcua && lineStream ? opcuaFaultAbort(ctx.lane.id, opcua.device, ctx.bus, translator) : null,
    opcua,
  ];
  return services.filter((s): s is Service => s !== null);
}

/**
 * A fault the scanner reports only over OPC UA (its status entering 'fault') aborts the open
 * streamed scan with 'scanner-fault' and the fault text: the translator owns open scans, the
 * OPC UA client emits no scan events.
 */
function opcuaFaultAbort(
  laneId: string,
  opcuaDevice: string,
  bus: EventBus<LaneEvents>,
  translator: ScannerTranslator,
): Service {
  let off: (() => void) | null = null;
  return {
    name: `scanner-opcua-fault-abort:${laneId}`,
    async start() {
      off ??= onScannerOpcuaFault(bus, opcuaDevice, 'scanner-translator', (faultText) =>
        translator.scannerFault(faultText),
      );
    },
    async stop() {
      off?.();
      off = null;
    },
  };
}

/** File of the lane's data dir that keeps the streamed scans' dual-energy statistics across restarts. */
export const LOW_ENERGY_RATIOS_FILE = 'scanner-low-energy.json';

/**
 * The lane's low-energy scale of streamed scans, with the statistics of the last scans read and the
 * factor in use kept in the lane's data dir: after a restart the factor applies from the first scan
 * instead of the sixth. Delete the file when the scanner (or its energy pair) is replaced.
 */
function streamedLowEnergyScale(
  ctx: LaneContext,
  option: ScannerConfig['lowEnergyScale'],
  log: LaneContext['log'],
): StreamedLowEnergyScale {
  const file = join(ctx.dataDir, LOW_ENERGY_RATIOS_FILE);
  let restore: StreamedLowEnergyMemory | undefined;
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<keyof StreamedLowEnergyMemory, unknown>>;
    if (Array.isArray(doc.ratios))
      restore = {
        ratios: doc.ratios.filter((r): r is number => typeof r === 'number'),
        ...(typeof doc.scale === 'number' ? { scale: doc.scale } : {}),
        ...(typeof doc.outside === 'boolean' ? { outside: doc.outside } : {}),
      };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      log.warn(
        `${file}: the dual-energy statistics of earlier scans cannot be read (${(err as Error).message}); starting without them`,
      );
  }
  const tmp = `${file}.${process.pid}.tmp`;
  let failed = false;
  const scale = new StreamedLowEnergyScale(option, {
    ...(restore ? { restore } : {}),
    onRead: (memory) => {
      try {
        writeFileSync(tmp, `${JSON.stringify(memory)}\n`, { mode: DATA_FILE_MODE });
        renameSync(tmp, file);
        if (failed) log.info(`${file}: the dual-energy statistics are kept again`);
        failed = false;
      } catch (err) {
        if (!failed)
          log.warn(
            `${file}: the dual-energy statistics cannot be kept (${(err as Error).message}); after a restart the lane reads them again from the first scans`,
          );
        failed = true;
      }
    },
  });
  const st = scale.state;
  if (restore && st.note)
    log[st.degraded ? 'warn' : 'info'](
      `${file}: ${st.scans} dual-energy statistics kept from earlier scans (median ${st.ratio}): ${st.note} (delete the file when the scanner is replaced)`,
    );
  return scale;
}

function lineOpener(t: NonNullable<ScannerConfig['transport']>): LinkOpener {
  return t.type === 'tcp'
    ? new TcpLinkOpener({ host: t.host, port: t.port })
    : new SerialLinkOpener({ path: t.path, baudRate: t.baudRate });
}

function fileDropService(
  ctx: LaneContext,
  cfg: ScannerConfig,
  fd: NonNullable<ScannerConfig['fileDrop']>,
  parts: ScannerParts,
): FileDropService {
  // The config schema admits only sidecar fields as keys (config/schema/scanner.ts xmlFields).
  const xmlFields: Partial<Record<XmlField, string>> = fd.xmlFields ?? {};
  if (cfg.lineMm === 'speed' && fd.xmlFields && !xmlFields.lineMm && !(xmlFields.speedKmh && xmlFields.lineRateHz))
    ctx.log.warn(
      `lane ${ctx.lane.id}: scanner.lineMm is speed, but scanner.fileDrop.xmlFields maps neither lineMm nor both speedKmh and lineRateHz: scans dropped with a vendor XML sidecar will be read with lines as far apart as the channels (each one warned and counted)`,
    );
  return new FileDropService({
    name: `scanner-file-drop:${ctx.lane.id}`,
    device: `${cfg.id}.filedrop`,
    dir: fd.dir,
    ...(fd.processedDir ? { processedDir: fd.processedDir } : {}),
    ...(fd.failedDir ? { failedDir: fd.failedDir } : {}),
    stableMs: fd.stableMs,
    maxSidecarBytes: fd.maxSidecarBytes,
    retentionDays: fd.retentionDays,
    xmlFields,
    defaultPixelMm: cfg.pixelMm,
    lineMm: cfg.lineMm,
    exportChain: fd.export,
    openBeam: fd.openBeam,
    lowEnergyScale: fd.lowEnergyScale,
    translator: parts.translator,
    bus: ctx.bus,
    log: ctx.log.child({ part: 'scanner-file-drop' }),
  });
}
