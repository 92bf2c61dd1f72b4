import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { LaneMetrics } from './monitoring.js';
import type { ThreadMemory } from './picture-jobs.js';
import type { DeviceState } from '../core/domain.js';

/**
 * checkpoint_edge_device_up: 1 while the device works, `ok` or `degraded` (its link is up and it delivers,
 * with something to look at: the lane's state and /healthz say what); 0 when it is down, faulty, stalled,
 * starting or unavailable.
 */
export function deviceUpValue(state: DeviceState): 0 | 1 {
  return state === 'ok' || state === 'degraded' ? 1 : 0;
}

/** The runtime's Prometheus metrics, served on /metrics. Parts add their own to `registry`. */
export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly scans: Counter<'lane' | 'outcome' | 'verdict'>;
  readonly alerts: Counter<'lane' | 'kind'>;
  readonly deviceUp: Gauge<'lane' | 'device'>;
  readonly listenerErrors: Gauge<'lane'>;
  /** Lane state, open alerts, verdict latency (app/monitoring.ts). */
  readonly lanes: LaneMetrics;
  readonly scannerIdRepeats: Counter<'lane'>;

  constructor() {
    // Node's own metrics under their standard names (process_*, nodejs_*), as stock dashboards expect.
    collectDefaultMetrics({ register: this.registry });
    this.scans = new Counter({
      name: 'checkpoint_edge_scans_total',
      help: 'Scans decided, by outcome and verdict.',
      labelNames: ['lane', 'outcome', 'verdict'],
      registers: [this.registry],
    });
    this.alerts = new Counter({
      name: 'checkpoint_edge_alerts_total',
      help: 'Alerts raised, by kind.',
      labelNames: ['lane', 'kind'],
      registers: [this.registry],
    });
    this.deviceUp = new Gauge({
      name: 'checkpoint_edge_device_up',
      help: '1 while the device works (state ok or degraded), else 0.',
      labelNames: ['lane', 'device'],
      registers: [this.registry],
    });
    this.scannerIdRepeats = new Counter({
      name: 'checkpoint_edge_scanner_scan_id_repeats_total',
      help: 'Scans whose scanner-supplied id was seen before on the lane (among the last 10,000): each still gets its own edge id.',
      labelNames: ['lane'],
      registers: [this.registry],
    });
    this.listenerErrors = new Gauge({
      name: 'checkpoint_edge_event_listener_errors',
      help: 'Event bus listener failures since start.',
      labelNames: ['lane'],
      registers: [this.registry],
    });
    this.lanes = new LaneMetrics(this.registry);
  }

  /**
   * The picture thread's backlog, V8 heap and external buffers (nodejs_heap_size_total_bytes and
   * nodejs_external_memory_bytes are the main thread's): RSS less both threads' heaps and
   * external buffers is native memory (docs/deployment.md, memory).
   */
  watchPictureThread(t: { pending: () => number; memory: () => Promise<ThreadMemory | null> }): void {
    new Gauge({
      name: 'checkpoint_edge_pictures_pending',
      help: 'Pictures (evidence JPEGs, console views) waiting for the picture thread or being made.',
      registers: [this.registry],
      collect() {
        this.set(t.pending());
      },
    });
    const memory = new Gauge({
      name: 'checkpoint_edge_picture_thread_memory_bytes',
      help: "The picture thread's V8 heap (space=heap) and buffers outside it, dead ones not yet collected included (space=external).",
      labelNames: ['space'],
      registers: [this.registry],
      async collect() {
        const m = await t.memory();
        memory.reset(); // a thread that is down or did not answer shows no figure, not its last one
        if (!m) return;
        memory.set({ space: 'heap' }, m.heapBytes);
        memory.set({ space: 'external' }, m.externalBytes);
      },
    });
  }
}
