import { describe, expect, it } from 'vitest';
import { canonicalRead, CONFUSABLE_SCORE, matchScore, normaliseRead } from '../../../../core/watchlist/plate.js';

describe('reads as the lane compares them', () => {
  it('normalises spaces, dashes, dots and case', () => {
    expect(normaliseRead('b-ab 12.34')).toBe('BAB1234');
  });

  it('gives confusable spellings one canonical form (O/0, I/1, B/8)', () => {
    expect(canonicalRead('BO1I')).toBe('8011');
    expect(canonicalRead('8011')).toBe('8011');
  });

  it('scores exact 1, one confusable character below 1, two or a non-confusable difference not at all', () => {
    expect(matchScore('BAB1234', 'BAB1234')).toBe(1);
    expect(matchScore('8AB1234', 'BAB1234')).toBe(CONFUSABLE_SCORE);
    expect(matchScore('BAB12O4', 'BAB1204')).toBe(CONFUSABLE_SCORE);
    expect(matchScore('8AB12O4', 'BAB1204')).toBeNull();
    expect(matchScore('BAB1235', 'BAB1234')).toBeNull();
    expect(matchScore('BAB123', 'BAB1234')).toBeNull();
  });
});
