import type { HeartbeatReading } from '../../core/senses.js';
import { decodeBlock, type RegisterMap, readingQuality } from './register-map.js';

export type HeartbeatMap = RegisterMap<'score' | 'signalQuality' | 'engineOff' | 'status'>;

/**
 * The one heartbeat detector translator: a block of registers in, a typed reading out. The
 * status word's bit 0 means still measuring, bit 1 a sensor fault; a value outside its field's
 * range makes the reading out-of-range, with the register and value named.
 */
export function heartbeatReading(
  map: HeartbeatMap,
  block: { address: number },
  regs: number[],
  at: { device: string; laneId: string; at: string },
): HeartbeatReading {
  const d = decodeBlock(map, block, regs);
  const { quality, detail } = readingQuality(
    d.status.value,
    [d.score, d.signalQuality, d.engineOff],
    'still measuring',
  );
  return {
    sense: 'heartbeat',
    device: at.device,
    laneId: at.laneId,
    at: at.at,
    score: d.score.value,
    signalQuality: d.signalQuality.value,
    engineOff: d.engineOff.value === 1,
    quality,
    ...(detail ? { detail } : {}),
  };
}
