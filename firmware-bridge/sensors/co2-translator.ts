import type { Co2Reading } from '../../core/senses.js';
import { decodeBlock, type RegisterMap, readingQuality } from './register-map.js';

export type Co2Map = RegisterMap<'ppm' | 'temperatureC' | 'humidityPct' | 'status'>;

/**
 * The one CO2 probe translator: a block of registers in, a typed reading out. The status word's
 * bit 0 means warming up, bit 1 a sensor fault; a value outside its field's range makes the
 * reading out-of-range, with the register and value named.
 */
export function co2Reading(
  map: Co2Map,
  block: { address: number },
  regs: number[],
  at: { device: string; laneId: string; at: string },
): Co2Reading {
  const d = decodeBlock(map, block, regs);
  const { quality, detail } = readingQuality(d.status.value, [d.ppm, d.temperatureC, d.humidityPct], 'warming up');
  return {
    sense: 'co2',
    device: at.device,
    laneId: at.laneId,
    at: at.at,
    ppm: d.ppm.value,
    temperatureC: d.temperatureC.value,
    humidityPct: d.humidityPct.value,
    quality,
    ...(detail ? { detail } : {}),
  };
}
