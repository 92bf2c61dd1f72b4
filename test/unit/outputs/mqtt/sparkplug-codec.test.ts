import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeSparkplug, encodeSparkplug, type SparkplugPayload } from '../../../../outputs/mqtt/sparkplug-codec.js';

/** Eclipse Tahu's reference implementation, to check this codec against. */
const tahu = (
  createRequire(import.meta.url)('sparkplug-payload') as {
    get(ns: string): { encodePayload(p: unknown): Uint8Array; decodePayload(b: Uint8Array): Record<string, unknown> };
  }
).get('spBv1.0');
const num = (v: unknown) =>
  v && typeof v === 'object' && 'low' in v ? Number((v as { toString(): string }).toString()) : v;

const payload: SparkplugPayload = {
  timestamp: 1_764_000_000_123,
  seq: 7,
  metrics: [
    { name: 'bdSeq', type: 'UInt64', value: 3 },
    { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
    { name: 'Lane/Overall', type: 'String', value: 'degraded' },
    { name: 'Scans/Last/Score', type: 'Double', value: 0.8125, timestamp: 1_764_000_000_100 },
    { name: 'Temperature', type: 'Float', value: 21.5 },
    { name: 'Offset', type: 'Int32', value: -5 },
    { name: 'Outbox/Depth', type: 'UInt32', value: 42 },
    { name: 'Scans/Last/Id', type: 'String', value: null },
  ],
};

describe('Sparkplug B codec', () => {
  it('encodes what Eclipse Tahu decodes', () => {
    const d = tahu.decodePayload(encodeSparkplug(payload));
    expect(num(d.timestamp)).toBe(payload.timestamp);
    expect(num(d.seq)).toBe(7);
    const metrics = d.metrics as {
      name: string;
      type: string;
      value: unknown;
      isNull?: boolean;
      timestamp?: unknown;
    }[];
    expect(metrics.map((m) => [m.name, m.type])).toEqual(payload.metrics.map((m) => [m.name, m.type]));
    expect(metrics.slice(0, 7).map((m) => num(m.value))).toEqual([3, false, 'degraded', 0.8125, 21.5, -5, 42]);
    expect(num(metrics[3].timestamp)).toBe(1_764_000_000_100);
    expect(metrics[7].value).toBeNull();
  });

  it('decodes what Eclipse Tahu encodes (an NCMD rebirth)', () => {
    const bytes = tahu.encodePayload({
      timestamp: 1_764_000_000_000,
      metrics: [
        { name: 'Node Control/Rebirth', type: 'Boolean', value: true },
        { name: 'Big', type: 'UInt64', value: 1_234_567_890_123 },
      ],
    });
    expect(decodeSparkplug(Buffer.from(bytes))).toEqual({
      timestamp: 1_764_000_000_000,
      metrics: [
        { name: 'Node Control/Rebirth', type: 'Boolean', value: true },
        { name: 'Big', type: 'UInt64', value: 1_234_567_890_123 },
      ],
    });
  });

  it('writes the same bytes as Eclipse Tahu', () => {
    const p: SparkplugPayload = {
      timestamp: 1,
      seq: 0,
      metrics: [
        { name: 'bdSeq', type: 'UInt64', value: 3 },
        { name: 'x', type: 'String', value: null },
      ],
    };
    expect(encodeSparkplug(p).toString('hex')).toBe(Buffer.from(tahu.encodePayload(p)).toString('hex'));
  });

  it('round-trips, and refuses a truncated payload', () => {
    expect(decodeSparkplug(encodeSparkplug(payload)).metrics.map((m) => m.value)).toEqual([
      3,
      false,
      'degraded',
      0.8125,
      21.5,
      -5,
      42,
      null,
    ]);
    const bytes = encodeSparkplug(payload);
    expect(() => decodeSparkplug(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/);
  });
});
