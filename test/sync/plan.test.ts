import type { ParsedList } from '../../src/creatify/schema.js';
import { planBatch } from '../../src/sync/plan.js';
import { terminalSet } from '../../src/shared/status.js';
import { UNKNOWN_STATE, type StoredState } from '../../src/store/apply.js';
import { answerItem, uuid } from '../helpers/lipsync.js';

const options = { terminalStatuses: terminalSet(['done', 'failed']), missingGraceCycles: 3, now: new Date('2026-01-01T00:00:00Z') };
const [a, b, c] = [uuid(100), uuid(101), uuid(102)] as [string, string, string];
const T0 = '2026-01-01T00:00:00Z';

function state(partial: Partial<StoredState> = {}): StoredState {
  return { ...UNKNOWN_STATE, fields: { status: 'running', progress: '0.5', failed_reason: null }, rev: 4, label: 'running', epoch: 1000, sequence: 2, updatedAtMs: Date.parse(T0), changedAtMs: Date.parse(T0), ...partial };
}

function answer(items: ParsedList['items'], unreadable: ParsedList['unreadable'] = []): ParsedList {
  return { items, unreadable, malformed: [] };
}

describe('planBatch', () => {
  it('writes nothing for an unchanged id but marks it seen, and writes changed ones with the rev it read', () => {
    const plan = planBatch([a, b], answer([answerItem({ id: a, status: 'running', progress: '0.5', updated_at: T0 }), answerItem({ id: b, status: 'DONE', progress: '1', updated_at: T0 })]), new Map([[a, state()], [b, state({ rev: 9 })]]), options);
    expect(plan.seen).toEqual([a, b]);
    expect(plan.ops.map((o) => [o.id, o.rev, o.events.length, o.remove])).toEqual([[b, 9, 2, true]]);
    expect(plan.ops[0]?.to).toBe('done');
    expect(plan.ops[0]?.set['seq']).toBe('3');
    expect(plan.transitions).toEqual([{ id: b, from: 'running', to: 'done' }]);
    expect(plan.ops[0]?.del).toContain('failed_reason');
  });

  it('writes an unchanged id whose updated_at moved on, without an event, so a stale answer cannot sneak between', () => {
    const plan = planBatch([a], answer([answerItem({ id: a, status: 'running', progress: '0.5', updated_at: '2026-01-01T00:00:05Z' })]), new Map([[a, state()]]), options);
    expect(plan.ops.map((o) => [o.events.length, o.set['updated_at'], o.set['seq']])).toEqual([[0, '2026-01-01T00:00:05Z', '2']]);
  });

  it('skips an answer older than the stored state: no write, no event', () => {
    const plan = planBatch([a], answer([answerItem({ id: a, status: 'in_queue', progress: '0', updated_at: '2025-12-31T23:59:59Z' })]), new Map([[a, state()]]), options);
    expect(plan.ops).toEqual([]);
    expect(plan.stale).toEqual([a]);
  });

  it('applies an answer with the same updated_at as stored (second resolution upstream)', () => {
    const plan = planBatch([a], answer([answerItem({ id: a, status: 'done', progress: '1', updated_at: T0 })]), new Map([[a, state()]]), options);
    expect(plan.ops[0]?.events.map((e) => e.type)).toEqual(['lipsync.status_changed', 'lipsync.completed']);
  });

  it('numbers a requeued transition with the next sequence, so it gets a new event id', () => {
    const queued = state({ fields: { status: 'in_queue', progress: '0', failed_reason: null }, label: 'in_queue', sequence: 3 });
    const plan = planBatch([a], answer([answerItem({ id: a, status: 'running', progress: '0', updated_at: T0 })]), new Map([[a, queued]]), options);
    expect(plan.ops[0]?.events[0]?.data.sequence).toBe(4);
  });

  it('counts absent ids as missing and expires them at the grace limit with a missing event', () => {
    const plan = planBatch([a, b], answer([]), new Map([[a, state({ missed: 0 })], [b, state({ missed: 2 })]]), options);
    expect(plan.missing).toEqual([a, b]);
    expect(plan.missingExpired).toEqual([b]);
    expect(plan.ops.map((o) => [o.set['missed'], o.remove, o.events.map((e) => [e.type, e.data.reason, e.data.sequence])])).toEqual([
      ['1', false, []],
      ['3', true, [['lipsync.missing', 'absent', 3]]],
    ]);
  });

  it('counts an unreadable answer towards the grace limit, then emits missing with reason unreadable and the message', () => {
    const bad = { id: b, index: 0, issues: 'status: Invalid input' };
    const first = planBatch([b], answer([], [bad]), new Map([[b, state()]]), options);
    expect(first.missing).toEqual([]);
    expect(first.unreadable).toEqual([bad]);
    expect(first.ops.map((o) => [o.set['unreadable'], o.unreadable, o.remove])).toEqual([['1', 'add', false]]);
    const last = planBatch([b], answer([], [bad]), new Map([[b, state({ unreadable: 2 })]]), options);
    expect(last.missingExpired).toEqual([b]);
    expect(last.ops[0]?.events[0]?.data).toMatchObject({ reason: 'unreadable', detail: 'status: Invalid input' });
  });

  it('clears the unreadable count when the id reads again', () => {
    const plan = planBatch([a], answer([answerItem({ id: a, status: 'running', progress: '0.5', updated_at: T0 })]), new Map([[a, state({ unreadable: 1 })]]), options);
    expect(plan.ops.map((o) => [o.set['unreadable'], o.unreadable, o.events.length])).toEqual([['0', 'remove', 0]]);
  });

  it('ignores items that were not asked for and uses the newest of duplicated items', () => {
    const older = answerItem({ id: a, status: 'running', updated_at: '2026-01-01T00:00:01Z' });
    const newer = answerItem({ id: a, status: 'done', updated_at: '2026-01-01T00:00:02Z' });
    const plan = planBatch([a], answer([newer, older, answerItem({ id: c })]), new Map(), options);
    expect(plan.unexpected).toEqual([c]);
    expect(plan.duplicated).toEqual([a]);
    expect(plan.ops).toHaveLength(1);
    expect(plan.transitions).toEqual([{ id: a, from: 'none', to: 'done' }]);
  });

  it('gives a first sighting sequence 1 and keeps the stored epoch in its event ids', () => {
    const fresh = { ...UNKNOWN_STATE, epoch: 1234 };
    const plan = planBatch([a], answer([answerItem({ id: a.toUpperCase() })]), new Map([[a, fresh]]), options);
    expect(plan.ops[0]?.id).toBe(a);
    expect(plan.ops[0]?.events.map((e) => [e.type, e.data.sequence])).toEqual([['lipsync.tracked', 1]]);
    expect(plan.ops[0]?.set['epoch']).toBe('1234');
  });

  describe('stalled lipsyncs', () => {
    const stalledAfterMs = new Map([['running', 60_000]]);
    const now = options.now.getTime();
    const still = answerItem({ id: a, status: 'running', progress: '0.5', updated_at: T0 });

    it('reports an id unchanged for longer than its status allows as stalled, once, with the next sequence', () => {
      const quiet = state({ changedAtMs: now - 61_000 });
      const plan = planBatch([a], answer([still]), new Map([[a, quiet]]), { ...options, stalledAfterMs });
      expect(plan.stalled).toEqual([a]);
      expect(plan.ops.map((o) => [o.stalled, o.set['stalled_since'], o.set['seq']])).toEqual([['add', String(now - 61_000), '3']]);
      expect(plan.ops[0]?.events.map((e) => [e.type, e.data.sequence, e.data.stalled_since])).toEqual([['lipsync.stalled', 3, new Date(now - 61_000).toISOString()]]);
      const again = planBatch([a], answer([still]), new Map([[a, { ...quiet, stalledSinceMs: now - 61_000, sequence: 3 }]]), { ...options, stalledAfterMs });
      expect(again.ops).toEqual([]);
    });

    it('does not report a status without a threshold, or one that moved recently', () => {
      expect(planBatch([a], answer([still]), new Map([[a, state({ changedAtMs: now - 59_000 })]]), { ...options, stalledAfterMs }).ops).toEqual([]);
      expect(planBatch([a], answer([still]), new Map([[a, state({ changedAtMs: now - 61_000 })]]), options).ops).toEqual([]);
    });

    it('emits recovered with the change that ends a stall, in the same sequence', () => {
      const stalled = state({ changedAtMs: now - 120_000, stalledSinceMs: now - 120_000, sequence: 3 });
      const plan = planBatch([a], answer([answerItem({ id: a, status: 'running', progress: '0.6', updated_at: T0 })]), new Map([[a, stalled]]), { ...options, stalledAfterMs });
      expect(plan.ops[0]?.events.map((e) => [e.type, e.data.sequence])).toEqual([['lipsync.progress_changed', 4], ['lipsync.recovered', 4]]);
      expect(plan.ops[0]?.stalled).toBe('remove');
      expect(plan.ops[0]?.del).toContain('stalled_since');
      expect(plan.ops[0]?.set['changed_at']).toBe(String(now));
    });
  });

  it('estimates completion from the first progress reading of a running spell, and only from moving progress', () => {
    const now = options.now.getTime();
    const origin = { fraction: 0.2, atMs: now - 30_000 };
    const plan = planBatch([a], answer([answerItem({ id: a, status: 'running', progress: '0.5', updated_at: T0 })]), new Map([[a, state({ fields: { status: 'running', progress: '0.2', failed_reason: null }, origin })]]), options);
    // 0.2 → 0.5 in 30 s: the remaining 0.5 takes another 50 s.
    expect(plan.ops[0]?.events[0]?.data.eta).toBe(new Date(now + 50_000).toISOString());
    expect(plan.ops[0]?.set['progress_origin']).toBe(`0.2@${now - 30_000}`);
    const restart = planBatch([a], answer([answerItem({ id: a, status: 'running', progress: '0.1', updated_at: T0 })]), new Map([[a, state({ fields: { status: 'in_queue', progress: '0', failed_reason: null }, label: 'in_queue', origin })]]), options);
    expect(restart.ops[0]?.events[0]?.data.eta).toBeUndefined();
    expect(restart.ops[0]?.set['progress_origin']).toBe(`0.1@${now}`);
  });
});
