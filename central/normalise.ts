/**
 * A plate or container code as searched: upper case, without spaces, dashes or dots, with the
 * letters that ANPR and people confuse with digits folded onto them (O→0, I→1), so that
 * "ab 12 cdo" and "AB12CD0" find the same crossings.
 */
export function normaliseCode(raw: string | undefined | null): string | null {
  if (!raw) return null;
  const s = raw
    .toUpperCase()
    .replace(/[\s\-.·_/]+/g, '')
    .replace(/O/g, '0')
    .replace(/I/g, '1');
  return s.length ? s : null;
}
