/**
 * ISO 6346 freight container codes: owner code (3 letters), category (U, J, Z or R), serial
 * number (6 digits) and a check digit computed from the ten characters before it.
 */

/** Letter values of ISO 6346: A = 10, counting up and skipping the multiples of 11 (11, 22, 33). */
const LETTER_VALUE: Record<string, number> = (() => {
  const values: Record<string, number> = {};
  let v = 10;
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') {
    if (v % 11 === 0) v++;
    values[c] = v++;
  }
  return values;
})();

const SHAPE = /^[A-Z]{3}[UJZR]\d{7}$/;

/** The check digit of the first ten characters of a code (owner, category, serial). */
export function iso6346CheckDigit(first10: string): number {
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const c = first10[i]!;
    const v = c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : LETTER_VALUE[c];
    if (v === undefined)
      throw new Error(`ISO 6346: "${c}" at position ${i + 1} of ${first10} is not a letter or digit`);
    sum += v * 2 ** i;
  }
  return (sum % 11) % 10;
}

/** Spaces, dashes and dots removed, upper case: "MSCU 123456-5" → "MSCU1234565". */
export function compactContainerCode(code: string): string {
  return code.replace(/[\s.\-/]/g, '').toUpperCase();
}

/** Why a (compacted) code is not a valid ISO 6346 code, or null when it is one. */
export function iso6346Problem(code: string): string | null {
  if (!SHAPE.test(code))
    return `"${code}" is not an ISO 6346 code: owner code (3 letters), category U/J/Z/R, 6 digits and a check digit, e.g. CSQU3054383`;
  const want = iso6346CheckDigit(code.slice(0, 10));
  const got = Number(code[10]);
  return want === got ? null : `"${code}" has check digit ${got}, ISO 6346 gives ${want}: a misread or mistyped code`;
}
