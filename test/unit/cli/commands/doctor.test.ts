import { describe, expect, it } from 'vitest';
import { doctorPassed } from '../../../../cli/commands/doctor.js';

describe('doctor exit rule', () => {
  const ok = { status: 'ok' };
  const warn = { status: 'warn' };
  const fail = { status: 'FAIL' };

  it('passes only when every check passed', () => {
    expect(doctorPassed([ok, ok], false)).toBe(true);
    expect(doctorPassed([ok, warn], false)).toBe(false);
    expect(doctorPassed([ok, fail], false)).toBe(false);
  });

  it('accepts warnings, never failures, when warnings are allowed', () => {
    expect(doctorPassed([ok, warn], true)).toBe(true);
    expect(doctorPassed([warn, fail], true)).toBe(false);
  });
});
