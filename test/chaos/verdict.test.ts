import { eventKey, type ExpectedEvent } from './script.js';
import { judgeEndpoint, longestPollGap, type Delivery } from './verdict.js';

const ID = '3c90c3cc-0d44-4b50-8888-8dd25736052a';

function expected(...steps: Array<[string, string, string, boolean?]>): Map<string, ExpectedEvent[]> {
  return new Map([[ID, steps.map(([type, status, progress, final], i) => ({ type, key: eventKey(type, { status, progress, failed_reason: null }), at: 1000 * i, final: final === true }))]]);
}

function delivery(webhookId: string, type: string, status: string, progress: string, receivedAt = 0, extra: { sequence?: number; signatureOk?: boolean } = {}): Delivery {
  const data = { lipsync_id: ID, current: { status, progress, failed_reason: null }, ...(extra.sequence === undefined ? {} : { sequence: extra.sequence }) };
  return { webhookId, receivedAt, signatureOk: extra.signatureOk ?? true, event: { type, data } };
}

const SCRIPT = expected(['lipsync.tracked', 'pending', '0'], ['lipsync.status_changed', 'running', '0.5'], ['lipsync.status_changed', 'done', '1'], ['lipsync.completed', 'done', '1', true]);

describe('judgeEndpoint', () => {
  it('accepts every expected event in order and counts a repeated webhook-id as an allowed duplicate', () => {
    const got = [
      delivery('a', 'lipsync.tracked', 'pending', '0'),
      delivery('b', 'lipsync.status_changed', 'running', '0.5'),
      delivery('b', 'lipsync.status_changed', 'running', '0.5'),
      delivery('c', 'lipsync.status_changed', 'done', '1'),
      delivery('d', 'lipsync.completed', 'done', '1', 3500),
    ];
    const v = judgeEndpoint(SCRIPT, got, 'ops');
    expect(v).toMatchObject({ expected: 4, delivered: 4, lost: 0, duplicates: 1, duplicatesWithNewId: 0, unexpected: 0, outOfOrder: 0 });
    expect(v.finalLatenciesMs).toEqual([500]);
  });

  it('counts a lost event, an out-of-order one and the same change under a second webhook-id', () => {
    const got = [
      delivery('a', 'lipsync.tracked', 'pending', '0'),
      delivery('c', 'lipsync.status_changed', 'done', '1'),
      delivery('b', 'lipsync.status_changed', 'running', '0.5'),
      delivery('x', 'lipsync.status_changed', 'running', '0.5'),
    ];
    const v = judgeEndpoint(SCRIPT, got, 'ops');
    expect(v).toMatchObject({ delivered: 3, lost: 1, outOfOrder: 1, duplicatesWithNewId: 1 });
    expect(v.examples.join('\n')).toContain('lipsync.completed|done|1|');
  });

  it('flags a backwards change, a decreasing data.sequence and a bad signature', () => {
    const got = [
      delivery('a', 'lipsync.tracked', 'pending', '0', 0, { sequence: 1 }),
      delivery('b', 'lipsync.status_changed', 'running', '0.5', 0, { sequence: 3 }),
      delivery('z', 'lipsync.status_changed', 'pending', '0', 0, { sequence: 2 }),
      delivery('q', 'lipsync.status_changed', 'done', '1', 0, { signatureOk: false }),
    ];
    const v = judgeEndpoint(SCRIPT, got, 'ops');
    expect(v).toMatchObject({ unexpected: 1, outOfOrder: 1, badSignatures: 1, lost: 2 });
  });
});

describe('longestPollGap', () => {
  it('measures from tracking to the poll that sees the final status, and to the end when it never comes', () => {
    const windows = new Map([
      ['a', { from: 0, terminalAt: 5000 }],
      ['b', { from: 0, terminalAt: 5000 }],
    ]);
    const polls = [
      { at: 1000, answered: ['a', 'b'] },
      { at: 4000, answered: ['a'] },
      { at: 6000, answered: ['a'] },
      { at: 60_000, answered: ['a'] },
    ];
    expect(longestPollGap(polls, windows, 8000)).toEqual({ maxGapMs: 7000, worst: { id: 'b', from: 1000 } });
    expect(longestPollGap(polls.slice(0, 3), new Map([['a', { from: 0, terminalAt: 5000 }]]), 99_000).maxGapMs).toBe(3000);
  });
});
