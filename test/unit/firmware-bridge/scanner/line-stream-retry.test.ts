import { describe, expect, it } from 'vitest';
import { LineStreamService } from '../../../../firmware-bridge/scanner/line-stream-service.js';
import { newCounters } from '../../../../firmware-bridge/scanner/protocol/frame-parser.js';
import { ScannerTranslator } from '../../../../firmware-bridge/scanner/translator.js';
import type { LinkOpener } from '../../../../firmware-bridge/scanner/transport/line-link.js';
import type { DeviceStatus } from '../../../../core/domain.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents } from '../../../../core/events.js';
import { silentLogger } from '../../../../core/logger.js';

describe('scanner line stream retries', () => {
  it('report a change of state, not a countdown: one status for many failed attempts', async () => {
    const log = silentLogger();
    const bus = new EventBus<LaneEvents>(log);
    const statuses: DeviceStatus[] = [];
    bus.on('device.status', 'test', (s) => void statuses.push(s));
    const translator = new ScannerTranslator({
      laneId: 'lane-1',
      device: 'scanner',
      bus,
      log,
      defaultPixelMm: 5,
      scanTimeoutMs: 10_000,
    });
    let attempts = 0;
    const opener: LinkOpener = {
      describe: 'serial /dev/ttyUSB9 @ 3000000 baud',
      async open() {
        attempts++;
        throw new Error('serial /dev/ttyUSB9 cannot be opened (ENOENT): is the scanner plugged in?');
      },
    };
    const service = new LineStreamService({
      name: 's',
      opener,
      translator,
      counters: newCounters(),
      log,
      reconnect: { initialMs: 5, maxMs: 20 },
      statusIntervalMs: 60_000,
      random: () => 1,
    });
    await service.start();
    try {
      while (attempts < 8) await new Promise((r) => setTimeout(r, 5));
    } finally {
      await service.stop();
    }
    const down = statuses.filter((s) => s.state === 'disconnected');
    expect(down).toHaveLength(1);
    expect(down[0]!.detail).toBe(
      'serial /dev/ttyUSB9 cannot be opened (ENOENT): is the scanner plugged in?; retrying with backoff (at most every 0.02 s)',
    );
  });
});
