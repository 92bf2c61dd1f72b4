import { describe, expect, it } from 'vitest';
import { RuntimeMetrics, deviceUpValue } from '../../../app/runtime-metrics.js';
import { DEVICE_STATES } from '../../../core/domain.js';

describe('RuntimeMetrics: the picture thread', () => {
  it('exports its backlog, V8 heap and external buffers, read when /metrics is scraped', async () => {
    const m = new RuntimeMetrics();
    let memory: { heapBytes: number; externalBytes: number } | null = {
      heapBytes: 12_000_000,
      externalBytes: 3_500_000,
    };
    let pending = 4;
    m.watchPictureThread({ pending: () => pending, memory: async () => memory });
    let text = await m.registry.metrics();
    expect(text).toMatch(/^checkpoint_edge_pictures_pending 4$/m);
    expect(text).toMatch(/^checkpoint_edge_picture_thread_memory_bytes\{space="heap"\} 12000000$/m);
    expect(text).toMatch(/^checkpoint_edge_picture_thread_memory_bytes\{space="external"\} 3500000$/m);
    pending = 0;
    memory = { heapBytes: 13_000_000, externalBytes: 100 };
    text = await m.registry.metrics();
    expect(text).toMatch(/^checkpoint_edge_pictures_pending 0$/m);
    expect(text).toMatch(/^checkpoint_edge_picture_thread_memory_bytes\{space="external"\} 100$/m);
  });
});

describe('checkpoint_edge_device_up', () => {
  it('is 1 while the device works (ok or degraded: a scanner whose dual-energy ratio is flagged and not corrected still delivers), else 0', () => {
    expect(deviceUpValue('ok')).toBe(1);
    expect(deviceUpValue('degraded')).toBe(1);
    // Every other state, including any added later, reads down.
    const down = DEVICE_STATES.filter((s) => s !== 'ok' && s !== 'degraded');
    expect(down).toHaveLength(7);
    for (const s of down) expect(deviceUpValue(s)).toBe(0);
  });
});
