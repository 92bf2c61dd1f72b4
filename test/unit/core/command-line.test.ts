import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  choiceOption,
  integerOption,
  numberOption,
  parseCommandArgs,
  requiredOption,
  UsageError,
} from '../../../core/command-line.js';

const cmd = { name: 'sim thing', usage: 'Usage: checkpoint-edge sim thing [--n <n>]' };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('parseCommandArgs', () => {
  it('parses the options and turns an unknown one into a usage error that names the command', () => {
    expect(parseCommandArgs(cmd, ['--n', '3'], { n: { type: 'string' } })?.values).toEqual({ n: '3' });
    expect(() => parseCommandArgs(cmd, ['--bogus'], { n: { type: 'string' } })).toThrow(UsageError);
    expect(() => parseCommandArgs(cmd, ['--bogus'], { n: { type: 'string' } })).toThrow(
      /^sim thing: .*--bogus.*\nRun 'checkpoint-edge sim thing --help' for usage\.$/s,
    );
  });

  it('prints the usage for --help and -h and answers null', () => {
    const out = vi.spyOn(process.stdout, 'write').mockReturnValue(true);
    expect(parseCommandArgs(cmd, ['--help'], {})).toBeNull();
    expect(parseCommandArgs(cmd, ['-h'], {})).toBeNull();
    expect(out).toHaveBeenCalledWith(`${cmd.usage}\n`);
  });
});

describe('option readers', () => {
  it('read numbers within a range, undefined when the option is absent', () => {
    expect(numberOption('demo', 'gap-ms', '250.5', { min: 0, max: 1000 })).toBe(250.5);
    expect(numberOption('demo', 'gap-ms', undefined, { min: 0, max: 1000 })).toBeUndefined();
    expect(integerOption('demo', 'scans', '3', 1, 10)).toBe(3);
    expect(() => integerOption('demo', 'scans', '2.5', 1, 10)).toThrow(
      /^demo: --scans expects an integer 1-10, got "2.5"\nRun 'checkpoint-edge demo --help' for usage\.$/,
    );
    expect(() => numberOption('demo', 'gap-ms', '-1', { min: 0, max: 1000 })).toThrow(
      /--gap-ms expects a number 0-1000, got "-1"/,
    );
    expect(() => numberOption('demo', 'gap-ms', '', { min: 0, max: 1000 })).toThrow(UsageError);
    expect(() => numberOption('demo', 'gap-ms', 'abc', { min: 0, max: 1000 })).toThrow(UsageError);
  });

  it('read a choice and a required option', () => {
    expect(choiceOption('sim filedrop', 'format', 'tiff16', ['png16', 'tiff16'])).toBe('tiff16');
    expect(choiceOption('sim filedrop', 'format', undefined, ['png16', 'tiff16'])).toBeUndefined();
    expect(() => choiceOption('sim filedrop', 'format', 'gif', ['png16', 'tiff16'])).toThrow(
      /--format expects one of png16, tiff16, got "gif"/,
    );
    expect(requiredOption('sim filedrop', 'out', '/tmp/x', '<dir>')).toBe('/tmp/x');
    expect(() => requiredOption('sim filedrop', 'out', undefined, '<dir>')).toThrow(
      /^sim filedrop: --out <dir> is required/,
    );
  });
});
