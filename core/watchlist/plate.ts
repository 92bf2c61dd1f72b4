/**
 * Plate and container-code reads as the lane compares them. Readers and people write the same
 * plate with spaces, dashes or dots, and optical readers confuse O with 0, I with 1 and B with 8.
 */

/** Upper case, letters and digits only: "b-ab 1234" → "BAB1234". */
export function normaliseRead(value: string): string {
  return value.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/** The confusable pairs: each letter maps to the digit it is taken for (and back). */
const CONFUSABLE: Record<string, string> = { O: '0', I: '1', B: '8' };

/**
 * One spelling for every confusable variant of a normalised read: O→0, I→1, B→8. Two reads with
 * the same canonical form differ at most in confusable characters.
 */
export function canonicalRead(normalised: string): string {
  let out = '';
  for (const c of normalised) out += CONFUSABLE[c] ?? c;
  return out;
}

/** Score of an exact match (the normalised read equals the listed value). */
export const EXACT_SCORE = 1;
/** Score of a match that differs in one confusable character (O/0, I/1, B/8). */
export const CONFUSABLE_SCORE = 0.8;

/**
 * How well a normalised read matches a normalised listed value of the same canonical form:
 * 1 when equal, CONFUSABLE_SCORE when they differ in one confusable character, null when in more.
 */
export function matchScore(read: string, listed: string): number | null {
  if (read.length !== listed.length) return null;
  let differences = 0;
  for (let i = 0; i < read.length; i++) {
    if (read.charCodeAt(i) === listed.charCodeAt(i)) continue;
    if (CONFUSABLE[read[i]!] !== listed[i] && CONFUSABLE[listed[i]!] !== read[i]) return null;
    if (++differences > 1) return null;
  }
  return differences === 0 ? EXACT_SCORE : CONFUSABLE_SCORE;
}
