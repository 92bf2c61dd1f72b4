import type {
  Alert,
  CompletedScan,
  Detection,
  Region,
  ScanImage,
  ScanMeta,
  ScanResult,
  Verdict,
  VehicleInfo,
  WatchlistHit,
} from '../core/domain.js';
import type { Detector, StreamingAnalysis } from '../core/detector.js';
import { SchemaTooNewError } from '../core/sqlite-schema.js';
import type { EvidenceCollector } from '../core/evidence-collector.js';
import type { EventBus } from '../core/event-bus.js';
import type { LaneEvents } from '../core/events.js';
import { deviceStatus } from '../core/health.js';
import type { Logger } from '../core/logger.js';
import { uuidv7 } from '../core/ids.js';
import { MemoryScanJournal, type ScanJournal } from './scan-journal.js';
import { ScanSession } from './scan-session.js';
import type { FusionConfig } from '../config/schema/sensors.js';
import { fuse, SenseReadings } from './fusion.js';
import type { Service } from '../core/service.js';

/** Alert threshold for a model that names no operating point and a lane that sets none. */
export const DEFAULT_ALERT = 0.5;

export interface Thresholds {
  /**
   * Scan score at or above which the verdict is 'person' and an alert is raised. Undefined: the
   * lane default the detection's model ships with (its operating point, or its held-out point where its
   * manifest says so), else DEFAULT_ALERT. 'held-out': the model's operating point chosen on families it
   * never trained on (else its own, with a warning).
   */
  alert?: number | 'held-out';
  /** Regions scoring below this are not reported. */
  region: number;
  /** 'require': a dual-energy scan is a person only with a body-plausible region (config lanes[].thresholds.bodyEvidence). Default 'report'. */
  bodyEvidence?: 'report' | 'require';
  /**
   * Largest share of a scan's lines that may be missing (never arrived, filled in) for a 'clear'
   * verdict; above it the verdict is 'unavailable'. Default DEFAULT_MISSING.share (5 %).
   */
  maxMissingShare?: number;
  /**
   * Longest run of consecutive missing lines, in metres along the vehicle (lines x line pitch, scanner.lineMm),
   * for a 'clear' verdict: a person fits in a longer gap. Default DEFAULT_MISSING.runM (0.5 m).
   */
  maxMissingRunM?: number;
}

/** Defaults of Thresholds.maxMissingShare and maxMissingRunM. */
export const DEFAULT_MISSING = { share: 0.05, runM: 0.5 } as const;

export interface LanePipelineOptions {
  siteId: string;
  laneId: string;
  bus: EventBus<LaneEvents>;
  detector: Detector;
  thresholds: Thresholds;
  log: Logger;
  evidence?: EvidenceCollector;
  /**
   * The lane's CO2 and heartbeat senses: which are configured and how they are fused with the
   * X-ray verdict. Absent: a lane without sensors, whose results carry no fusion.
   */
  fusion?: { config: FusionConfig; configured: { co2: boolean; heartbeat: boolean } };
  /**
   * Durable record of scans begun and not yet decided (runtime/scan-journal.ts): written at
   * scan.begin, cleared once the result and alert are in the outbox; what an earlier run left
   * is reported as aborted ('edge-restarted') at start. Opened in start(), closed in stop().
   */
  openJournal?: () => ScanJournal;
}

/** One scan in hand: its state machine, its analysis and what was learnt of the vehicle. */
interface ScanInHand {
  session: ScanSession;
  analysis: StreamingAnalysis | null;
  analysisError: string | null;
  vehicle: VehicleInfo;
  /** Watchlist hits on this vehicle's reads, shown with its verdict. */
  watchlist: WatchlistHit[];
}

/** A watchlist hit on a read between scans is kept this long for the scan its read is attached to (as ANPR reads are held). */
const HIT_HOLD_MS = 30_000;

/**
 * The lane's decision loop: scanner events in, one ScanResult (and alerts) out per scan.
 * Every scan ends in scan.decided, completed or aborted; a scan that could not be screened
 * is 'unavailable' and raises an alert, never 'clear'. A scan being analysed keeps its own
 * ScanSession, so the next vehicle can begin while the previous verdict is still being made.
 */
export class LanePipeline implements Service {
  readonly name: string;
  readonly #options: LanePipelineOptions;
  /** Scans begun and not yet decided or aborted, by scan id. */
  readonly #inHand = new Map<string, ScanInHand>();
  /** The scan whose lines are arriving now. */
  #open: ScanInHand | null = null;
  /** The most recent scan (what the console shows as the lane's scan state). */
  #latest: ScanSession = new ScanSession();
  #unsubscribe: (() => void)[] = [];
  #pending = new Set<Promise<void>>();
  #decided = 0;
  #threshold: number | undefined;
  /** Sensor readings of the last minutes, for the fused decision (lanes with sensors). */
  readonly #readings: SenseReadings | null;
  /** When the previous scan ended: readings before it belong to the previous vehicle. */
  #previousEndMs = 0;
  #journal: ScanJournal | null = null;
  /** Watchlist hits not yet with their scan: on a read held for the next scan, or raised as the scan began. */
  #heldHits: { hit: WatchlistHit; scanId: string | null; at: number }[] = [];

  constructor(opts: LanePipelineOptions) {
    this.#options = opts;
    this.#readings = opts.fusion ? new SenseReadings((opts.fusion.config.windowBeforeScanS + 600) * 1000) : null;
    this.name = `lane-pipeline:${opts.laneId}`;
  }

  /** The state machine of the lane's most recent scan. */
  get session(): ScanSession {
    return this.#latest;
  }

  get decidedCount(): number {
    return this.#decided;
  }

  async start(): Promise<void> {
    const { bus } = this.#options;
    const owner = this.name;
    this.#unsubscribe = [
      bus.on('scan.begin', owner, (m) => this.#begin(m)),
      bus.on('scan.lines', owner, (b) => {
        const open = this.#open;
        if (!open || b.scanId !== open.session.scanId) return;
        open.session.addLines(b.count);
        open.analysis?.pushLines(b);
      }),
      bus.on('scan.end', owner, (s) => this.#track(this.#end(s))),
      bus.on('scan.aborted', owner, (a) => this.#track(this.#aborted(a))),
      bus.on('vehicle.plate', owner, (p) => {
        const target = this.#open ?? null;
        if (!target) return;
        if (p.plate) target.vehicle.plate = p.plate;
        if (p.containerCode) target.vehicle.containerCode = p.containerCode;
        // A read held for this scan: the hits on it come with it.
        target.watchlist.push(
          ...this.#takeHeld(
            (h) => h.scanId === null && (h.hit.read.value === p.plate || h.hit.read.value === p.containerCode),
          ),
        );
      }),
      bus.on('alert.raised', owner, (a) => {
        if (a.kind === 'watchlist' && a.watchlist) this.#watchlistHit(a.scanId, a.watchlist);
      }),
      bus.on('sensor.reading', owner, (r) => this.#readings?.add(r)),
      this.#options.detector.onStatus((s) => this.#publishModelStatus(s.state === 'ready' ? undefined : s.reason)),
    ];
    this.#publishModelStatus(
      this.#options.detector.status.state === 'ready' ? undefined : this.#options.detector.status.reason,
    );
    this.#recover();
  }

  /**
   * Scans the journal holds from an earlier run never got a result: each becomes an aborted
   * result and a scan-aborted alert with reason 'edge-restarted', published like any other.
   */
  #recover(): void {
    if (!this.#options.openJournal) return;
    try {
      this.#journal = this.#options.openJournal();
    } catch (err) {
      // Written by a newer release (a rollback): the lane does not start rather than lose track of it.
      if (err instanceof SchemaTooNewError) throw err;
      this.#journal = new MemoryScanJournal();
      this.#options.log.error(
        { err },
        `lane ${this.#options.laneId}: ${(err as Error).message}; open scans are journaled in memory only, so a scan open when the process dies is not reported: fix the file and restart`,
      );
      return;
    }
    const journal = this.#journal;
    let left: ReturnType<typeof journal.unfinished>;
    try {
      left = journal.unfinished();
    } catch (err) {
      this.#options.log.error(
        { err },
        `lane ${this.#options.laneId}: the open-scan journal cannot be read (${(err as Error).message}); scans open at the last stop, if any, are not reported`,
      );
      return;
    }
    if (left.length === 0) return;
    const decided = left.filter((e) => e.decided);
    const open = left.filter((e) => !e.decided);
    for (const e of decided) {
      // Decided, and maybe handed on, when the edge stopped: the same result and alerts (same ids)
      // are handed on again, so a subscriber that has them keeps one; never an abort beside them.
      const d = e.decided!;
      this.#options.log.warn(
        { scanId: e.meta.scanId, scannerScanId: e.meta.scannerScanId },
        `lane ${this.#options.laneId}: scan ${e.meta.scanId} was decided (${d.result.verdict}) just before the edge stopped; its result is handed on again with the same ids`,
      );
      this.#decided++;
      this.#options.bus.emit('scan.decided', { result: d.result, again: true });
      for (const a of d.alerts) this.#options.bus.emit('alert.raised', a);
      this.#closeJournal(d.result.scanId);
    }
    if (open.length === 0) return;
    this.#options.log.warn(
      { scans: open.map((e) => e.meta.scanId) },
      `lane ${this.#options.laneId}: ${open.length} scan(s) were open when the edge last stopped; reported as aborted (edge-restarted)`,
    );
    const at = new Date().toISOString();
    for (const e of open) {
      this.#track(
        this.#aborted({
          scanId: e.meta.scanId,
          laneId: this.#options.laneId,
          reason: 'edge-restarted',
          detail: `the edge stopped (crash, kill or power loss) before the scan was decided; it began at ${e.meta.startedAt} and was found open at the restart`,
          at,
          meta: e.meta,
        }),
      );
    }
  }

  /**
   * The edge scan id under which this lane began the scan the scanner names by `scannerScanId`
   * and start time, or null: a resent scan found here is reported already (see ScanJournal).
   */
  begunBefore(scannerScanId: string, startedAt: string): string | null {
    try {
      return this.#journal?.begunBefore(scannerScanId, startedAt) ?? null;
    } catch (err) {
      this.#options.log.error(
        { err, scannerScanId },
        `lane ${this.#options.laneId}: the open-scan journal cannot be read (${(err as Error).message}); resent scan ${scannerScanId} is taken as a new scan`,
      );
      return null;
    }
  }

  /** Waits for scans being decided, so that their results reach the outbox before it closes. */
  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    await Promise.allSettled([...this.#pending]);
    for (const s of this.#inHand.values()) s.analysis?.cancel();
    this.#journal?.shut();
    this.#journal = null;
  }

  #track(p: Promise<void>): void {
    this.#pending.add(p);
    p.catch((err: unknown) =>
      this.#options.log.error(
        { err },
        `lane ${this.#options.laneId}: deciding a scan failed: ${(err as Error).message}`,
      ),
    ).finally(() => this.#pending.delete(p));
  }

  /** Keeps a (never covert) watchlist hit with its scan, or until its scan begins or its read is attached to one. */
  #watchlistHit(scanId: string | null, hit: WatchlistHit): void {
    const scan = scanId !== null ? this.#inHand.get(scanId) : this.#open;
    if (scan) {
      scan.watchlist.push(hit);
      return;
    }
    const now = Date.now();
    this.#heldHits = this.#heldHits.filter((h) => now - h.at <= HIT_HOLD_MS).slice(-20);
    this.#heldHits.push({ hit, scanId, at: now });
  }

  #takeHeld(which: (h: { hit: WatchlistHit; scanId: string | null }) => boolean): WatchlistHit[] {
    const now = Date.now();
    const taken = this.#heldHits.filter((h) => now - h.at <= HIT_HOLD_MS && which(h)).map((h) => h.hit);
    if (taken.length) this.#heldHits = this.#heldHits.filter((h) => !taken.includes(h.hit));
    return taken;
  }

  #publishModelStatus(reason: string | undefined): void {
    const st = this.#options.detector.status;
    this.#options.bus.emit(
      'device.status',
      reason === undefined && st.state === 'ready'
        ? deviceStatus('model', 'ok', `${st.model.name} ${st.model.version}`)
        : deviceStatus('model', 'unavailable', `detection unavailable: ${reason ?? 'unknown reason'}`),
    );
  }

  #begin(meta: ScanMeta): void {
    const open = this.#open;
    if (open && open.session.state === 'scanning') {
      // A new scan while one is still receiving lines means the scanner lost the previous one's end.
      const prevId = open.session.scanId!;
      this.#options.log.warn(
        { scanId: prevId, next: meta.scanId },
        `scan ${prevId} still open when ${meta.scanId} began; aborting it`,
      );
      this.#track(
        this.#aborted({
          scanId: prevId,
          laneId: this.#options.laneId,
          reason: 'link-lost',
          detail: `superseded by scan ${meta.scanId} before its end`,
          at: new Date().toISOString(),
        }),
      );
    }
    try {
      this.#journal?.open(meta);
    } catch (err) {
      this.#options.log.error(
        { err, scanId: meta.scanId },
        `lane ${this.#options.laneId}: scan ${meta.scanId} could not be journaled (${(err as Error).message}); if the edge stops before it is decided, it is not reported: check the lane's data folder`,
      );
    }
    const session = new ScanSession();
    session.begin(meta);
    const scan: ScanInHand = {
      session,
      analysis: null,
      analysisError: null,
      vehicle: { ...(meta.vehicle ?? {}) },
      watchlist: this.#takeHeld((h) => h.scanId === meta.scanId),
    };
    const det = this.#options.detector;
    if (det.status.state === 'ready') {
      try {
        scan.analysis = det.begin(meta);
      } catch (err) {
        scan.analysisError = (err as Error).message;
      }
    }
    this.#inHand.set(meta.scanId, scan);
    this.#open = scan;
    this.#latest = session;
  }

  async #end(completed: CompletedScan): Promise<void> {
    const scan = this.#inHand.get(completed.meta.scanId);
    if (scan?.session.state !== 'scanning') {
      this.#options.log.warn(
        { scanId: completed.meta.scanId, state: scan?.session.state ?? 'unknown' },
        `scan-end for ${completed.meta.scanId} that is not an open scan; ignored`,
      );
      return;
    }
    const s = scan.session;
    s.end();
    if (this.#open === scan) this.#open = null;
    const analysis = scan.analysis;
    let detection: Detection | null = null;
    let unavailable: string | null = null;
    if (!analysis) {
      const st = this.#options.detector.status;
      unavailable =
        scan.analysisError ?? (st.state === 'unavailable' ? st.reason : 'detector was not ready when the scan began');
    } else {
      try {
        detection = await analysis.finish(completed);
      } catch (err) {
        unavailable = `inference failed: ${(err as Error).message}`;
        this.#options.log.error(
          { err, scanId: completed.meta.scanId },
          `inference failed on scan ${completed.meta.scanId}`,
        );
      }
    }
    // Aborted while being analysed (e.g. a late fault): the abort was reported already.
    if (s.state !== 'analysing') return;
    const { thresholds } = this.#options;
    let verdict: Verdict = 'unavailable';
    const alert = detection ? alertThreshold(thresholds, detection) : undefined;
    if (alert && alert.value !== this.#threshold) {
      // Said when it is first known and whenever it changes (another model with another operating point).
      this.#options.log[alert.warning ? 'warn' : 'info'](
        { threshold: alert.value, source: alert.source },
        `lane ${this.#options.laneId} decides at alert threshold ${alert.value} (${alert.source})`,
      );
      this.#threshold = alert.value;
    }
    const regions = detection ? detection.regions.filter((r) => r.score >= thresholds.region) : [];
    if (detection && alert)
      verdict =
        detection.score >= alert.value &&
        bodyEvidenceAllows(thresholds.bodyEvidence, regions, completed.image.low !== undefined)
          ? 'person'
          : 'clear';
    const gaps = missingLines(completed);
    const tooIncomplete = incompleteness(gaps, completed.image.lineMm ?? completed.image.pixelMm, thresholds);
    // A lane never calls clear what it did not see; a person found in what it did see still stands.
    if (tooIncomplete && verdict === 'clear') {
      verdict = 'unavailable';
      unavailable = tooIncomplete;
    }
    const missing = gaps.missing;
    const result: ScanResult = {
      scanId: completed.meta.scanId,
      ...(completed.meta.scannerScanId !== undefined ? { scannerScanId: completed.meta.scannerScanId } : {}),
      laneId: this.#options.laneId,
      siteId: this.#options.siteId,
      startedAt: completed.meta.startedAt,
      endedAt: completed.endedAt,
      decidedAt: new Date().toISOString(),
      outcome: 'completed',
      verdict,
      ...(unavailable ? { unavailableReason: unavailable } : {}),
      score: detection ? detection.score : null,
      ...(alert ? { threshold: alert.value } : {}),
      regions,
      model: detection ? detection.model : null,
      vehicle: { ...scan.vehicle },
      lines: completed.image.width,
      channels: completed.image.height,
      ...(completed.image.lineMm !== undefined ? { lineMm: completed.image.lineMm } : {}),
      missingLines: missing,
      evidence: [],
      ...(scan.watchlist.length ? { watchlist: [...scan.watchlist] } : {}),
    };
    s.decide();
    this.#inHand.delete(completed.meta.scanId);
    await this.#publish(result, completed.image);
  }

  async #aborted(a: LaneEvents['scan.aborted']): Promise<void> {
    const scan = this.#inHand.get(a.scanId);
    if (scan) {
      if (!scan.session.active) return; // already decided or aborted
      scan.session.abort(a.reason);
      scan.analysis?.cancel();
      this.#inHand.delete(a.scanId);
      if (this.#open === scan) this.#open = null;
    }
    // An abort for a scan the pipeline never saw begin (e.g. a fault before the first frame) is still reported.
    const meta = scan?.session.meta ?? a.meta ?? null;
    const lineMm = a.partial?.lineMm ?? meta?.lineMm;
    const vehicle = scan ? { ...scan.vehicle } : { ...(a.meta?.vehicle ?? {}) };
    const result: ScanResult = {
      scanId: a.scanId,
      ...(meta?.scannerScanId !== undefined ? { scannerScanId: meta.scannerScanId } : {}),
      laneId: this.#options.laneId,
      siteId: this.#options.siteId,
      startedAt: meta?.startedAt ?? a.at,
      endedAt: a.at,
      decidedAt: new Date().toISOString(),
      outcome: 'aborted',
      abortReason: a.reason,
      abortDetail: a.detail,
      verdict: 'unavailable',
      unavailableReason: `scan aborted (${a.reason}): ${a.detail}`,
      score: null,
      regions: [],
      model: null,
      vehicle,
      lines: a.partial?.width ?? 0,
      channels: a.partial?.height ?? meta?.channels ?? 0,
      ...(lineMm !== undefined ? { lineMm } : {}),
      missingLines: a.partial?.missing ? a.partial.missing.reduce((x, y) => x + y, 0) : 0,
      evidence: [],
      ...(scan?.watchlist.length ? { watchlist: [...scan.watchlist] } : {}),
    };
    await this.#publish(result, a.partial);
  }

  /**
   * The decision fused from the X-ray verdict and the readings of this vehicle: those taken from
   * windowBeforeScanS before its scan began (and not before the previous scan ended) until now.
   * It uses what has arrived and never waits for a sensor.
   */
  #fuse(result: ScanResult): void {
    const f = this.#options.fusion;
    if (!f || !this.#readings) return;
    const now = Date.now();
    const from = Math.max(Date.parse(result.startedAt) - f.config.windowBeforeScanS * 1000, this.#previousEndMs);
    result.fusion = fuse({
      xray: result,
      co2: this.#readings.between('co2', from, now),
      heartbeat: this.#readings.between('heartbeat', from, now),
      configured: f.configured,
      config: f.config,
    });
    const ended = Date.parse(result.endedAt);
    if (Number.isFinite(ended)) this.#previousEndMs = Math.max(this.#previousEndMs, ended);
  }

  async #publish(result: ScanResult, image: ScanImage | undefined): Promise<void> {
    this.#fuse(result);
    if (this.#options.evidence) {
      try {
        result.evidence = await this.#options.evidence.collect(result, image);
      } catch (err) {
        this.#options.log.error(
          { err, scanId: result.scanId },
          `evidence for scan ${result.scanId} could not be stored: ${(err as Error).message}`,
        );
      }
    }
    this.#decided++;
    const alerts = [alertFor(result), sensorAlertFor(result)].filter((a): a is Alert => a !== null);
    // Journaled before it is handed on: a process killed from here on hands on this same result
    // and these alerts (same ids) at its next start, not an abort beside them.
    try {
      this.#journal?.decided(result.scanId, { result, alerts });
    } catch (err) {
      this.#options.log.error(
        { err, scanId: result.scanId },
        `lane ${this.#options.laneId}: the decision of scan ${result.scanId} could not be journaled (${(err as Error).message}); if the edge stops in the next moment, it is reported once more as aborted at the next start`,
      );
    }
    this.#options.bus.emit('scan.decided', { result, image });
    for (const a of alerts) this.#options.bus.emit('alert.raised', a);
    // The bus delivers synchronously: the result and its alert are in the outbox now.
    this.#closeJournal(result.scanId);
  }

  #closeJournal(scanId: string): void {
    try {
      this.#journal?.close(scanId);
    } catch (err) {
      this.#options.log.error(
        { err, scanId },
        `lane ${this.#options.laneId}: scan ${scanId} could not be cleared from the open-scan journal (${(err as Error).message}); its result will be handed on once more (same ids) at the next start`,
      );
    }
  }
}

/** Lines of a completed scan that never arrived: how many of how many, and the longest run. */
export function missingLines(s: Pick<CompletedScan, 'image' | 'declaredLines'>): {
  missing: number;
  total: number;
  longestRun: number;
} {
  const m = s.image.missing;
  const width = s.image.width;
  const tail = s.declaredLines !== undefined && s.declaredLines > width ? s.declaredLines - width : 0;
  let missing = tail;
  let longest = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    if (m?.[x]) {
      missing++;
      run++;
      if (run > longest) longest = run;
    } else run = 0;
  }
  // Lines declared beyond the image continue the run that ends it (or start one).
  if (tail > 0) longest = Math.max(longest, run + tail);
  return { missing, total: width + tail, longestRun: longest };
}

/** Why a scan is too incomplete to be called clear, or null. */
function incompleteness(
  g: { missing: number; total: number; longestRun: number },
  lineMm: number,
  t: Thresholds,
): string | null {
  if (g.missing === 0 || g.total === 0) return null;
  const maxShare = t.maxMissingShare ?? DEFAULT_MISSING.share;
  const maxRunM = t.maxMissingRunM ?? DEFAULT_MISSING.runM;
  const share = g.missing / g.total;
  const runM = (g.longestRun * lineMm) / 1000;
  const pct = (v: number) => `${(v * 100).toFixed(v < 0.1 ? 1 : 0)} %`;
  if (share > maxShare) {
    return `missing lines: ${g.missing} of ${g.total} lines (${pct(share)}) never arrived, more than the lane accepts (${pct(maxShare)}, lanes[].thresholds.maxMissingShare): the scan was not fully seen`;
  }
  if (runM > maxRunM) {
    return `missing lines: ${g.longestRun} consecutive lines (${runM.toFixed(2)} m at ${lineMm} mm per line) never arrived, a longer gap than the lane accepts (${maxRunM} m, lanes[].thresholds.maxMissingRunM): a person could be in it`;
  }
  return null;
}

/**
 * The alert threshold a detection is decided at, and where it comes from; `warning` when the lane
 * asked for a point the model does not name (it then decides at the model's own point, which
 * alarms more often, never less).
 */
export function alertThreshold(
  thresholds: Pick<Thresholds, 'alert'>,
  d: Pick<Detection, 'model' | 'operatingThreshold' | 'heldOutThreshold'>,
): { value: number; source: string; warning?: true } {
  const model = `model ${d.model.name} ${d.model.version}`;
  if (typeof thresholds.alert === 'number') return { value: thresholds.alert, source: 'lanes[].thresholds.alert' };
  if (thresholds.alert === 'held-out') {
    if (d.heldOutThreshold !== undefined)
      return {
        value: d.heldOutThreshold,
        source: `the operating point of ${model} chosen on families it never trained on (lanes[].thresholds.alert: held-out)`,
      };
    const own = alertThreshold({}, d);
    return {
      value: own.value,
      source: `lanes[].thresholds.alert is held-out, but ${model} names no held-out operating point (operatingPoint.heldOut in its manifest.json): ${own.source} instead`,
      warning: true,
    };
  }
  if (d.operatingThreshold !== undefined)
    return {
      value: d.operatingThreshold,
      source:
        d.operatingThreshold === d.heldOutThreshold
          ? `the held-out point of ${model}, its lane default (operatingPoint.laneDefault)`
          : `the operating point of ${model}`,
    };
  return { value: DEFAULT_ALERT, source: 'the default, as the model names no operating point' };
}

/** The alert a scan result raises, if any, with an id of its own (a UUIDv7). */
export function alertFor(result: ScanResult): Alert | null {
  const base = {
    alertId: uuidv7(),
    scanId: result.scanId,
    ...(result.scannerScanId !== undefined ? { scannerScanId: result.scannerScanId } : {}),
    laneId: result.laneId,
    siteId: result.siteId,
    raisedAt: result.decidedAt,
    score: result.score,
    regions: result.regions,
    evidence: result.evidence,
  };
  const scan = resultLabel(result);
  if (result.verdict === 'person') {
    const where =
      result.regions.length > 0 ? `${result.regions.length} region(s)` : 'no region located: inspect the whole scan';
    const support = result.fusion?.xraySupport;
    const said =
      support === 'supported'
        ? ' CO2 and heartbeat support it.'
        : support === 'not-supported'
          ? ' CO2 and heartbeat do not support it: search all the same.'
          : support === 'no-evidence'
            ? ' CO2 and heartbeat give no evidence either way.'
            : '';
    return {
      ...base,
      kind: 'person-suspected',
      severity: 'critical',
      message: `Person suspected in scan ${scan} (score ${result.score?.toFixed(2)}, ${where}): search the vehicle.${said}`,
      ...(support ? { support } : {}),
    };
  }
  if (result.outcome === 'aborted') {
    return {
      ...base,
      kind: 'scan-aborted',
      severity: 'warning',
      message: `Scan ${scan} aborted (${result.abortReason}): ${result.abortDetail}. The vehicle was not screened: rescan or search it.`,
    };
  }
  if (result.verdict === 'unavailable') {
    return {
      ...base,
      kind: 'detection-unavailable',
      severity: 'critical',
      message: `Scan ${scan} was not screened for people: ${result.unavailableReason}. Inspect the scan by eye or search the vehicle.`,
    };
  }
  return null;
}

/** The alert the fused decision adds when CO2 and heartbeat point to people the X-ray did not flag. */
export function sensorAlertFor(result: ScanResult): Alert | null {
  const f = result.fusion;
  if (!f?.addedAlert) return null;
  const said = f.senses
    .filter((s) => s.sense !== 'xray' && s.state === 'evidence')
    .map((s) => s.detail)
    .join('; ');
  return {
    alertId: uuidv7(),
    scanId: result.scanId,
    ...(result.scannerScanId !== undefined ? { scannerScanId: result.scannerScanId } : {}),
    laneId: result.laneId,
    siteId: result.siteId,
    raisedAt: result.decidedAt,
    kind: 'person-suspected-by-sensors',
    severity: 'critical',
    score: result.score,
    regions: [],
    message: `People suspected in the vehicle of scan ${resultLabel(result)} by its sensors (fused probability ${(f.posterior * 100).toFixed(0)} %: ${said}), though the X-ray ${result.verdict === 'clear' ? 'cleared it' : 'could not screen it'}: search the vehicle.`,
    evidence: result.evidence,
  };
}

/** How messages name a scan: the scanner's id, which people on the lane know, else the edge's. */
function resultLabel(r: Pick<ScanResult, 'scanId' | 'scannerScanId'>): string {
  return r.scannerScanId ?? r.scanId;
}

/**
 * With bodyEvidence 'require', a dual-energy scan is a person only when a reported region is
 * body-plausible (inference/material.ts); a single-energy scan is decided by its score alone.
 */
export function bodyEvidenceAllows(
  mode: 'report' | 'require' | undefined,
  regions: readonly Region[],
  dual: boolean,
): boolean {
  if (mode !== 'require' || !dual) return true;
  return regions.some((r) => r.evidence?.bodyPlausible === true);
}
