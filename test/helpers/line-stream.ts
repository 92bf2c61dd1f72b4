import { expect } from 'vitest';
import type { LineStreamCounters } from '../../firmware-bridge/scanner/protocol/frame-parser.js';
import { newCounters } from '../../firmware-bridge/scanner/protocol/frame-parser.js';
import { LineStreamService } from '../../firmware-bridge/scanner/line-stream-service.js';
import { ScannerTranslator } from '../../firmware-bridge/scanner/translator.js';
import type { LinkOpener } from '../../firmware-bridge/scanner/transport/line-link.js';
import type { ScanImage } from '../../core/domain.js';
import { EventBus } from '../../core/event-bus.js';
import type { LaneEvents } from '../../core/events.js';
import { silentLogger } from '../../core/logger.js';
import type { SimScanRecord } from '../../sim/scanner/line-stream-sim.js';
import type { SimScan } from '../../sim/scanner/scan-source.js';

/** A scan whose every pixel is distinct enough to catch a misplaced line or channel. */
export function patternScan(k: number, width: number, channels: number, dual = true): SimScan {
  const high = new Uint16Array(width * channels);
  const low = dual ? new Uint16Array(width * channels) : undefined;
  for (let r = 0; r < channels; r++) {
    for (let x = 0; x < width; x++) {
      high[r * width + x] = (k * 7919 + x * 131 + r * 17) & 0xffff;
      if (low) low[r * width + x] = (k * 104729 + x * 31 + r * 257 + 3) & 0xffff;
    }
  }
  return {
    width,
    height: channels,
    pixelMm: 5,
    high,
    ...(low ? { low } : {}),
    plate: `T ${k}`,
    origin: `pattern ${k}`,
  };
}

export interface Bridge {
  bus: EventBus<LaneEvents>;
  translator: ScannerTranslator;
  service: LineStreamService;
  counters: LineStreamCounters;
  events: { name: string; payload: unknown }[];
  of<K extends keyof LaneEvents>(name: K): LaneEvents[K][];
}

export function bridge(opener: LinkOpener, scanTimeoutMs = 5000): Bridge {
  const bus = new EventBus<LaneEvents>(silentLogger());
  const counters = newCounters();
  const translator = new ScannerTranslator({
    laneId: 'lane-t',
    device: 'scanner',
    bus,
    log: silentLogger(),
    defaultPixelMm: 5,
    scanTimeoutMs,
    frameCounters: counters,
  });
  const service = new LineStreamService({
    name: 'scanner-line-stream',
    opener,
    translator,
    counters,
    log: silentLogger(),
    reconnect: { initialMs: 20, maxMs: 200 },
    statusIntervalMs: 100,
  });
  const events: { name: string; payload: unknown }[] = [];
  for (const name of ['scan.begin', 'scan.end', 'scan.aborted', 'device.status'] as const)
    bus.on(name, 'test', (p) => void events.push({ name, payload: p }));
  const of = <K extends keyof LaneEvents>(name: K) =>
    events.filter((e) => e.name === name).map((e) => e.payload as LaneEvents[K]);
  return { bus, translator, service, counters, events, of };
}

/** Column x of `img` equals column x of the sent scan, in both energies. */
export function columnEquals(img: ScanImage, sent: SimScan, x: number): boolean {
  for (let r = 0; r < sent.height; r++) {
    if (img.high[r * img.width + x] !== sent.high[r * sent.width + x]) return false;
    if (sent.low && img.low![r * img.width + x] !== sent.low[r * sent.width + x]) return false;
  }
  return true;
}

/** Every line that arrived intact is pixel-exact; every lost one is marked missing. */
export function expectPixelExact(img: ScanImage, rec: SimScanRecord): void {
  const lost = new Set([...rec.dropped, ...rec.badCrc]);
  expect(img.height).toBe(rec.scan.height);
  let checked = 0;
  for (let x = 0; x < img.width; x++) {
    if (x < rec.linesSent && !lost.has(x)) {
      expect(columnEquals(img, rec.scan, x), `scan ${rec.scanId} line ${x} differs from what was sent`).toBe(true);
      expect(img.missing![x], `scan ${rec.scanId} line ${x} marked missing`).toBe(0);
      checked++;
    } else if (lost.has(x)) {
      expect(img.missing![x], `scan ${rec.scanId} lost line ${x} not marked missing`).toBe(1);
    }
  }
  expect(checked).toBeGreaterThan(0);
}
