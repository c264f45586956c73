import { createRng } from '../../src/simulator/timeline.js';
import { FAULT_KINDS, FaultPlan, rewriteAnswer, type Item } from './faults.js';

const items: Item[] = [
  { id: 'aaaaaaaa-0000-4000-8000-000000000001', status: 'running', progress: '0.2', updated_at: '2026-01-01T00:00:02Z' },
  { id: 'aaaaaaaa-0000-4000-8000-000000000002', status: 'pending', progress: '0', updated_at: '2026-01-01T00:00:02Z' },
];
const ids = items.map((i) => i['id']);

describe('FaultPlan', () => {
  it('injects every kind within one round of faults, and none at rate 0', () => {
    const plan = new FaultPlan(createRng(1), 1);
    expect(new Set(FAULT_KINDS.map(() => plan.next()))).toEqual(new Set(FAULT_KINDS));
    expect(new FaultPlan(createRng(1), 0).next()).toBeNull();
  });
});

describe('rewriteAnswer', () => {
  const noOlder = (): undefined => undefined;

  it('truncates to text that is not JSON and answers no id', () => {
    const out = rewriteAnswer('truncated_json', items, createRng(2), noOlder);
    expect(() => JSON.parse(out.body) as unknown).toThrow();
    expect(out.answered).toEqual([]);
  });

  it('keeps every asked id answered when it duplicates an item or adds one not asked for', () => {
    for (const kind of ['duplicated_item', 'unasked_id'] as const) {
      const out = rewriteAnswer(kind, items, createRng(3), noOlder);
      expect((JSON.parse(out.body) as Item[]).length).toBe(3);
      expect(out.answered).toEqual(ids);
    }
  });

  it('does not count a poll of the item it made stale or unreadable', () => {
    const old = { ...items[0], progress: '0.1', updated_at: '2026-01-01T00:00:01Z' };
    const stale = rewriteAnswer('stale_item', items, createRng(4), () => old);
    expect(stale.answered.length).toBe(1);
    expect(stale.body).toContain('"updated_at":"2026-01-01T00:00:01Z"');
    expect(rewriteAnswer('stale_item', items, createRng(4), noOlder).count).toBe(0);
    const unreadable = rewriteAnswer('item_without_status', items, createRng(5), noOlder);
    expect((JSON.parse(unreadable.body) as Item[]).filter((i) => i['status'] === undefined)).toHaveLength(1);
    expect(unreadable.answered.length).toBe(1);
  });

  it('counts every id of an emptied answer', () => {
    expect(rewriteAnswer('empty_array', items, createRng(6), noOlder)).toEqual({ body: '[]', answered: [], count: 2 });
  });
});
