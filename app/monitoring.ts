import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Alert, AlertEvent, DeviceStatus, ScanResult } from '../core/domain.js';
import type { LaneHealthSnapshot } from '../core/health.js';
import type { StreamedLowEnergyState } from '../core/dual-energy-scale.js';
import type { LineStreamCounters } from '../firmware-bridge/scanner/protocol/frame-parser.js';

/**
 * What a monitoring system reads from a lane: the /healthz answer and the lane-level metrics
 * (state, open alerts, verdict latency). Pure where it can be; docs/monitoring.md says what each
 * value means.
 */

export type Overall = LaneHealthSnapshot['overall'];

/** Worse states rank higher. */
const RANK: Record<Overall, number> = { ok: 0, degraded: 1, 'detection-unavailable': 2 };
export const OVERALL_STATES: readonly Overall[] = ['ok', 'degraded', 'detection-unavailable'];

/**
 * HTTP status of /healthz per worst state: a lane that still screens (ok, degraded) answers
 * 200, one whose scans are not screened by the model answers 503, so that a plain HTTP check
 * pages only for the state that must not be missed. The body says which state it is.
 */
export const HEALTHZ_STATUS_CODE: Record<Overall, number> = { ok: 200, degraded: 200, 'detection-unavailable': 503 };

/** States that are not a fault (a device starting or not configured is not a reason). */
const QUIET: ReadonlySet<DeviceStatus['state']> = new Set(['ok', 'not-configured', 'starting']);

/**
 * One line saying why a lane is in its state, from device names and states only (no detail
 * text, which may hold URLs or file paths): "detection unavailable: model unavailable; camera.front offline".
 */
export function laneReason(s: LaneHealthSnapshot): string {
  const model = s.devices.find((d) => d.device === 'model');
  const bad = s.devices.filter((d) => !QUIET.has(d.state) && d.device !== 'model').map((d) => `${d.device} ${d.state}`);
  if (s.overall === 'detection-unavailable') {
    const why = model ? `model ${model.state}` : 'no model has reported';
    return `detection unavailable: ${[why, ...bad].join('; ')}`;
  }
  if (s.overall === 'degraded') return `degraded: ${bad.join('; ') || 'a device is not ok'}`;
  return 'every device ok';
}

export interface HealthzOptions {
  version: string;
  /** Device details (text, counters): for a logged-in console user, or when http.healthDetails is on. */
  details: boolean;
  now?: Date;
}

export interface HealthzAnswer {
  code: number;
  body: {
    status: Overall;
    reason: string;
    version: string;
    at: string;
    details: 'shown' | 'hidden: log in to the console, or set http.healthDetails: true';
    lanes: {
      laneId: string;
      status: Overall;
      reason: string;
      devices: (Pick<DeviceStatus, 'device' | 'state' | 'since'> & Partial<DeviceStatus>)[];
    }[];
  };
}

/** The /healthz answer for a site's lanes: the worst state and its one-line reason first. */
export function healthz(lanes: LaneHealthSnapshot[], o: HealthzOptions): HealthzAnswer {
  let worst: Overall = 'ok';
  for (const l of lanes) if (RANK[l.overall] > RANK[worst]) worst = l.overall;
  const atWorst = lanes.filter((l) => l.overall === worst);
  const reason =
    worst === 'ok'
      ? lanes.length === 1
        ? `${lanes[0].laneId}: every device ok`
        : `all ${lanes.length} lanes ok`
      : atWorst.map((l) => `${l.laneId} ${laneReason(l)}`).join(' | ');
  return {
    code: HEALTHZ_STATUS_CODE[worst],
    body: {
      status: worst,
      reason,
      version: o.version,
      at: (o.now ?? new Date()).toISOString(),
      details: o.details ? 'shown' : 'hidden: log in to the console, or set http.healthDetails: true',
      lanes: lanes.map((l) => ({
        laneId: l.laneId,
        status: l.overall,
        reason: laneReason(l),
        devices: l.devices.map((d) => (o.details ? d : { device: d.device, state: d.state, since: d.since })),
      })),
    },
  };
}

/**
 * The alerts of one lane that are open (no disposition yet) and unacknowledged, from the lane's
 * bus. Seeded at start from the console's store where there is one, so a restart does not hide
 * an alert left open. Bounded: at most `max` open alerts are tracked (the oldest are kept, as
 * they matter most to an age alarm), the rest are counted.
 */
export class OpenAlerts {
  readonly #open = new Map<string, { raisedAt: number; acknowledged: boolean }>();
  #overflow = 0;

  constructor(readonly max = 10_000) {}

  raised(a: Pick<Alert, 'alertId' | 'raisedAt' | 'kind'>): void {
    if (a.kind === 'test' || this.#open.has(a.alertId)) return; // a test alert asks nothing of the operator
    if (this.#open.size >= this.max) {
      this.#overflow++;
      return;
    }
    const t = Date.parse(a.raisedAt);
    this.#open.set(a.alertId, { raisedAt: Number.isNaN(t) ? Date.now() : t, acknowledged: false });
  }

  /** An alert known to be open (and maybe acknowledged) when the lane started. */
  seed(alertId: string, raisedAt: string, acknowledged: boolean): void {
    this.raised({ alertId, raisedAt, kind: 'person-suspected' });
    if (acknowledged) this.event({ alertId, type: 'acknowledged' });
  }

  event(e: Pick<AlertEvent, 'alertId' | 'type'>): void {
    const a = this.#open.get(e.alertId);
    if (!a) return;
    if (e.type === 'acknowledged') a.acknowledged = true;
    else this.#open.delete(e.alertId);
  }

  /** Counts and the age in seconds of the oldest (0 when there is none). */
  summary(now = Date.now()): {
    open: number;
    unacknowledged: number;
    oldestOpenS: number;
    oldestUnacknowledgedS: number;
  } {
    let unacknowledged = 0;
    let oldestOpen = Infinity;
    let oldestUnack = Infinity;
    for (const a of this.#open.values()) {
      oldestOpen = Math.min(oldestOpen, a.raisedAt);
      if (!a.acknowledged) {
        unacknowledged++;
        oldestUnack = Math.min(oldestUnack, a.raisedAt);
      }
    }
    const age = (t: number) => (t === Infinity ? 0 : Math.max(0, (now - t) / 1000));
    return {
      open: this.#open.size + this.#overflow,
      unacknowledged,
      oldestOpenS: age(oldestOpen),
      oldestUnacknowledgedS: age(oldestUnack),
    };
  }
}

/** Seconds from the end of a scan (last line) to its verdict; null when the times are unreadable. */
export function verdictLatencyS(r: Pick<ScanResult, 'endedAt' | 'decidedAt'>): number | null {
  const s = (Date.parse(r.decidedAt) - Date.parse(r.endedAt)) / 1000;
  return Number.isFinite(s) ? Math.max(0, s) : null;
}

/** Buckets of the verdict-latency histogram, in seconds (the lane aims for < 2 s). */
export const VERDICT_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30];

/** Lane-level metrics, created once per registry; values are read from each lane at scrape time. */
export class LaneMetrics {
  readonly verdictLatency: Histogram<'lane' | 'verdict'>;
  readonly #lanes = new Map<string, { health: () => LaneHealthSnapshot; alerts: OpenAlerts }>();

  constructor(registry: Registry) {
    const lanes = this.#lanes;
    new Gauge({
      name: 'checkpoint_edge_lane_state',
      help: "The lane's overall state: 1 for the state it is in (ok, degraded, detection-unavailable), 0 for the others.",
      labelNames: ['lane', 'state'],
      registers: [registry],
      collect() {
        for (const [lane, l] of lanes) {
          const overall = l.health().overall;
          for (const state of OVERALL_STATES) this.set({ lane, state }, state === overall ? 1 : 0);
        }
      },
    });
    const alertGauge = (name: string, help: string, pick: (s: ReturnType<OpenAlerts['summary']>) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['lane'],
        registers: [registry],
        collect() {
          for (const [lane, l] of lanes) this.set({ lane }, pick(l.alerts.summary()));
        },
      });
    alertGauge(
      'checkpoint_edge_alerts_open',
      'Alerts raised and not yet dispositioned (test alerts excluded).',
      (s) => s.open,
    );
    alertGauge(
      'checkpoint_edge_alerts_unacknowledged',
      'Open alerts no operator (console or central command) has acknowledged.',
      (s) => s.unacknowledged,
    );
    alertGauge(
      'checkpoint_edge_alert_oldest_open_age_seconds',
      'Age of the oldest open alert; 0 when none is open.',
      (s) => s.oldestOpenS,
    );
    alertGauge(
      'checkpoint_edge_alert_oldest_unacknowledged_age_seconds',
      'Age of the oldest unacknowledged alert; 0 when none.',
      (s) => s.oldestUnacknowledgedS,
    );
    this.verdictLatency = new Histogram({
      name: 'checkpoint_edge_verdict_latency_seconds',
      help: 'Time from the end of a scan (its last line) to its verdict, for completed scans.',
      labelNames: ['lane', 'verdict'],
      buckets: VERDICT_LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /** Follows one lane; returns its open-alert tracker (to seed and to feed from the bus). */
  addLane(laneId: string, health: () => LaneHealthSnapshot): OpenAlerts {
    const alerts = new OpenAlerts();
    this.#lanes.set(laneId, { health, alerts });
    return alerts;
  }

  alerts(laneId: string): OpenAlerts | undefined {
    return this.#lanes.get(laneId)?.alerts;
  }
}

/** The scanner link's frame counters: those the line-stream parser keeps. */
type LinkCounters = LineStreamCounters;

const LINK_METRICS: { key: keyof LinkCounters; name: string; help: string }[] = [
  {
    key: 'bytes',
    name: 'checkpoint_edge_scanner_link_bytes_total',
    help: 'Bytes received on the scanner line stream.',
  },
  {
    key: 'frames',
    name: 'checkpoint_edge_scanner_link_frames_total',
    help: 'Frames received whole (CRC and length valid).',
  },
  {
    key: 'crcErrors',
    name: 'checkpoint_edge_scanner_link_crc_errors_total',
    help: 'Frames dropped because their payload CRC failed.',
  },
  {
    key: 'lengthErrors',
    name: 'checkpoint_edge_scanner_link_length_errors_total',
    help: 'Frames dropped because their length is impossible.',
  },
  {
    key: 'malformed',
    name: 'checkpoint_edge_scanner_link_malformed_total',
    help: 'Frames dropped because a field has a value the protocol does not allow.',
  },
  {
    key: 'unsupported',
    name: 'checkpoint_edge_scanner_link_unsupported_total',
    help: 'Frames of an unknown version or type, skipped.',
  },
  {
    key: 'seqGaps',
    name: 'checkpoint_edge_scanner_link_sequence_gaps_total',
    help: 'Times the frame sequence number jumped.',
  },
  {
    key: 'lostFrames',
    name: 'checkpoint_edge_scanner_link_lost_frames_total',
    help: 'Frames never received (sum of sequence gaps).',
  },
  {
    key: 'resyncBytes',
    name: 'checkpoint_edge_scanner_link_resync_bytes_total',
    help: 'Bytes skipped while looking for the next frame start.',
  },
  {
    key: 'truncatedBytes',
    name: 'checkpoint_edge_scanner_link_truncated_bytes_total',
    help: 'Bytes of frames cut off when the link was lost.',
  },
];

const linkSources = new WeakMap<Registry, Map<string, { lane: string; device: string; counters: LinkCounters }>>();

/**
 * Exports a scanner line stream's frame counters (kept by the parser across reconnects) as
 * Prometheus counters labelled lane and device, read at scrape time.
 */
export function exportLinkCounters(registry: Registry, lane: string, device: string, counters: LinkCounters): void {
  let sources = linkSources.get(registry);
  if (!sources) {
    const s = new Map<string, { lane: string; device: string; counters: LinkCounters }>();
    sources = s;
    linkSources.set(registry, s);
    for (const m of LINK_METRICS) {
      new Counter({
        name: m.name,
        help: m.help,
        labelNames: ['lane', 'device'],
        registers: [registry],
        collect() {
          this.reset();
          for (const src of s.values()) this.inc({ lane: src.lane, device: src.device }, src.counters[m.key]);
        },
      });
    }
  }
  sources.set(`${lane}\u0000${device}`, { lane, device, counters });
}

const lowEnergySources = new WeakMap<
  Registry,
  Map<string, { lane: string; device: string; state: () => StreamedLowEnergyState }>
>();

/**
 * Exports a streamed lane's low-energy scale (core/dual-energy-scale.ts StreamedLowEnergyScale) as
 * gauges labelled lane and device, read at scrape time: the factor applied to the low-energy
 * attenuation of its scans, and the median low/high ratio of the vehicles' steel as sent (NaN
 * until a dual-energy scan has been read).
 */
export function exportLowEnergyScale(
  registry: Registry,
  lane: string,
  device: string,
  state: () => StreamedLowEnergyState,
): void {
  let sources = lowEnergySources.get(registry);
  if (!sources) {
    const s = new Map<string, { lane: string; device: string; state: () => StreamedLowEnergyState }>();
    sources = s;
    lowEnergySources.set(registry, s);
    const gauge = (name: string, help: string, value: (st: StreamedLowEnergyState) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['lane', 'device'],
        registers: [registry],
        collect() {
          this.reset();
          for (const src of s.values()) this.set({ lane: src.lane, device: src.device }, value(src.state()));
        },
      });
    gauge(
      'checkpoint_edge_scanner_low_energy_scale',
      "Factor applied to the low-energy attenuation of the lane's streamed scans (1: none; scanner.lowEnergyScale).",
      (st) => st.scale,
    );
    gauge(
      'checkpoint_edge_scanner_low_energy_ratio',
      "Median low/high attenuation ratio of the vehicles' steel over the last streamed scans, as the scanner sends it (the training scanner: 0.97-1.13).",
      (st) => st.ratio ?? Number.NaN,
    );
  }
  sources.set(`${lane}\u0000${device}`, { lane, device, state });
}

const linePitchSources = new WeakMap<Registry, Map<string, { lane: string; device: string; count: () => number }>>();

/**
 * Exports how many of a lane's scans were read with square pixels because scanner.lineMm could not
 * be applied to them ('speed' without a speed or line rate, or a pitch from them out of range), over
 * the line stream and the file drop, read at scrape time.
 */
export function exportLinePitchFallbacks(registry: Registry, lane: string, device: string, count: () => number): void {
  let sources = linePitchSources.get(registry);
  if (!sources) {
    const s = new Map<string, { lane: string; device: string; count: () => number }>();
    sources = s;
    linePitchSources.set(registry, s);
    new Counter({
      name: 'checkpoint_edge_scanner_line_pitch_fallbacks_total',
      help: 'Scans read with lines as far apart as the channels because scanner.lineMm could not be applied to them (no speed or line rate, or a line pitch from them outside 0.5-50 mm).',
      labelNames: ['lane', 'device'],
      registers: [registry],
      collect() {
        this.reset();
        for (const src of s.values()) this.inc({ lane: src.lane, device: src.device }, src.count());
      },
    });
  }
  sources.set(`${lane}\u0000${device}`, { lane, device, count });
}
