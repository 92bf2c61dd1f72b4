import type { HeartbeatReading, ReadingQuality } from '../../core/senses.js';
import { decodeBlock, type RegisterMap } from './register-map.js';

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
  const status = d.status.value;
  let quality: ReadingQuality = 'ok';
  let detail: string | undefined;
  const range = [d.score, d.signalQuality, d.engineOff].map((x) => x.outOfRange).filter((x): x is string => !!x);
  if (status & 2) {
    quality = 'sensor-fault';
    detail = `status word ${status}: sensor fault`;
  } else if (range.length > 0) {
    quality = 'out-of-range';
    detail = range.join('; ');
  } else if (status & 1) {
    quality = 'warming-up';
    detail = `status word ${status}: still measuring`;
  }
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
