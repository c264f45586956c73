import { planBatch, terminalSet } from '../../src/sync/plan.js';
import type { StoredState } from '../../src/store/apply.js';
import { lipsync, uuid } from '../helpers/lipsync.js';

const options = { terminalStatuses: terminalSet(['done', 'failed']), missingGraceCycles: 3, now: new Date('2026-01-01T00:00:00Z') };
const [a, b, c] = [uuid(100), uuid(101), uuid(102)] as [string, string, string];

function state(partial: Partial<StoredState> = {}): StoredState {
  return { fields: { status: 'running', progress: '0.5', failed_reason: null }, rev: 4, missed: 0, label: 'running', ...partial };
}

describe('planBatch', () => {
  it('writes every answered id with the rev it read and marks terminal ones for removal', () => {
    const plan = planBatch([a, b], [lipsync({ id: a, status: 'running', progress: '0.5' }), lipsync({ id: b, status: 'DONE', progress: '1' })], [], new Map([[a, state()], [b, state({ rev: 9 })]]), options);
    expect(plan.ops.map((o) => [o.id, o.rev, o.events.length, o.remove])).toEqual([
      [a, 4, 0, false],
      [b, 9, 2, true],
    ]);
    expect(plan.ops[1]?.to).toBe('done');
    expect(plan.transitions).toEqual([{ id: b, from: 'running', to: 'done' }]);
    expect(plan.ops[0]?.del).toEqual(['failed_reason']);
  });

  it('counts absent ids as missing and expires them at the grace limit with a missing event', () => {
    const plan = planBatch([a, b], [], [], new Map([[a, state({ missed: 0 })], [b, state({ missed: 2 })]]), options);
    expect(plan.missing).toEqual([a, b]);
    expect(plan.missingExpired).toEqual([b]);
    expect(plan.ops.map((o) => [o.set['missed'], o.remove, o.events.map((e) => e.type)])).toEqual([
      ['1', false, []],
      ['3', true, ['lipsync.missing']],
    ]);
  });

  it('does not count a malformed item as missing and leaves it untouched', () => {
    const plan = planBatch([a, b], [lipsync({ id: a })], [{ id: b, index: 1, issues: 'aspect_ratio: invalid' }], new Map(), options);
    expect(plan.missing).toEqual([]);
    expect(plan.ops.map((o) => o.id)).toEqual([a]);
  });

  it('ignores items that were not asked for and duplicates in one answer', () => {
    const plan = planBatch([a], [lipsync({ id: a }), lipsync({ id: a, status: 'done' }), lipsync({ id: c })], [], new Map(), options);
    expect(plan.unexpected).toEqual([c]);
    expect(plan.ops).toHaveLength(1);
    expect(plan.transitions).toEqual([{ id: a, from: 'none', to: 'pending' }]);
  });

  it('normalises upper-case ids from the answer to the tracked form', () => {
    const plan = planBatch([a], [lipsync({ id: a.toUpperCase() })], [], new Map(), options);
    expect(plan.ops[0]?.id).toBe(a);
    expect(plan.missing).toEqual([]);
  });
});
