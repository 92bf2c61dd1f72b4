import { randomBytes } from 'node:crypto';

let lastMs = -1;
/** 12-bit counter within one millisecond (RFC 9562 method 1), so ids minted in one ms still sort. */
let seq = 0;

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix time in ms, then 74 random bits, with a counter
 * in rand_a so that ids minted by this process sort in minting order. The edge mints one for
 * every scan and every alert; ids the scanner supplies are kept beside it, never used as keys.
 */
export function uuidv7(now: number = Date.now()): string {
  let ms = Math.max(0, Math.floor(now));
  if (ms <= lastMs) {
    seq++;
    if (seq > 0xfff) {
      // More than 4,096 ids in one ms: borrow the next ms rather than lose the order.
      lastMs++;
      seq = 0;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    seq = randomBytes(2).readUInt16BE(0) & 0x1ff; // a random start, far from the counter's end
  }
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | ((seq >> 8) & 0x0f);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuidv7(s: string): boolean {
  return UUIDV7.test(s);
}

/** The time a UUIDv7 was minted at (ms since the epoch). */
export function uuidv7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}
