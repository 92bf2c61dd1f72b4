import { describe, expect, it } from 'vitest';
import { normaliseCode } from '../../../central/normalise.js';
import { figuresCsv } from '../../../central/server/central-api.js';

describe('normaliseCode: plates and container codes as searched', () => {
  it('folds case, spaces, dashes, dots and the O/0 and I/1 confusions', () => {
    expect(normaliseCode('ab 12 cdo')).toBe('AB12CD0');
    expect(normaliseCode('AB-12-CD0')).toBe(normaliseCode('ab12cdo'));
    expect(normaliseCode('MSCU 123456-7')).toBe('MSCU1234567');
    expect(normaliseCode('I0I.O1')).toBe('10101');
  });
  it('gives null for nothing to search', () => {
    expect(normaliseCode(undefined)).toBeNull();
    expect(normaliseCode(' - ')).toBeNull();
  });
});

describe('figuresCsv', () => {
  it('writes one header and one line per row, quoting where needed', () => {
    const csv = figuresCsv([
      {
        siteId: 'north',
        laneId: 'lane-1',
        day: '2026-12-01',
        modelVersion: '1.2.0',
        scans: 10,
        persons: 2,
        unavailable: 1,
        alerts: 3,
        dispositions: 2,
        falseAlarms: 1,
        falseAlarmRate: 0.5,
      },
      {
        siteId: 'a,b',
        laneId: 'l',
        day: '2026-12-01',
        modelVersion: null,
        scans: 1,
        persons: 0,
        unavailable: 0,
        alerts: 0,
        dispositions: 0,
        falseAlarms: 0,
        falseAlarmRate: null,
      },
    ]);
    expect(csv.split('\n')).toEqual([
      'site,lane,day,model_version,scans,persons,unavailable,alerts,dispositions,false_alarms,false_alarm_rate',
      'north,lane-1,2026-12-01,1.2.0,10,2,1,3,2,1,0.5000',
      '"a,b",l,2026-12-01,,1,0,0,0,0,0,',
      '',
    ]);
  });
});
