import { join, resolve } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { LaneConfig } from '../../config/schema.js';
import { AnprReceiver } from '../../firmware-bridge/camera/anpr-http.js';
import { AnprMqttSource } from '../../firmware-bridge/camera/anpr-mqtt.js';
import { CameraFeed } from '../../firmware-bridge/camera/camera-feed.js';
import { FFMPEG_MISSING, FfmpegSource, findFfmpeg } from '../../firmware-bridge/camera/ffmpeg-source.js';
import { MjpegHttpSource } from '../../firmware-bridge/camera/mjpeg-source.js';
import { ScanSnapshotter } from '../../firmware-bridge/camera/scan-snapshots.js';
import { SnapshotPollSource } from '../../firmware-bridge/camera/snapshot-source.js';
import type { FrameSource } from '../../firmware-bridge/camera/source.js';
import { EvidenceStore } from '../../outputs/evidence/evidence-store.js';
import { evidenceUrlSigner } from '../../outputs/evidence/evidence-urls.js';
import type { LaneContext } from '../context.js';
import type { EvidenceCollector } from '../../core/evidence-collector.js';
import type { Service } from '../../core/service.js';

type CameraConfig = LaneConfig['cameras'][number];

interface CameraMetrics {
  frames: Counter<'lane' | 'camera'>;
  dropped: Counter<'lane' | 'camera'>;
  restarts: Counter<'lane' | 'camera'>;
}

const metricsByRegistry = new WeakMap<Registry, CameraMetrics>();

function cameraMetrics(registry: Registry): CameraMetrics {
  let m = metricsByRegistry.get(registry);
  if (!m) {
    const labelNames = ['lane', 'camera'] as const;
    m = {
      frames: new Counter({
        name: 'checkpoint_edge_camera_frames_total',
        help: 'Camera pictures received whole.',
        labelNames,
        registers: [registry],
      }),
      dropped: new Counter({
        name: 'checkpoint_edge_camera_frames_dropped_total',
        help: 'Camera pictures dropped as corrupt (not a whole JPEG).',
        labelNames,
        registers: [registry],
      }),
      restarts: new Counter({
        name: 'checkpoint_edge_camera_restarts_total',
        help: 'Camera source restarts by the watchdog (stall or failure).',
        labelNames,
        registers: [registry],
      }),
    };
    metricsByRegistry.set(registry, m);
  }
  return m;
}

/** The source for one camera's kind and URL scheme; throws a message naming the camera if they do not fit. */
function sourceFor(c: CameraConfig, ffmpeg: string | null): FrameSource {
  const scheme = new URL(c.url).protocol.replace(/:$/, '');
  const http = scheme === 'http' || scheme === 'https';
  const creds = { username: c.username, password: c.password };
  if (c.kind === 'mjpeg') {
    if (!http)
      throw new Error(
        `camera ${c.id}: kind mjpeg needs an http(s) URL, got ${scheme}: use kind rtsp for ${scheme} sources`,
      );
    return new MjpegHttpSource({ url: c.url, ...creds, connectTimeoutMs: Math.min(c.stallMs, 10_000) });
  }
  if (c.kind === 'snapshot') {
    if (!http) throw new Error(`camera ${c.id}: kind snapshot needs an http(s) URL, got ${scheme}`);
    return new SnapshotPollSource({
      url: c.url,
      ...creds,
      pollMs: c.pollMs,
      requestTimeoutMs: Math.min(Math.max(c.stallMs, 1000), 10_000),
    });
  }
  if (!ffmpeg) throw new Error(FFMPEG_MISSING);
  return new FfmpegSource({ ffmpeg, url: c.url, ...creds, maxFps: 10, connectTimeoutMs: Math.max(c.stallMs, 5000) });
}

/**
 * Builds the lane's camera sources (each with its watchdog), the snapshots tied to scans, the
 * ANPR read receiver (POST /api/anpr/<lane>, and an MQTT topic when anpr.mqtt is set) and the
 * evidence store, which is returned as the pipeline's evidence collector.
 */
export function createCameraServices(
  ctx: LaneContext,
  opts: { findFfmpeg?: () => string | null } = {},
): { services: Service[]; evidence?: EvidenceCollector } {
  const { lane, bus, log, config } = ctx;
  const metrics = cameraMetrics(ctx.metrics.registry);
  const needsFfmpeg = lane.cameras.some((c) => c.kind === 'rtsp');
  const ffmpeg = needsFfmpeg ? (opts.findFfmpeg ?? findFfmpeg)() : null;
  if (needsFfmpeg && !ffmpeg) log.error(`lane ${lane.id}: ${FFMPEG_MISSING}; its rtsp cameras are unavailable`);

  const feeds = lane.cameras.map((c) => {
    const labels = { lane: lane.id, camera: c.id };
    return new CameraFeed({
      laneId: lane.id,
      cameraId: c.id,
      role: c.role,
      stallMs: c.stallMs,
      preRollMs: c.preRollMs,
      createSource: () => sourceFor(c, ffmpeg),
      ...(c.kind === 'rtsp' && !ffmpeg ? { unavailable: FFMPEG_MISSING } : {}),
      publish: (s) => bus.emit('device.status', s),
      log: log.child({ part: 'camera', camera: c.id }),
      onCount: (what) =>
        (what === 'frame' ? metrics.frames : what === 'corrupt' ? metrics.dropped : metrics.restarts).inc(labels),
    });
  });

  const evidence = new EvidenceStore({
    laneId: lane.id,
    dir: config.evidence.dir ? resolve(config.evidence.dir, lane.id) : join(ctx.dataDir, 'evidence'),
    bus,
    http: ctx.http,
    signer: evidenceUrlSigner(config),
    log: log.child({ part: 'evidence' }),
    retention: {
      maxAgeMs: config.evidence.retentionDays * 86_400_000,
      // The site's limit shared out between its lanes, so that all of them together stay under it.
      maxBytes: Math.floor((config.evidence.maxMb * 1024 * 1024) / Math.max(1, config.lanes.length)),
    },
    ...(ctx.pictures ? { renderScan: ctx.pictures.evidenceJpeg.bind(ctx.pictures) } : {}),
  });

  const anpr = new AnprReceiver({
    laneId: lane.id,
    bus,
    http: ctx.http,
    token: lane.anpr.token ?? null,
    log: log.child({ part: 'anpr' }),
  });
  const services: Service[] = [
    evidence,
    ...feeds,
    new ScanSnapshotter({ laneId: lane.id, bus, cameras: feeds, log: log.child({ part: 'camera' }) }),
    anpr,
  ];
  const m = lane.anpr.mqtt;
  if (m) {
    services.push(
      new AnprMqttSource({
        laneId: lane.id,
        url: m.url,
        topic: m.topic,
        ...(m.username !== undefined ? { username: m.username } : {}),
        ...(m.password !== undefined ? { password: m.password } : {}),
        clientId: m.clientId ?? `checkpoint-edge-anpr-${config.site.id}-${lane.id}`,
        accept: (read, source) => anpr.accept(read, source),
        publish: (s) => bus.emit('device.status', s),
        log: log.child({ part: 'anpr' }),
      }),
    );
  }
  return { services, evidence };
}
