import type { RegisterFieldConfig } from '../../config/schema/sensors.js';
import type { ReadingQuality } from '../../core/senses.js';

/** A device's register map: which table, and each named value's place and scaling. */
export interface RegisterMap<K extends string> {
  table: 'holding' | 'input';
  fields: Record<K, RegisterFieldConfig>;
}

const WIDTH = { u16: 1, s16: 1, u32: 2, s32: 2, f32: 2 } as const;

/** The one block of registers that covers every field of the map (one request per poll). */
export function blockOf(map: RegisterMap<string>): { address: number; count: number } {
  const fields = Object.values(map.fields);
  const start = Math.min(...fields.map((f) => f.address));
  const end = Math.max(...fields.map((f) => f.address + WIDTH[f.type]));
  if (end - start > 125)
    throw new Error(
      `register map spans ${end - start} registers (${start}-${end - 1}); one Modbus read takes at most 125`,
    );
  return { address: start, count: end - start };
}

/** A decoded value, and why it is not plausible when it is out of its field's range. */
export interface Decoded {
  value: number;
  outOfRange?: string;
}

/** Decodes every field of the map from a block read at `block.address`. */
export function decodeBlock<K extends string>(
  map: RegisterMap<K>,
  block: { address: number },
  regs: number[],
): Record<K, Decoded> {
  const out = {} as Record<K, Decoded>;
  for (const [name, f] of Object.entries(map.fields) as [K, RegisterFieldConfig][]) {
    const i = f.address - block.address;
    const hi = regs[i] ?? 0;
    const lo = regs[i + 1] ?? 0;
    let raw: number;
    switch (f.type) {
      case 'u16':
        raw = hi;
        break;
      case 's16':
        raw = hi >= 0x8000 ? hi - 0x10000 : hi;
        break;
      case 'u32':
        raw = hi * 0x10000 + lo;
        break;
      case 's32':
        raw = ((hi << 16) | lo) >> 0;
        break;
      case 'f32': {
        const b = Buffer.alloc(4);
        b.writeUInt16BE(hi, 0);
        b.writeUInt16BE(lo, 2);
        raw = b.readFloatBE(0);
        break;
      }
    }
    const value = raw * f.scale;
    const low = f.min !== undefined && !(value >= f.min);
    const high = f.max !== undefined && !(value <= f.max);
    out[name] =
      low || high
        ? {
            value,
            outOfRange: `${name} ${round(value)} (register ${f.address}, raw ${raw}) outside ${f.min ?? '-∞'}-${f.max ?? '∞'}`,
          }
        : { value };
  }
  return out;
}

function round(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 1000) / 1000 : v;
}

/**
 * A reading's quality from its device's status word and its decoded fields: bit 1 a sensor fault
 * (first), then any field outside its range (each named), then bit 0, the device's not-ready state
 * (`notReady` says it in the device's words: "warming up", "still measuring").
 */
export function readingQuality(
  status: number,
  fields: Decoded[],
  notReady: string,
): { quality: ReadingQuality; detail?: string } {
  const range = fields.map((x) => x.outOfRange).filter((x): x is string => !!x);
  if (status & 2) return { quality: 'sensor-fault', detail: `status word ${status}: sensor fault` };
  if (range.length > 0) return { quality: 'out-of-range', detail: range.join('; ') };
  if (status & 1) return { quality: 'warming-up', detail: `status word ${status}: ${notReady}` };
  return { quality: 'ok' };
}
