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
  const answer = { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(items) };
  const rewrite = (kind: Parameters<typeof rewriteAnswer>[0], seed: number, older: (id: string) => Item | undefined = noOlder) => rewriteAnswer(kind, answer, createRng(seed), 0, older);

  it('truncates to text that is not JSON and answers no id', () => {
    const out = rewrite('truncated_json', 2);
    expect(() => JSON.parse(out.answer.body) as unknown).toThrow();
    expect(out.answered).toEqual([]);
  });

  it('replaces the answer with a 502 page or a 429, with and without Retry-After', () => {
    expect(rewrite('html_502', 1).answer.status).toBe(502);
    expect(rewrite('rate_limited_retry_after', 1).answer.headers['retry-after']).toBe('1');
    expect(rewrite('rate_limited_bare', 1).answer).toMatchObject({ status: 429 });
    expect(rewrite('rate_limited_bare', 1).answer.headers['retry-after']).toBeUndefined();
  });

  it('keeps every asked id answered when it duplicates an item or adds one not asked for', () => {
    for (const kind of ['duplicated_item', 'unasked_id'] as const) {
      const out = rewrite(kind, 3);
      expect((JSON.parse(out.answer.body) as Item[]).length).toBe(3);
      expect(out.answered).toEqual(ids);
    }
  });

  it('does not count a poll of the item it made stale or unreadable', () => {
    const old = { ...items[0], progress: '0.1', updated_at: '2026-01-01T00:00:01Z' };
    const stale = rewrite('stale_item', 4, () => old);
    expect(stale.answered.length).toBe(1);
    expect(stale.answer.body).toContain('"updated_at":"2026-01-01T00:00:01Z"');
    expect(rewrite('stale_item', 4).count).toBe(0);
    const unreadable = rewrite('item_without_status', 5);
    expect((JSON.parse(unreadable.answer.body) as Item[]).filter((i) => i['status'] === undefined)).toHaveLength(1);
    expect(unreadable.answered.length).toBe(1);
  });

  it('counts every id of an emptied answer', () => {
    const out = rewrite('empty_array', 6);
    expect(out).toMatchObject({ answered: [], count: 2 });
    expect(out.answer.body).toBe('[]');
  });
});
