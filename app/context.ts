import type { Config, LaneConfig } from '../config/schema.js';
import type { Detector } from '../core/detector.js';
import type { EventBus } from '../core/event-bus.js';
import type { LaneEvents } from '../core/events.js';
import type { RuntimeHttpServer } from './http-server.js';
import type { LaneHealth } from '../pipeline/lane-health.js';
import type { LanePipeline } from '../pipeline/lane-pipeline.js';
import type { Logger } from '../core/logger.js';
import type { RuntimeMetrics } from './runtime-metrics.js';
import type { PictureRenderer } from './picture-renderer.js';

/** What an area's factory gets to build the services of one lane. */
export interface LaneContext {
  config: Config;
  lane: LaneConfig;
  bus: EventBus<LaneEvents>;
  health: LaneHealth;
  log: Logger;
  /** Absolute folder for this lane's durable state. */
  dataDir: string;
  http: RuntimeHttpServer;
  metrics: RuntimeMetrics;
  /** The site's picture thread (evidence JPEGs, console views); absent: pictures are made on the event loop. */
  pictures?: PictureRenderer;
}

/** A built lane, as site-wide parts (MQTT, console) see it. */
export interface Lane {
  id: string;
  name: string;
  config: LaneConfig;
  bus: EventBus<LaneEvents>;
  health: LaneHealth;
  pipeline: LanePipeline;
  detector: Detector;
}

/** What a site-wide factory (MQTT, console) gets. */
export interface SiteContext {
  config: Config;
  lanes: Lane[];
  log: Logger;
  /** Absolute data folder of the site. */
  dataDir: string;
  http: RuntimeHttpServer;
  metrics: RuntimeMetrics;
  version: string;
  /** Demo mode: demo accounts, relaxed security, printed credentials. */
  demo: boolean;
  /** Lines the runtime prints at start to say where to look (console URL, credentials...). */
  announce(line: string): void;
  /** The site's picture thread; absent: pictures are made on the event loop. */
  pictures?: PictureRenderer;
}
