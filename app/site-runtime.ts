import { mkdirPrivate } from '../core/data-files.js';
import { resolve } from 'node:path';
import { migrationLine } from '../core/sqlite-schema.js';
import type { Config } from '../config/schema.js';
import { createCameraServices } from './compose/cameras.js';
import { createConsoleServices } from './compose/console.js';
import { createDetector } from './compose/model.js';
import { createMqttServices } from './compose/mqtt.js';
import { createScannerServices } from './compose/scanner.js';
import { createWatchlistServices } from './compose/watchlist.js';
import { createSensorServices } from './compose/sensors.js';
import type { Lane, LaneContext, SiteContext } from './context.js';
import { EventBus } from '../core/event-bus.js';
import type { LaneEvents } from '../core/events.js';
import { sendJson } from '../core/http-routes.js';
import { defaultAllowedHosts, RuntimeHttpServer } from './http-server.js';
import { LaneHealth } from '../pipeline/lane-health.js';
import { LanePipeline } from '../pipeline/lane-pipeline.js';
import type { Logger } from '../core/logger.js';
import { RuntimeMetrics, deviceUpValue } from './runtime-metrics.js';
import { healthz, verdictLatencyS } from './monitoring.js';
import { ServiceHost } from '../core/service.js';
import { SqliteScanJournal } from '../pipeline/scan-journal.js';
import { TileScheduler } from '../inference/tile-scheduler.js';
import { PictureRenderer } from './picture-renderer.js';
import { checkMemoryEnvironment } from './memory-environment.js';

export interface SiteRuntimeOptions {
  config: Config;
  log: Logger;
  version: string;
  demo?: boolean;
  /** Where start-up announcements go (console URL, credentials); default: stdout. */
  announce?: (line: string) => void;
}

/**
 * The composition root: builds every part of a site from its config, wires them through each
 * lane's event bus, and owns the start and stop order. Start order is outputs first (MQTT
 * outbox, HTTP, console), then lane pipelines, then devices; stop order is the reverse, so
 * nothing a device produces during shutdown is lost and the outbox is flushed last.
 */
export class SiteRuntime {
  readonly lanes: Lane[] = [];
  readonly http: RuntimeHttpServer;
  readonly metrics = new RuntimeMetrics();
  readonly #host: ServiceHost;
  readonly #options: SiteRuntimeOptions;
  readonly #dataDir: string;
  #built = false;

  constructor(opts: SiteRuntimeOptions) {
    this.#options = opts;
    this.#dataDir = resolve(opts.config.dataDir);
    this.http = new RuntimeHttpServer({
      host: opts.config.http.host,
      port: opts.config.http.port,
      allowedHosts: allowedHosts(opts.config),
      log: opts.log.child({ part: 'http' }),
    });
    this.#host = new ServiceHost(opts.log, {
      stopTimeoutMs: Math.max(100, Math.floor(opts.config.shutdownTimeoutMs / 3)),
    });
  }

  get dataDir(): string {
    return this.#dataDir;
  }

  /** Builds every part (no I/O but folders and model loading) and starts them in order. */
  async start(): Promise<void> {
    // The demo runs from a shell for a few minutes; a service runs for months.
    if (!this.#options.demo) checkMemoryEnvironment(this.#options.log);
    await this.build();
    await this.#host.start();
  }

  /** Builds the lanes without starting them, so callers can subscribe to their buses first. */
  async build(): Promise<void> {
    if (!this.#built) await this.#build();
  }

  /** Orderly shutdown: devices first, outbox last. Returns each service's stop report. */
  async stop(): Promise<{ name: string; ok: boolean; ms: number }[]> {
    return this.#host.stop();
  }

  async #build(): Promise<void> {
    this.#built = true;
    const { config, log } = this.#options;
    mkdirPrivate(this.#dataDir);
    const announce = this.#options.announce ?? ((line: string) => process.stdout.write(`${line}\n`));

    const laneServices = [];
    const deviceServices = [];
    // One scheduler for the site: the lanes' tiles take turns, so no lane waits out another's scan.
    const tiles = new TileScheduler({ concurrency: config.inference.concurrentTiles });
    // One picture thread for the site: no evidence JPEG or console view is made on the event loop.
    const pictures = new PictureRenderer({ log: log.child({ part: 'pictures' }) });
    this.metrics.watchPictureThread({ pending: () => pictures.pending, memory: () => pictures.threadMemory() });
    for (const laneCfg of config.lanes) {
      const laneLog = log.child({ lane: laneCfg.id });
      const bus = new EventBus<LaneEvents>(laneLog);
      const health = new LaneHealth(laneCfg.id);
      const laneDir = resolve(this.#dataDir, 'lanes', laneCfg.id);
      mkdirPrivate(laneDir);
      const ctx: LaneContext = {
        config,
        lane: laneCfg,
        bus,
        health,
        log: laneLog,
        dataDir: laneDir,
        http: this.http,
        metrics: this.metrics,
        pictures,
      };
      this.#observe(ctx);
      health.attach(bus); // after #observe, which compares each status with the previous one
      const detector = await createDetector(ctx, tiles);
      const cams = createCameraServices(ctx);
      const sensors = createSensorServices(ctx);
      const pipeline = new LanePipeline({
        siteId: config.site.id,
        laneId: laneCfg.id,
        bus,
        detector,
        thresholds: laneCfg.thresholds,
        log: laneLog.child({ part: 'pipeline' }),
        ...(cams.evidence ? { evidence: cams.evidence } : {}),
        ...(sensors.fusion ? { fusion: sensors.fusion } : {}),
        openJournal: () => {
          const journal = new SqliteScanJournal({ path: resolve(laneDir, 'open-scans.sqlite'), laneId: laneCfg.id });
          const migrated = migrationLine(journal.schema);
          if (migrated) laneLog.info(migrated);
          return journal;
        },
      });
      this.lanes.push({
        id: laneCfg.id,
        name: laneCfg.name ?? laneCfg.id,
        config: laneCfg,
        bus,
        health,
        pipeline,
        detector,
      });
      laneServices.push(pipeline);
      deviceServices.push(
        ...cams.services,
        ...sensors.services,
        ...createScannerServices(ctx, (id, at) => pipeline.begunBefore(id, at)),
      );
    }

    const site: SiteContext = {
      config,
      lanes: this.lanes,
      log,
      dataDir: this.#dataDir,
      http: this.http,
      metrics: this.metrics,
      version: this.#options.version,
      demo: this.#options.demo ?? false,
      announce,
      pictures,
    };
    this.#routes();
    // Started first and stopped last: the evidence stores and the console wait for their pictures.
    this.#host.add(
      pictures,
      ...createMqttServices(site),
      this.http,
      ...createConsoleServices(site),
      ...createWatchlistServices(site),
      ...laneServices,
      ...deviceServices,
    );
  }

  #routes(): void {
    // Worst state and its reason for anyone; device details (which may name internal URLs and
    // files) only for a logged-in console user, or for everyone when http.healthDetails is on.
    this.http.route('/healthz', 'runtime', (req, res) => {
      const details = this.#options.config.http.healthDetails || this.http.access.session(req) !== null;
      const answer = healthz(
        this.lanes.map((l) => l.health.snapshot()),
        { version: this.#options.version, details },
      );
      sendJson(res, answer.code, answer.body);
      return true;
    });
    this.http.route('/metrics', 'runtime', async (_req, res) => {
      for (const l of this.lanes) this.metrics.listenerErrors.set({ lane: l.id }, l.bus.listenerErrors);
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
      res.end(await this.metrics.registry.metrics());
      return true;
    });
  }

  /** Counts, logs and exports what happens on a lane: every state change is said plainly. */
  #observe(ctx: LaneContext): void {
    const { bus, lane, log, metrics } = ctx;
    const openAlerts = metrics.lanes.addLane(lane.id, () => ctx.health.snapshot());
    const recentScannerIds = new RecentIds(RECENT_SCANNER_IDS);
    bus.on('scan.begin', 'runtime', (m) => {
      if (m.scannerScanId === undefined) return;
      const seenAt = recentScannerIds.seen(m.scannerScanId, m.scanId);
      if (seenAt === null) return;
      metrics.scannerIdRepeats.inc({ lane: lane.id });
      log.warn(
        { scannerScanId: m.scannerScanId, scanId: m.scanId, previousScanId: seenAt },
        `scanner scan id ${m.scannerScanId} was used before (edge scan ${seenAt}); this scan is kept apart as edge scan ${m.scanId} (scanner or simulator restarted, or a repeated sidecar id)`,
      );
    });
    bus.on('device.status', 'runtime', (s) => {
      metrics.deviceUp.set({ lane: lane.id, device: s.device }, deviceUpValue(s.state));
      const prev = ctx.health.get(s.device);
      if (prev && prev.state === s.state && prev.detail === s.detail) return;
      const level = s.state === 'ok' || s.state === 'starting' || s.state === 'not-configured' ? 'info' : 'warn';
      log[level](
        { device: s.device, state: s.state, detail: s.detail },
        `${s.device}: ${s.state}${s.detail ? ` (${s.detail})` : ''}`,
      );
    });
    bus.on('scan.decided', 'runtime', ({ result }) => {
      metrics.scans.inc({ lane: lane.id, outcome: result.outcome, verdict: result.verdict });
      const latency = result.outcome === 'completed' ? verdictLatencyS(result) : null;
      if (latency !== null) metrics.lanes.verdictLatency.observe({ lane: lane.id, verdict: result.verdict }, latency);
    });
    bus.on('watchlist.covert', 'runtime', (a) => {
      metrics.alerts.inc({ lane: lane.id, kind: a.kind });
    });
    bus.on('alert.event', 'runtime', (e) => openAlerts.event(e));
    bus.on('alert.raised', 'runtime', (a) => {
      metrics.alerts.inc({ lane: lane.id, kind: a.kind });
      openAlerts.raised(a);
      log.warn({ alertId: a.alertId, kind: a.kind, scanId: a.scanId }, `ALERT ${a.kind}: ${a.message}`);
    });
  }
}

/** Scanner ids remembered per lane to notice a repeat: about a day of a busy lane. */
const RECENT_SCANNER_IDS = 10_000;

/** The last `max` scanner ids with the edge scan id each was first given, oldest forgotten first. */
class RecentIds {
  readonly #ids = new Map<string, string>();
  constructor(readonly max: number) {}

  /** The edge id the scanner id was seen with before, or null (then it is remembered with `edgeId`). */
  seen(scannerId: string, edgeId: string): string | null {
    const before = this.#ids.get(scannerId);
    if (before !== undefined) return before;
    this.#ids.set(scannerId, edgeId);
    if (this.#ids.size > this.max) this.#ids.delete(this.#ids.keys().next().value!);
    return null;
  }
}

/** http.allowedHosts, else the defaults; the host of mqtt.evidenceBaseUrl is added either way (central command fetches evidence there). */
export function allowedHosts(config: Config): string[] {
  const hosts = config.http.allowedHosts ?? defaultAllowedHosts(config.http.host);
  const base = config.mqtt?.evidenceBaseUrl;
  return base ? [...hosts, new URL(base).hostname] : [...hosts];
}
