import { describe, expect, it } from 'vitest';
import { LaneTopics, parseTopic, watchlistFilters, watchlistTopic } from '../../../core/mqtt-topics.js';

describe('the MQTT topic contract', () => {
  it("names a list's retained snapshot and delta, and what a site subscribes to", () => {
    expect(watchlistTopic('checkpoint', 'national', 'snapshot')).toBe('checkpoint/watchlist/national/snapshot');
    expect(watchlistTopic('cp', 'interpol-smv', 'delta')).toBe('cp/watchlist/interpol-smv/delta');
    expect(watchlistFilters('checkpoint', undefined)).toEqual([
      'checkpoint/watchlist/+/snapshot',
      'checkpoint/watchlist/+/delta',
    ]);
    expect(watchlistFilters('checkpoint', ['national', 'interpol-smv'])).toEqual([
      'checkpoint/watchlist/national/snapshot',
      'checkpoint/watchlist/national/delta',
      'checkpoint/watchlist/interpol-smv/snapshot',
      'checkpoint/watchlist/interpol-smv/delta',
    ]);
  });

  it('a watchlist topic is not a lane topic', () => {
    expect(parseTopic('checkpoint', watchlistTopic('checkpoint', 'national', 'snapshot'))).toBeNull();
    expect(parseTopic('checkpoint', new LaneTopics('checkpoint', 's1', 'l1').alert)).toEqual({
      kind: 'alert',
      siteId: 's1',
      laneId: 'l1',
    });
  });
});
