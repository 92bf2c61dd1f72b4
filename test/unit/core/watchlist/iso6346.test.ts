import { describe, expect, it } from 'vitest';
import { compactContainerCode, iso6346CheckDigit, iso6346Problem } from '../../../../core/watchlist/iso6346.js';

describe('ISO 6346 container codes', () => {
  it('computes the check digit of published examples', () => {
    expect(iso6346CheckDigit('CSQU305438')).toBe(3); // the standard's own example
    expect(iso6346CheckDigit('MSCU123456')).toBe(6);
    expect(iso6346CheckDigit('TGHU876543')).toBe(6);
  });

  it('takes a valid code and names a wrong check digit or shape', () => {
    expect(iso6346Problem('CSQU3054383')).toBeNull();
    expect(iso6346Problem('CSQU3054384')).toBe(
      '"CSQU3054384" has check digit 4, ISO 6346 gives 3: a misread or mistyped code',
    );
    expect(iso6346Problem('CSQX3054383')).toMatch(
      /not an ISO 6346 code: owner code \(3 letters\), category U\/J\/Z\/R/,
    );
    expect(iso6346Problem('CSQU305438')).toMatch(/not an ISO 6346 code/);
  });

  it('removes spaces, dashes and dots before checking', () => {
    expect(compactContainerCode('csqu 305438-3')).toBe('CSQU3054383');
  });
});
