const PLATE_LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';

/** A made-up plate derived from a synthesized scan's seed, so the same seed always shows the same plate. */
export function plateFor(seed: number): string {
  const l = (k: number) => PLATE_LETTERS[Math.floor(seed / 23 ** k) % PLATE_LETTERS.length];
  return `${l(0)}${l(1)} ${String(seed % 1000).padStart(3, '0')} ${l(2)}`;
}
