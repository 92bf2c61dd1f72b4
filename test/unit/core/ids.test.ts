import { describe, expect, it } from 'vitest';
import { isUuidv7, uuidv7, uuidv7Time } from '../../../core/ids.js';

describe('uuidv7', () => {
  it('has the version 7 and variant bits, and carries its minting time', () => {
    const t = Date.UTC(2026, 11, 6, 12, 0, 0, 123);
    const id = uuidv7(t);
    expect(isUuidv7(id)).toBe(true);
    expect(uuidv7Time(id)).toBe(t);
  });

  it('sorts in minting order, also within one millisecond and when the clock steps back', () => {
    const ids: string[] = [];
    const t = Date.now();
    for (let i = 0; i < 10_000; i++) ids.push(uuidv7(i < 5000 ? t : t - 1000));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
