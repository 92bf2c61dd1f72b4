/**
 * The Sparkplug B payload (Eclipse Tahu sparkplug_b.proto, `Payload` and `Metric`), encoded and
 * decoded by hand for the fields this node uses: timestamp, seq, and metrics with name,
 * timestamp, datatype, is_null and a scalar value. Checked against Eclipse Tahu's own
 * sparkplug-payload library in test/unit/outputs/mqtt/sparkplug-codec.test.ts.
 */

const SPARKPLUG_TYPES = {
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
} as const;
export type SparkplugType = keyof typeof SPARKPLUG_TYPES;
const TYPE_NAMES = Object.fromEntries(Object.entries(SPARKPLUG_TYPES).map(([k, v]) => [v, k])) as Record<
  number,
  SparkplugType
>;

export interface SparkplugMetric {
  name: string;
  type: SparkplugType;
  /** null: is_null set, no value. 64-bit integers may be bigint. */
  value: number | bigint | boolean | string | null;
  timestamp?: number;
}

export interface SparkplugPayload {
  timestamp: number;
  seq?: number;
  metrics: SparkplugMetric[];
}

class Writer {
  readonly #parts: Buffer[] = [];

  varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    const bytes: number[] = [];
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n > 0n) b |= 0x80;
      bytes.push(b);
    } while (n > 0n);
    this.#parts.push(Buffer.from(bytes));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  bytes(field: number, b: Buffer): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.#parts.push(b);
  }

  fixed32float(field: number, v: number): void {
    this.tag(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.#parts.push(b);
  }

  fixed64double(field: number, v: number): void {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.#parts.push(b);
  }

  done(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

function encodeMetric(m: SparkplugMetric): Buffer {
  const w = new Writer();
  w.bytes(1, Buffer.from(m.name, 'utf8'));
  if (m.timestamp !== undefined) {
    w.tag(3, 0);
    w.varint(m.timestamp);
  }
  w.tag(4, 0);
  w.varint(SPARKPLUG_TYPES[m.type]);
  if (m.value === null) {
    w.tag(7, 0);
    w.varint(1);
    return w.done();
  }
  switch (m.type) {
    case 'Int8':
    case 'Int16':
    case 'Int32':
    case 'UInt8':
    case 'UInt16':
      w.tag(10, 0);
      w.varint(BigInt.asUintN(32, BigInt(m.value as number)));
      break;
    // The specification (and Eclipse Tahu) carry UInt32 in long_value, like the 64-bit types.
    case 'UInt32':
    case 'Int64':
    case 'UInt64':
    case 'DateTime':
      w.tag(11, 0);
      w.varint(BigInt(m.value as number | bigint));
      break;
    case 'Float':
      w.fixed32float(12, m.value as number);
      break;
    case 'Double':
      w.fixed64double(13, m.value as number);
      break;
    case 'Boolean':
      w.tag(14, 0);
      w.varint(m.value ? 1 : 0);
      break;
    case 'String':
    case 'Text':
      w.bytes(15, Buffer.from(String(m.value), 'utf8'));
      break;
  }
  return w.done();
}

export function encodeSparkplug(p: SparkplugPayload): Buffer {
  const w = new Writer();
  w.tag(1, 0);
  w.varint(p.timestamp);
  for (const m of p.metrics) w.bytes(2, encodeMetric(m));
  if (p.seq !== undefined) {
    w.tag(3, 0);
    w.varint(p.seq);
  }
  return w.done();
}

type Field = { field: number; wire: number; int?: bigint; bytes?: Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('Sparkplug payload: truncated varint');
      const b = buf[i++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('Sparkplug payload: varint too long');
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { field, wire, int: varint() };
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (i + n > buf.length) throw new Error('Sparkplug payload: truncated fixed field');
      yield { field, wire, bytes: buf.subarray(i, i + n) };
      i += n;
    } else if (wire === 2) {
      const n = Number(varint());
      if (i + n > buf.length) throw new Error('Sparkplug payload: truncated length-delimited field');
      yield { field, wire, bytes: buf.subarray(i, i + n) };
      i += n;
    } else throw new Error(`Sparkplug payload: unsupported wire type ${wire} (field ${field})`);
  }
}

function decodeMetric(buf: Buffer): SparkplugMetric {
  let name = '';
  let type: SparkplugType = 'String';
  let value: SparkplugMetric['value'] = null;
  let timestamp: number | undefined;
  for (const f of fields(buf)) {
    if (f.field === 1 && f.bytes) name = f.bytes.toString('utf8');
    else if (f.field === 3 && f.int !== undefined) timestamp = Number(f.int);
    else if (f.field === 4 && f.int !== undefined) type = TYPE_NAMES[Number(f.int)] ?? 'String';
    else if (f.field === 10 && f.int !== undefined) value = Number(f.int);
    else if (f.field === 11 && f.int !== undefined)
      value = f.int <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(f.int) : f.int;
    else if (f.field === 12 && f.bytes) value = f.bytes.readFloatLE(0);
    else if (f.field === 13 && f.bytes) value = f.bytes.readDoubleLE(0);
    else if (f.field === 14 && f.int !== undefined) value = f.int !== 0n;
    else if (f.field === 15 && f.bytes) value = f.bytes.toString('utf8');
  }
  if (value !== null && typeof value === 'number' && (type === 'Int8' || type === 'Int16' || type === 'Int32'))
    value = Number(BigInt.asIntN(32, BigInt(value)));
  return { name, type, value, ...(timestamp !== undefined ? { timestamp } : {}) };
}

/** Decodes a Sparkplug B payload (e.g. an NCMD); unknown fields are skipped. Throws on a malformed buffer. */
export function decodeSparkplug(buf: Buffer): SparkplugPayload {
  let timestamp = 0;
  let seq: number | undefined;
  const metrics: SparkplugMetric[] = [];
  for (const f of fields(buf)) {
    if (f.field === 1 && f.int !== undefined) timestamp = Number(f.int);
    else if (f.field === 2 && f.bytes) metrics.push(decodeMetric(f.bytes));
    else if (f.field === 3 && f.int !== undefined) seq = Number(f.int);
  }
  return { timestamp, metrics, ...(seq !== undefined ? { seq } : {}) };
}
