import { describe, expect, it } from 'vitest';
import { CO2_DEFAULT_MAP, HEARTBEAT_DEFAULT_MAP } from '../../../../config/schema/sensors.js';
import { crc16Modbus } from '../../../../core/crc16-modbus.js';
import { co2Reading } from '../../../../firmware-bridge/sensors/co2-translator.js';
import { heartbeatReading } from '../../../../firmware-bridge/sensors/heartbeat-translator.js';
import { blockOf, decodeBlock, type RegisterMap } from '../../../../firmware-bridge/sensors/register-map.js';

const at = { device: 'd1', laneId: 'l1', at: '2026-01-01T00:00:00.000Z' };

describe('register maps', () => {
  it('reads the whole map in one block and decodes u16, s16, u32, s32 and f32 (high word first) with scale', () => {
    const map: RegisterMap<'a' | 'b' | 'c' | 'd' | 'e'> = {
      table: 'holding',
      fields: {
        a: { address: 10, type: 'u16', scale: 1 },
        b: { address: 11, type: 's16', scale: 0.1 },
        c: { address: 12, type: 'u32', scale: 1 },
        d: { address: 14, type: 's32', scale: 1 },
        e: { address: 16, type: 'f32', scale: 1 },
      },
    };
    expect(blockOf(map)).toEqual({ address: 10, count: 8 });
    const f = Buffer.alloc(4);
    f.writeFloatBE(412.5);
    const regs = [65535, 0xff38, 0x0001, 0x86a0, 0xffff, 0xfffe, f.readUInt16BE(0), f.readUInt16BE(2)];
    const d = decodeBlock(map, { address: 10 }, regs);
    expect(d.a.value).toBe(65535);
    expect(d.b.value).toBeCloseTo(-20);
    expect(d.c.value).toBe(100_000);
    expect(d.d.value).toBe(-2);
    expect(d.e.value).toBe(412.5);
  });

  it('refuses a map that one read cannot cover', () => {
    expect(() =>
      blockOf({
        table: 'input',
        fields: { a: { address: 0, type: 'u16', scale: 1 }, b: { address: 200, type: 'u16', scale: 1 } },
      }),
    ).toThrow(/spans 201 registers \(0-200\); one Modbus read takes at most 125/);
  });

  it('CO2 translator: values, warming up, fault, and an out-of-range register named with its raw value', () => {
    const block = blockOf(CO2_DEFAULT_MAP);
    expect(co2Reading(CO2_DEFAULT_MAP, block, [1250, 0xffce, 612, 0], at)).toMatchObject({
      sense: 'co2',
      ppm: 1250,
      temperatureC: -5,
      humidityPct: 61.2,
      quality: 'ok',
    });
    expect(co2Reading(CO2_DEFAULT_MAP, block, [1250, 200, 612, 1], at)).toMatchObject({
      quality: 'warming-up',
      detail: 'status word 1: warming up',
    });
    expect(co2Reading(CO2_DEFAULT_MAP, block, [1250, 200, 612, 3], at)).toMatchObject({ quality: 'sensor-fault' });
    expect(co2Reading(CO2_DEFAULT_MAP, block, [420, 200, 1500, 0], at)).toMatchObject({
      quality: 'out-of-range',
      detail: 'humidityPct 150 (register 2, raw 1500) outside 0-100',
    });
  });

  it('heartbeat translator: score and signal quality in thousandths, the engine-off flag', () => {
    const block = blockOf(HEARTBEAT_DEFAULT_MAP);
    expect(heartbeatReading(HEARTBEAT_DEFAULT_MAP, block, [873, 640, 1, 0], at)).toMatchObject({
      sense: 'heartbeat',
      score: 0.873,
      signalQuality: 0.64,
      engineOff: true,
      quality: 'ok',
    });
    expect(heartbeatReading(HEARTBEAT_DEFAULT_MAP, block, [873, 640, 0, 0], at).engineOff).toBe(false);
    expect(heartbeatReading(HEARTBEAT_DEFAULT_MAP, block, [873, 640, 2, 0], at)).toMatchObject({
      quality: 'out-of-range',
      detail: 'engineOff 2 (register 2, raw 2) outside 0-1',
    });
  });
});

describe('CRC-16/MODBUS', () => {
  it('matches the specification example: read holding registers request 01 03 00 00 00 0A → C5 CD', () => {
    const frame = Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a]);
    expect(crc16Modbus(frame)).toBe(0xcdc5);
  });
});
