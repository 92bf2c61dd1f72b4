import { resolve } from 'node:path';
import { evidenceUrlSigner } from '../../outputs/evidence/evidence-urls.js';
import { migrationLine, SchemaTooNewError } from '../../core/sqlite-schema.js';
import { AlertLedger } from '../../outputs/mqtt/alert-ledger.js';
import { MAX_COMMAND_BYTES } from '../../outputs/mqtt/commands.js';
import { LanePublisher } from '../../outputs/mqtt/lane-publisher.js';
import { MqttLink } from '../../outputs/mqtt/mqtt-link.js';
import { MqttMetrics } from '../../outputs/mqtt/mqtt-metrics.js';
import { MemoryOutbox } from '../../outputs/mqtt/memory-outbox.js';
import type { AlertOutbox } from '../../outputs/mqtt/outbox.js';
import { SparkplugNode } from '../../outputs/mqtt/sparkplug-node.js';
import { SqliteOutbox } from '../../outputs/mqtt/sqlite-outbox.js';
import { LaneTopics } from '../../core/mqtt-topics.js';
import type { Config } from '../../config/schema.js';
import type { Lane, SiteContext } from '../context.js';
import { deviceStatus } from '../../core/health.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';

type MqttConfig = NonNullable<Config['mqtt']>;

/**
 * Builds the link to central command: per lane, one MQTT connection (so that each lane has its
 * own last will on its own availability topic), one durable outbox and one command handler.
 */
export function createMqttServices(ctx: SiteContext): Service[] {
  const cfg = ctx.config.mqtt;
  if (!cfg) {
    return [
      {
        name: 'mqtt',
        async start() {
          for (const lane of ctx.lanes)
            lane.bus.emit(
              'device.status',
              deviceStatus('mqtt', 'not-configured', 'no mqtt section in the config: nothing reaches central command'),
            );
        },
        async stop() {},
      },
    ];
  }
  const metrics = new MqttMetrics(ctx.metrics.registry);
  const outboxPath = resolve(ctx.dataDir, cfg.outbox.path ?? 'outbox.sqlite');
  const evidenceBaseUrl = evidenceBase(ctx, cfg);
  // The same key file as the lanes' evidence stores, which check the links.
  const signer = evidenceUrlSigner(ctx.config);
  const flushTimeoutMs = Math.max(200, Math.floor(ctx.config.shutdownTimeoutMs / 3) - 1000);
  const services: Service[] = [];
  for (const lane of ctx.lanes) {
    const log = ctx.log.child({ lane: lane.id, part: 'mqtt' });
    const publisher = new LazyLanePublisher(`mqtt:${lane.id}`, async () => {
      try {
        await signer.load();
      } catch (err) {
        // Alerts still go to central command, with links it cannot open; each is logged.
        log.error({ err }, `evidence links cannot be signed: ${(err as Error).message}`);
      }
      const store = openStore(outboxPath, lane.id, cfg, log);
      return new LanePublisher({
        siteId: ctx.config.site.id,
        laneId: lane.id,
        bus: lane.bus,
        health: lane.health,
        outbox: store.outbox,
        ledger: store.ledger,
        ...(store.warning ? { outboxWarning: store.warning } : {}),
        link: new MqttLink({
          url: cfg.url,
          protocolVersion: cfg.protocolVersion,
          clientId: clientIdFor(ctx.config, lane.id),
          ...credentialsFor(cfg, lane.config),
          ...(cfg.tls ? { tls: cfg.tls } : {}),
          keepaliveS: cfg.keepaliveS,
          reconnect: cfg.reconnect,
          sessionExpiryS: cfg.sessionExpiryS,
          will: {
            topic: new LaneTopics(cfg.topicPrefix, ctx.config.site.id, lane.id).availability,
            payload: 'offline',
          },
          // The lane receives only commands: nothing larger than one (and its topic) is accepted.
          maxIncomingPacketBytes: MAX_COMMAND_BYTES + 4096,
          log,
        }),
        topics: new LaneTopics(cfg.topicPrefix, ctx.config.site.id, lane.id),
        maxInflight: cfg.maxInflight,
        confirmBy: cfg.delivery.confirmBy,
        receiptTimeoutMs: cfg.delivery.receiptTimeoutS * 1000,
        statusIntervalMs: cfg.statusIntervalS * 1000,
        flushTimeoutMs,
        edgeVersion: ctx.version,
        modelVersion: () => {
          const m = lane.detector.status.model;
          return m ? `${m.name} ${m.version}` : null;
        },
        evidenceBaseUrl,
        signEvidence: (path) => signer.sign(path),
        identities: cfg.commands.identities,
        ...(cfg.commands.allowedOperators ? { allowedOperators: cfg.commands.allowedOperators } : {}),
        ...(cfg.review.verdicts.length > 0 || cfg.review.clearShare > 0 ? { review: cfg.review } : {}),
        log,
        metrics,
      });
    });
    services.push(publisher);
    if (cfg.sparkplug.enabled) services.push(sparkplugNode(ctx, cfg, lane, () => publisher.outboxDepth()));
  }
  return services;
}

/** The lane as a Sparkplug B edge node, on a connection of its own (its will is the NDEATH). */
function sparkplugNode(ctx: SiteContext, cfg: MqttConfig, lane: Lane, outboxDepth: () => number | null): SparkplugNode {
  const log = ctx.log.child({ lane: lane.id, part: 'sparkplug' });
  const nodeId = `${cfg.sparkplug.nodeId ?? ctx.config.site.id}-${lane.id}`;
  let node: SparkplugNode | null = null;
  const link = new MqttLink({
    url: cfg.url,
    protocolVersion: cfg.protocolVersion,
    clientId: `${clientIdFor(ctx.config, lane.id)}-spb`,
    ...credentialsFor(cfg, lane.config),
    ...(cfg.tls ? { tls: cfg.tls } : {}),
    keepaliveS: cfg.keepaliveS,
    reconnect: cfg.reconnect,
    sessionExpiryS: 0,
    clean: true, // Sparkplug B asks for a clean session
    will: () => node!.willFor(),
    log,
  });
  node = new SparkplugNode({
    groupId: cfg.sparkplug.groupId,
    nodeId,
    siteId: ctx.config.site.id,
    laneId: lane.id,
    bus: lane.bus,
    health: lane.health,
    link,
    bdSeqFile: resolve(ctx.dataDir, 'lanes', lane.id, 'sparkplug-bdseq'),
    edgeVersion: ctx.version,
    modelVersion: () => {
      const m = lane.detector.status.model;
      return m ? `${m.name} ${m.version}` : null;
    },
    outboxDepth,
    log,
  });
  return node;
}

/** The lane's broker user and password (lanes[].mqtt), else the site's. */
function credentialsFor(cfg: MqttConfig, lane: Config['lanes'][number]): { username?: string; password?: string } {
  const username = lane.mqtt?.username ?? cfg.username;
  const password = lane.mqtt?.password ?? cfg.password;
  return { ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}

/** lanes[].mqtt.clientId, else `checkpoint-edge-<site>-<lane>`, or the site's id (suffixed with the lane when a site has several). */
function clientIdFor(config: Config, laneId: string): string {
  const own = config.lanes.find((l) => l.id === laneId)?.mqtt?.clientId;
  if (own) return own;
  const configured = config.mqtt?.clientId;
  if (configured) return config.lanes.length > 1 ? `${configured}-${laneId}` : configured;
  return `checkpoint-edge-${config.site.id}-${laneId}`;
}

/** The base of evidence URLs: mqtt.evidenceBaseUrl, else the HTTP server's own address when it names one host. */
function evidenceBase(ctx: SiteContext, cfg: MqttConfig): () => string | null {
  if (cfg.evidenceBaseUrl) {
    const base = cfg.evidenceBaseUrl;
    return () => base;
  }
  const host = ctx.config.http.host;
  if (host === '0.0.0.0' || host === '::') {
    ctx.log.warn(
      `mqtt.evidenceBaseUrl is not set and the HTTP server listens on ${host}: evidence is published as paths only; set mqtt.evidenceBaseUrl to the address central command uses to reach this runtime`,
    );
    return () => null;
  }
  return () => ctx.http.url;
}

/**
 * The durable outbox and alert ledger of a lane; when the SQLite file cannot be opened, an
 * outbox in memory, so that alerts still reach central command while the process runs, with a
 * warning in the lane's mqtt status until the file is fixed and the runtime restarted.
 */
function openStore(
  path: string,
  laneId: string,
  cfg: MqttConfig,
  log: Logger,
): { outbox: AlertOutbox; ledger: AlertLedger; warning: string | null } {
  try {
    const outbox = new SqliteOutbox({
      path,
      laneId,
      maxMessages: cfg.outbox.maxMessages,
      synchronous: cfg.outbox.synchronous,
    });
    try {
      const ledger = new AlertLedger({ path, laneId });
      for (const r of [outbox.schema, ledger.schema]) {
        const line = migrationLine(r);
        if (line) log.info({ store: r.store, from: r.from, to: r.to }, line);
      }
      return { outbox, ledger, warning: null };
    } catch (err) {
      outbox.close();
      throw err;
    }
  } catch (err) {
    // Written by a newer release (a rollback): refused, so the lane does not start on an empty queue.
    if (err instanceof SchemaTooNewError) throw err;
    const warning = `${(err as Error).message}: queueing in memory instead, so messages not yet published are lost if the process stops; fix the file and restart`;
    log.error({ err }, warning);
    return {
      outbox: new MemoryOutbox(cfg.outbox.maxMessages),
      ledger: new AlertLedger({ path: ':memory:', laneId }),
      warning,
    };
  }
}

/** Builds the lane's publisher in start(), not while the runtime is built: building does no I/O. */
class LazyLanePublisher implements Service {
  #publisher: LanePublisher | null = null;

  constructor(
    readonly name: string,
    readonly make: () => Promise<LanePublisher>,
  ) {}

  async start(): Promise<void> {
    this.#publisher = await this.make();
    await this.#publisher.start();
  }

  async stop(): Promise<void> {
    await this.#publisher?.stop();
    this.#publisher = null;
  }

  outboxDepth(): number | null {
    try {
      return this.#publisher?.outbox.depth().depth ?? null;
    } catch {
      return null; // closed
    }
  }
}
