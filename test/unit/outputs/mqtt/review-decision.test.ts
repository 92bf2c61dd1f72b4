import { describe, expect, it } from 'vitest';
import { AlertLedger } from '../../../../outputs/mqtt/alert-ledger.js';
import { CommandHandler } from '../../../../outputs/mqtt/commands.js';
import { COMMAND_NAMES } from '../../../../core/mqtt-topics.js';
import { reviewReason, type StatusPayload } from '../../../../core/mqtt-payloads.js';
import type { ScanResult } from '../../../../core/domain.js';
import { EventBus } from '../../../../core/event-bus.js';
import type { LaneEvents, ReviewDecisionEvent } from '../../../../core/events.js';
import { silentLogger } from '../../../../core/logger.js';

function setup() {
  const bus = new EventBus<LaneEvents>(silentLogger());
  const decisions: ReviewDecisionEvent[] = [];
  bus.on('review.decision', 'test', (d) => void decisions.push(d));
  const handler = new CommandHandler({
    siteId: 'site-a',
    laneId: 'lane-1',
    bus,
    ledger: new AlertLedger({ path: ':memory:', laneId: 'lane-1' }),
    identities: [{ name: 'central-hq', commands: [...COMMAND_NAMES] }],
    status: () => ({ laneId: 'lane-1' }) as StatusPayload,
    log: silentLogger(),
  });
  return { handler, decisions };
}

describe('cmd/review-decision', () => {
  it('shows the decision of a scan the lane sent for review, once', () => {
    const { handler, decisions } = setup();
    handler.sentForReview('S1');
    expect(
      handler.handle(
        'review-decision',
        JSON.stringify({ scanId: 'S1', decision: 'search', analyst: 'ann', note: 'look behind the cab' }),
      ),
    ).toMatchObject({ status: 'ok', data: { scanId: 'S1', decision: 'search' } });
    expect(
      handler.handle('review-decision', JSON.stringify({ scanId: 'S1', decision: 'clear', analyst: 'bob' })),
    ).toMatchObject({ status: 'error', error: expect.stringMatching(/already has a review decision/) });
    expect(decisions).toMatchObject([
      { laneId: 'lane-1', scanId: 'S1', decision: 'search', analyst: 'ann', note: 'look behind the cab' },
    ]);
  });

  it('refuses a decision on a scan the lane never sent, or a bad decision, and shows nothing', () => {
    const { handler, decisions } = setup();
    handler.sentForReview('S1');
    expect(
      handler.handle('review-decision', JSON.stringify({ scanId: 'S9', decision: 'clear', analyst: 'ann' })),
    ).toMatchObject({ status: 'error', error: expect.stringMatching(/S9 was not sent to remote review/) });
    expect(
      handler.handle('review-decision', JSON.stringify({ scanId: 'S1', decision: 'maybe', analyst: 'ann' })),
    ).toMatchObject({ status: 'error', error: expect.stringMatching(/decision/) });
    expect(decisions).toEqual([]);
  });
});

describe('reviewReason', () => {
  const scan = (verdict: ScanResult['verdict']) => ({ verdict }) as ScanResult;
  it('sends the chosen verdicts and a share of clear scans', () => {
    const o = { verdicts: ['person'], clearShare: 0.1 };
    expect(reviewReason(scan('person'), o)).toBe('person');
    expect(reviewReason(scan('unavailable'), o)).toBeNull();
    expect(reviewReason(scan('clear'), o, () => 0.05)).toBe('quality-control');
    expect(reviewReason(scan('clear'), o, () => 0.5)).toBeNull();
    expect(reviewReason(scan('clear'), { verdicts: [], clearShare: 0 }, () => 0)).toBeNull();
  });
});
