import { describe, expect, it } from 'vitest';
import { ABORT_REASONS, type ScanMeta } from '../../../core/domain.js';
import type { ScanState } from '../../../core/domain.js';
import { ScanSession, ScanStateError } from '../../../pipeline/scan-session.js';

const meta = (scanId = 's1'): ScanMeta => ({
  scanId,
  laneId: 'l1',
  startedAt: new Date(0).toISOString(),
  channels: 4,
  energies: 1,
  pixelMm: 5,
  source: 'stream',
});

describe('ScanSession', () => {
  it('goes idle -> scanning -> analysing -> decided, reporting each state', () => {
    const states: ScanState[] = [];
    const s = new ScanSession((st) => states.push(st));
    expect(s.state).toBe('idle');
    s.begin(meta());
    s.addLines(10);
    s.addLines(5);
    expect(s.lines).toBe(15);
    expect(s.active).toBe(true);
    s.end();
    expect(s.active).toBe(true);
    s.decide();
    expect(s.active).toBe(false);
    expect(states).toEqual(['scanning', 'analysing', 'decided']);
  });

  for (const reason of ABORT_REASONS) {
    it(`aborts from scanning with reason ${reason}`, () => {
      const s = new ScanSession();
      s.begin(meta());
      s.abort(reason);
      expect(s.state).toBe('aborted');
      expect(s.abortReason).toBe(reason);
    });
  }

  it('aborts from analysing', () => {
    const s = new ScanSession();
    s.begin(meta());
    s.end();
    s.abort('link-lost');
    expect(s.state).toBe('aborted');
  });

  it('starts the next scan from decided or aborted, clearing the last one', () => {
    const s = new ScanSession();
    s.begin(meta('a'));
    s.abort('timeout');
    s.begin(meta('b'));
    expect(s.abortReason).toBeNull();
    expect(s.lines).toBe(0);
    s.end();
    s.decide();
    s.begin(meta('c'));
    expect(s.scanId).toBe('c');
    s.abort('scanner-fault');
    s.reset();
    expect(s.state).toBe('idle');
  });

  const illegal: [string, (s: ScanSession) => void, (s: ScanSession) => void][] = [
    ['end while idle', () => {}, (s) => s.end()],
    ['decide while idle', () => {}, (s) => s.decide()],
    ['abort while idle', () => {}, (s) => s.abort('timeout')],
    ['add lines while idle', () => {}, (s) => s.addLines(1)],
    ['begin while scanning', (s) => s.begin(meta()), (s) => s.begin(meta('x'))],
    ['decide while scanning', (s) => s.begin(meta()), (s) => s.decide()],
    ['reset while scanning', (s) => s.begin(meta()), (s) => s.reset()],
    [
      'add lines while analysing',
      (s) => {
        s.begin(meta());
        s.end();
      },
      (s) => s.addLines(1),
    ],
    [
      'begin while analysing',
      (s) => {
        s.begin(meta());
        s.end();
      },
      (s) => s.begin(meta('x')),
    ],
    [
      'end while decided',
      (s) => {
        s.begin(meta());
        s.end();
        s.decide();
      },
      (s) => s.end(),
    ],
    [
      'abort while decided',
      (s) => {
        s.begin(meta());
        s.end();
        s.decide();
      },
      (s) => s.abort('timeout'),
    ],
    [
      'decide while aborted',
      (s) => {
        s.begin(meta());
        s.abort('timeout');
      },
      (s) => s.decide(),
    ],
  ];
  for (const [name, setup, act] of illegal) {
    it(`refuses to ${name}`, () => {
      const s = new ScanSession();
      setup(s);
      const before = s.state;
      expect(() => act(s)).toThrow(ScanStateError);
      expect(s.state).toBe(before);
    });
  }
});
