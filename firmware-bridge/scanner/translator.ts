import { LINE_PITCH_FALLBACK, round2, type LinePitchSetting, scanLinePitch } from './line-pitch.js';
import { LINE_RATE_HZ_RANGE, PIXEL_MM_RANGE } from '../../config/schema/scanner.js';
import {
  MAX_SCAN_PIXELS,
  type AbortReason,
  type CompletedScan,
  type DeviceState,
  type ScanImage,
  type ScanMeta,
  type VehicleInfo,
} from '../../core/domain.js';
import type { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import { deviceStatus } from '../../core/health.js';
import type { StreamedLowEnergyScale } from '../../core/dual-energy-scale.js';
import type { Logger } from '../../core/logger.js';
import { uuidv7 } from '../../core/ids.js';
import { ASSEMBLER_DEFAULTS, LineAssembler } from './line-assembler.js';
import type { LineStreamCounters } from './protocol/frame-parser.js';
import type { Frame, LineFrame, ScanBeginFrame, ScanEndFrame } from './protocol/frames.js';

/** What the translator counts about scans (on top of the parser's frame counters). */
export interface ScanCounters {
  scansBegun: number;
  scansCompleted: number;
  scansAborted: number;
  /** Lines that never arrived and were filled by interpolation. */
  missingLines: number;
  /** Lines for no open scan, of a wrong shape, beyond the line limit, or repeated: dropped. */
  droppedLines: number;
  /** Lines that arrived after their slot had been filled: the real line replaced the fill. */
  lateLines: number;
  /** Scan-begins refused for a header field out of range (pixel pitch, line rate, announced length). */
  headerErrors: number;
  /**
   * Scans read with lines as far apart as the channels because scanner.lineMm could not be applied
   * ('speed' without a speed or line rate, or a line pitch from them out of range).
   */
  linePitchFallbacks: number;
  /** Scan-ends declaring far more lines than arrived (see LineAssembler.finish): not filled in. */
  lineCountErrors: number;
  /** Scan-begins flagged as resent (the scanner got no ack of the scan's end on an earlier link). */
  resentScans: number;
  /** Resent scans this lane had already begun (and so reports once): not opened again. */
  resentDuplicates: number;
}

export interface ScannerTranslatorOptions {
  laneId: string;
  /** Device name in status messages (config scanner.id), e.g. "scanner". */
  device: string;
  bus: EventBus<LaneEvents>;
  log: Logger;
  /** Pixel pitch used when a scan-begin carries none (config scanner.pixelMm). */
  defaultPixelMm: number;
  /** How far apart a streamed scan's lines are (config scanner.lineMm; default 'pixel': square pixels). */
  lineMm?: LinePitchSetting;
  /** config scanner.scanTimeoutMs */
  scanTimeoutMs: number;
  batchLines?: number;
  batchMs?: number;
  maxLines?: number;
  /** Frame counters of the line stream, reported in the device status. */
  frameCounters?: LineStreamCounters;
  /**
   * The low-energy scale of streamed dual-energy scans (config scanner.lowEnergyScale): applied to
   * each scan's low-energy lines as they arrive, and fed every completed scan. Scans that arrive
   * as files are checked one by one by the file drop instead.
   */
  lowEnergyScale?: StreamedLowEnergyScale;
  /**
   * The edge scan id under which this lane already began the scan the scanner identifies by its
   * scan id and start time, or null. Asked only for a scan-begin flagged as resent: a scan found
   * is reported already (or will be, also across a restart) and is not opened again.
   */
  begunBefore?: (scannerScanId: string, startedAt: string) => string | null;
  now?: () => number;
}

export type LinkState = 'starting' | 'up' | 'down';

interface OpenScan {
  key: number;
  meta: ScanMeta;
  /** Kinds of dropped line already logged for this scan (each is logged once per scan, all are counted). */
  logged: Set<string>;
  /** Who asked this edge to abort the scan (hostAbortSent), if anyone. */
  abortRequested?: string;
}

/**
 * The one place where scanner driver events become lane events: line-protocol frames, link
 * changes and file-drop scans in; scan.begin, scan.lines, scan.end, scan.aborted and the
 * scanner's device.status out. Every scan that began ends in scan.end or scan.aborted.
 */
export class ScannerTranslator {
  readonly counters: ScanCounters = {
    scansBegun: 0,
    scansCompleted: 0,
    scansAborted: 0,
    missingLines: 0,
    droppedLines: 0,
    lateLines: 0,
    headerErrors: 0,
    linePitchFallbacks: 0,
    lineCountErrors: 0,
    resentScans: 0,
    resentDuplicates: 0,
  };
  readonly #options: ScannerTranslatorOptions;
  readonly #asm: LineAssembler;
  #open: OpenScan | null = null;
  /** Key of the last scan that ended, so stray lines after its end do not reopen it. */
  #lastKey: number | null = null;
  /** Key of the last resent scan not opened again (begun here before): its end is expected, not a stray. */
  #resentKey: number | null = null;
  #link: LinkState = 'starting';
  #linkDetail = 'connecting';
  #scannerState: string | null = null;
  #fault: string | null = null;
  #interlocksOk: boolean | null = null;
  #radiationOn: boolean | null = null;
  #speedKmh: number | null = null;
  /** Whether the hint that a scan's speed and line rate disagree with square pixels was logged. */
  #squareHinted = false;
  #deviceName: string | null = null;
  #published: { state: DeviceState; detail: string } | null = null;

  constructor(opts: ScannerTranslatorOptions) {
    this.#options = opts;
    this.#asm = new LineAssembler({
      batchLines: opts.batchLines ?? ASSEMBLER_DEFAULTS.batchLines,
      batchMs: opts.batchMs ?? ASSEMBLER_DEFAULTS.batchMs,
      maxLines: opts.maxLines ?? ASSEMBLER_DEFAULTS.maxLines,
      timeoutMs: opts.scanTimeoutMs,
      now: opts.now,
      onBatch: (b) => {
        const scanId = this.#open?.meta.scanId;
        if (scanId) this.#options.bus.emit('scan.lines', { scanId, ...b });
      },
      onTimeout: (silentMs) =>
        this.#abort('timeout', `no line for ${silentMs} ms (scanner.scanTimeoutMs ${opts.scanTimeoutMs})`),
    });
  }

  /** The id of the scan being received, if any. */
  get openScanId(): string | null {
    return this.#open?.meta.scanId ?? null;
  }

  /** One decoded frame from the line stream. */
  frame(f: Frame): void {
    switch (f.type) {
      case 'line':
        this.#line(f);
        return;
      case 'scanBegin':
        this.#begin(f);
        return;
      case 'scanEnd':
        this.#end(f);
        return;
      case 'fault': {
        this.#fault = `fault ${f.code}: ${f.text}`;
        if (this.#open) this.#abort('scanner-fault', `scanner reported ${this.#fault}`);
        this.publishStatus();
        return;
      }
      case 'status': {
        const changed =
          f.state !== this.#scannerState ||
          f.interlocksOk !== this.#interlocksOk ||
          f.radiationOn !== this.#radiationOn;
        this.#scannerState = f.state;
        this.#interlocksOk = f.interlocksOk;
        this.#radiationOn = f.radiationOn;
        this.#speedKmh = f.speedKmh;
        this.#fault = f.state === 'fault' ? (this.#fault ?? 'scanner state is fault') : null;
        // Republished with fresh info when the scanner's state changes, even if its health does not.
        this.publishStatus(changed);
        return;
      }
      case 'hello':
        if (this.#open)
          this.#abort(
            'link-lost',
            `scanner restarted its session (hello from ${f.device} ${f.firmware}) during the scan`,
          );
        this.#deviceName = `${f.device} ${f.firmware}`.trim();
        this.#fault = null;
        this.publishStatus();
        return;
      case 'heartbeat':
        return;
      default:
        this.#options.log.debug(
          { type: f.type, seq: f.seq },
          `${this.#options.device}: host command frame ${f.type} received from the scanner; ignored`,
        );
    }
  }

  /** The line stream's link changed. Losing it aborts the open scan with 'link-lost'. */
  link(state: LinkState, detail: string): void {
    this.#link = state;
    this.#linkDetail = detail;
    if (state === 'down' && this.#open) this.#abort('link-lost', `link to the scanner lost during the scan: ${detail}`);
    if (state !== 'up') {
      // What the scanner last said of itself is unknown until it says it again.
      this.#scannerState = null;
      this.#interlocksOk = null;
      this.#radiationOn = null;
      this.#speedKmh = null;
    }
    if (state === 'up') this.#fault = null;
    this.publishStatus();
  }

  /**
   * A whole scan that arrived as files: scan.begin then scan.end, source 'file'. `scanId` is the
   * edge's (minted by the caller, runtime/ids.ts); `scannerScanId` the sidecar's id or the file
   * stem. Returns the edge's scan id.
   */
  fileScan(meta: Omit<ScanMeta, 'laneId' | 'source'>, image: ScanImage, endedAt: string): string {
    const full: ScanMeta = { ...meta, laneId: this.#options.laneId, source: 'file' };
    this.counters.scansBegun++;
    this.#options.bus.emit('scan.begin', full);
    const scan: CompletedScan = { meta: full, endedAt, image };
    this.counters.scansCompleted++;
    this.#options.bus.emit('scan.end', scan);
    return full.scanId;
  }

  /**
   * The scanner reported a fault another way than on the line stream (its OPC UA status): the
   * open scan, if any, is aborted with 'scanner-fault' and `faultText` as the detail.
   */
  scannerFault(faultText: string): void {
    if (this.#open) this.#abort('scanner-fault', faultText);
  }

  /**
   * This edge sent the scanner an abort for the open scan (line-protocol abort frame or OPC UA
   * Abort), on `by`'s request: the scan-end of outcome 1 that answers it is an operator abort.
   */
  hostAbortSent(by: string): void {
    if (this.#open) this.#open.abortRequested = by;
  }

  /** Ends whatever is open (the bridge is stopping): reported as aborted, never dropped. */
  close(detail: string): void {
    if (this.#open) this.#abort('link-lost', detail);
  }

  /** Publishes the scanner's device.status with its counters (also called periodically by the service). */
  publishStatus(force = false): void {
    const low = this.#options.lowEnergyScale?.state;
    let state: DeviceState;
    let detail: string;
    if (this.#link === 'starting') {
      state = 'starting';
      detail = this.#linkDetail;
    } else if (this.#link === 'down') {
      state = 'disconnected';
      detail = this.#linkDetail;
    } else if (this.#fault) {
      state = 'fault';
      detail = this.#fault;
    } else {
      // The scanner's own state (ready, scanning...) is in info: it changes every vehicle and is not a health change.
      state = low?.degraded ? 'degraded' : 'ok';
      detail = low?.note ? `${this.#linkDetail}; ${low.note}` : this.#linkDetail;
    }
    const unchanged = this.#published && this.#published.state === state && this.#published.detail === detail;
    if (unchanged && !force) return;
    this.#published = { state, detail };
    const info: Record<string, string | number | boolean | null> = {
      ...(this.#options.frameCounters ?? {}),
      ...this.counters,
    };
    info.scannerState = this.#scannerState;
    info.interlocksOk = this.#interlocksOk;
    info.radiationOn = this.#radiationOn;
    info.speedKmh = this.#speedKmh;
    info.device = this.#deviceName;
    if (low && (low.scans > 0 || low.scale !== 1)) {
      info.lowEnergyScale = Math.round(low.scale * 1e4) / 1e4;
      info.lowEnergyRatio = low.ratio ?? null;
      info.lowEnergyScans = low.scans;
    }
    this.#options.bus.emit('device.status', deviceStatus(this.#options.device, state, detail, info));
  }

  #begin(f: ScanBeginFrame): void {
    if (this.#open) this.#abort('link-lost', `no scan-end received before scan key ${f.scanKey} began`);
    const vehicle: VehicleInfo = {};
    if (f.plate) vehicle.plate = f.plate;
    if (f.containerCode) vehicle.containerCode = f.containerCode;
    if (f.vehicleClass) vehicle.class = f.vehicleClass;
    if (f.speedKmh !== null) vehicle.speedKmh = f.speedKmh;
    const startedAt = Number.isFinite(f.startedAtMs) && f.startedAtMs > 0 ? new Date(f.startedAtMs) : new Date();
    if (f.resent) {
      this.counters.resentScans++;
      const before = f.scanId ? (this.#options.begunBefore?.(f.scanId, startedAt.toISOString()) ?? null) : null;
      if (before !== null) {
        // Its lines and its end are dropped as those of a closed scan; the end is still acknowledged.
        this.counters.resentDuplicates++;
        this.#lastKey = f.scanKey;
        this.#resentKey = f.scanKey;
        this.#options.log.info(
          { scannerScanId: f.scanId, scanId: before, scanKey: f.scanKey },
          `${this.#options.device}: scan ${f.scanId} sent again by the scanner (its scan-end was not acknowledged) was begun here before as edge scan ${before} and is reported under that id; not opened again`,
        );
        this.publishStatus(true);
        return;
      }
    }
    const problem = scanBeginProblem(f, this.#options.maxLines ?? ASSEMBLER_DEFAULTS.maxLines);
    const meta: ScanMeta = {
      scanId: uuidv7(),
      scannerScanId: f.scanId || this.#derivedId(f.scanKey, startedAt),
      laneId: this.#options.laneId,
      startedAt: startedAt.toISOString(),
      channels: f.channels,
      energies: f.energies,
      pixelMm: f.pixelMm > 0 && Number.isFinite(f.pixelMm) && !problem ? f.pixelMm : this.#options.defaultPixelMm,
      ...(f.lineRateHz > 0 && Number.isFinite(f.lineRateHz) && !problem ? { lineRateHz: f.lineRateHz } : {}),
      ...(Object.keys(vehicle).length ? { vehicle } : {}),
      source: 'stream',
      ...(f.resent ? { resent: true } : {}),
    };
    if (problem) {
      // Not opened (nothing is sized from a header out of range), but reported: an aborted scan,
      // never a silent one. Its lines are dropped as lines of a closed scan.
      this.counters.headerErrors++;
      this.counters.scansBegun++;
      this.counters.scansAborted++;
      this.#lastKey = f.scanKey;
      const detail = `scan-begin refused: ${problem} (see docs/protocols/scanner-line-protocol.md)`;
      this.#options.log.warn(
        { scanId: meta.scanId, scannerScanId: meta.scannerScanId, scanKey: f.scanKey },
        `${this.#options.device}: scan ${scanLabel(meta)} ${detail}`,
      );
      this.#options.bus.emit('scan.aborted', {
        scanId: meta.scanId,
        laneId: this.#options.laneId,
        reason: 'scanner-fault',
        detail,
        at: new Date().toISOString(),
        meta,
      });
      this.publishStatus(true);
      return;
    }
    this.#setLinePitch(meta, f.speedKmh, meta.lineRateHz);
    this.#openScan(f.scanKey, meta, f.expectedLines);
  }

  /** Sets the scan's line pitch as scanner.lineMm says; a setting that cannot be applied is counted and logged. */
  #setLinePitch(meta: ScanMeta, speedKmh: number | null, lineRateHz: number | undefined): void {
    const pitch = scanLinePitch(this.#options.lineMm ?? 'pixel', meta.pixelMm, { speedKmh, lineRateHz });
    if (pitch.lineMm !== undefined) meta.lineMm = pitch.lineMm;
    if (pitch.problem) {
      this.counters.linePitchFallbacks++;
      this.#options.log.warn(
        { scanId: meta.scanId, scannerScanId: meta.scannerScanId },
        `${this.#options.device}: scan ${scanLabel(meta)}: ${pitch.problem}; ${LINE_PITCH_FALLBACK}`,
      );
    }
    if (pitch.implied !== undefined && !this.#squareHinted) {
      // Once: a scanner that resamples its lines sends a speed and line rate that do not make its pitch.
      this.#squareHinted = true;
      this.#options.log.warn(
        { scanId: meta.scanId, scannerScanId: meta.scannerScanId },
        `${this.#options.device}: scan ${scanLabel(meta)}: its speed (${round2(speedKmh ?? 0)} km/h) and line rate (${round2(lineRateHz ?? 0)} lines/s) put its lines ${pitch.implied} mm apart, but scanner.lineMm 'pixel' reads them ${meta.pixelMm} mm apart; unless the scanner resamples its lines to the channels' pitch, set scanner.lineMm: speed (said once)`,
      );
    }
  }

  #openScan(key: number, meta: ScanMeta, expectedLines: number): void {
    this.#open = { key, meta, logged: new Set() };
    this.#resentKey = null;
    this.#fault = null;
    const lowLut = meta.energies === 2 ? (this.#options.lowEnergyScale?.lut ?? null) : null;
    this.#asm.begin({
      channels: meta.channels,
      energies: meta.energies,
      pixelMm: meta.pixelMm,
      ...(meta.lineMm !== undefined ? { lineMm: meta.lineMm } : {}),
      expectedLines,
      lowLut,
    });
    this.counters.scansBegun++;
    this.#options.bus.emit('scan.begin', meta);
    this.publishStatus();
  }

  #line(f: LineFrame): void {
    const open = this.#open;
    if (!open) {
      if (f.scanKey === this.#lastKey) {
        this.counters.droppedLines++;
        return;
      }
      // Its scan-begin was lost: open the scan from what the line says, so the scan is still reported.
      const energies = f.energyMask === 1 ? 1 : 2;
      const now = new Date();
      const meta: ScanMeta = {
        scanId: uuidv7(),
        scannerScanId: this.#derivedId(f.scanKey, now),
        laneId: this.#options.laneId,
        startedAt: now.toISOString(),
        channels: f.channels,
        energies,
        pixelMm: this.#options.defaultPixelMm,
        source: 'stream',
      };
      this.#options.log.warn(
        { scanKey: f.scanKey, offset: f.offset },
        `${this.#options.device}: line for scan key ${f.scanKey} without its scan-begin (lost); scan opened from the line (${f.channels} channels, ${energies} energies, pixel ${this.#options.defaultPixelMm} mm from config)`,
      );
      // No line rate without the scan-begin: a fixed scanner.lineMm still applies, 'speed' cannot.
      this.#setLinePitch(meta, this.#speedKmh, undefined);
      this.#openScan(f.scanKey, meta, 0);
      this.#line(f);
      return;
    }
    const outcome =
      f.scanKey !== open.key ? 'other-scan' : this.#asm.addLine(f.lineIndex, f.channels, f.energyMask, f.samples);
    if (outcome === 'late') this.counters.lateLines++;
    else if (outcome !== 'added') {
      this.counters.droppedLines++;
      if (!open.logged.has(outcome)) {
        open.logged.add(outcome);
        const why: Record<string, string> = {
          'other-scan': `it belongs to scan key ${f.scanKey}, not the open scan's ${open.key}`,
          duplicate: 'it arrived twice',
          'out-of-range': 'its index is beyond the largest scan accepted',
          shape: `${f.channels} channels / energy mask ${f.energyMask} differ from the scan-begin's ${open.meta.channels} channels / ${open.meta.energies} energies`,
          'no-scan': 'no scan is open',
        };
        this.#options.log.warn(
          { scanId: open.meta.scanId, scannerScanId: open.meta.scannerScanId, lineIndex: f.lineIndex, outcome },
          `${this.#options.device}: line ${f.lineIndex} of scan ${scanLabel(open.meta)} dropped: ${why[outcome] ?? outcome} (further such lines of this scan are counted in droppedLines, not logged)`,
        );
      }
    }
  }

  #end(f: ScanEndFrame): void {
    const open = this.#open;
    if (!open && f.scanKey === this.#resentKey) return; // the end of a resent scan begun here before
    if (!open || open.key !== f.scanKey) {
      this.#options.log.warn(
        { scanKey: f.scanKey },
        `${this.#options.device}: scan-end for scan key ${f.scanKey}, which is not open; ignored`,
      );
      return;
    }
    if (f.outcome === 'aborted-by-host') {
      // Outcome 1 answers an abort command: an operator's only when this edge sent one for the scan.
      if (open.abortRequested)
        this.#abort(
          'operator-abort',
          `the scanner ended the scan on the abort command sent by this edge (${open.abortRequested})`,
        );
      else
        this.#abort(
          'scanner-fault',
          "the scanner ended the scan as aborted on a host abort command, but this edge sent none for it (another host, or the scanner's own console?)",
        );
      return;
    }
    if (f.outcome === 'aborted-by-scanner') {
      this.#abort('scanner-fault', 'the scanner ended the scan as aborted');
      return;
    }
    if (this.#asm.received === 0) {
      this.#abort('scanner-fault', `the scanner closed the scan without sending any line (announced ${f.lineCount})`);
      return;
    }
    const image = this.#asm.finish(f.lineCount);
    const beyond = this.#asm.declaredBeyond;
    this.#closed(open);
    this.counters.scansCompleted++;
    this.counters.missingLines += countMissing(image) + (beyond !== null ? beyond - image.width : 0);
    if (beyond !== null) {
      this.counters.lineCountErrors++;
      this.#options.log.warn(
        {
          scanId: open.meta.scanId,
          scannerScanId: open.meta.scannerScanId,
          declared: beyond,
          arrived: this.#asm.received,
        },
        `${this.#options.device}: scan-end of ${scanLabel(open.meta)} declares ${beyond} lines but the scan ends at line ${image.width} (${this.#asm.received} arrived): protocol error, the missing lines are not filled in and the scan is reported incomplete`,
      );
    }
    const endedAt = Number.isFinite(f.endedAtMs) && f.endedAtMs > 0 ? new Date(f.endedAtMs) : new Date();
    this.#options.bus.emit('scan.end', {
      meta: open.meta,
      endedAt: endedAt.toISOString(),
      image,
      ...(beyond !== null ? { declaredLines: beyond } : {}),
    });
    this.#readLowEnergy(open, image);
  }

  /** Feeds a completed streamed scan to the lane's low-energy scale; a new factor is logged and said in the status. */
  #readLowEnergy(open: OpenScan, image: ScanImage): void {
    const scale = this.#options.lowEnergyScale;
    if (!scale || !image.low) return;
    if (!scale.observe(image.high, image.low)) return;
    const st = scale.state;
    this.#options.log[st.degraded || st.scale !== 1 ? 'warn' : 'info'](
      { scanId: open.meta.scanId, lowEnergyScale: st.scale, lowEnergyRatio: st.ratio, scans: st.scans },
      `${this.#options.device}: ${st.note ?? `the low/high attenuation ratio of the vehicles' steel reads ${st.ratio} (median of the last ${st.scans} scans), inside the training scanner's range: low-energy lines are taken as sent`}`,
    );
    this.publishStatus();
  }

  #abort(reason: AbortReason, detail: string): void {
    const open = this.#open;
    if (!open) return;
    const partial = this.#asm.abort();
    this.#closed(open);
    this.counters.scansAborted++;
    if (partial) this.counters.missingLines += countMissing(partial);
    this.#options.log.warn(
      { scanId: open.meta.scanId, scannerScanId: open.meta.scannerScanId, reason, lines: partial?.width ?? 0 },
      `${this.#options.device}: scan ${scanLabel(open.meta)} aborted (${reason}): ${detail}`,
    );
    this.#options.bus.emit('scan.aborted', {
      scanId: open.meta.scanId,
      laneId: this.#options.laneId,
      reason,
      detail,
      at: new Date().toISOString(),
      meta: open.meta,
      ...(partial ? { partial } : {}),
    });
  }

  #closed(open: OpenScan): void {
    this.#lastKey = open.key;
    this.#open = null;
  }

  #derivedId(key: number, at: Date): string {
    return `${this.#options.device}-${at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${key}`;
  }
}

/**
 * What is wrong with a scan-begin's header, or null. Channels and energies are checked by the
 * frame decoder; the pixel pitch and line rate must be 0 (not given) or in the config's ranges,
 * and the announced length within the largest scan accepted.
 */
export function scanBeginProblem(
  f: Pick<ScanBeginFrame, 'pixelMm' | 'lineRateHz' | 'expectedLines' | 'channels'>,
  maxLines: number,
): string | null {
  const given = (v: number) => !(v === 0 || Number.isNaN(v));
  if (given(f.pixelMm) && !(f.pixelMm >= PIXEL_MM_RANGE.min && f.pixelMm <= PIXEL_MM_RANGE.max)) {
    return `pixel pitch ${f.pixelMm} mm outside ${PIXEL_MM_RANGE.min}-${PIXEL_MM_RANGE.max} mm`;
  }
  if (given(f.lineRateHz) && !(f.lineRateHz >= LINE_RATE_HZ_RANGE.min && f.lineRateHz <= LINE_RATE_HZ_RANGE.max)) {
    return `line rate ${f.lineRateHz} Hz outside ${LINE_RATE_HZ_RANGE.min}-${LINE_RATE_HZ_RANGE.max} Hz`;
  }
  const most = Math.min(maxLines, Math.floor(MAX_SCAN_PIXELS / f.channels));
  if (f.expectedLines > most)
    return `announced length ${f.expectedLines} lines beyond the largest scan accepted (${most} lines of ${f.channels} channels)`;
  return null;
}

/** How logs name a scan: the scanner's id (what people know) with the edge's. */
export function scanLabel(meta: Pick<ScanMeta, 'scanId' | 'scannerScanId'>): string {
  return meta.scannerScanId ? `${meta.scannerScanId} (edge ${meta.scanId})` : meta.scanId;
}

function countMissing(img: ScanImage): number {
  let n = 0;
  if (img.missing) for (let i = 0; i < img.missing.length; i++) n += img.missing[i];
  return n;
}
