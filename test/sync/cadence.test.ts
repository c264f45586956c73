import { cadenceSchema } from '../../src/config/schema.js';
import { batchBudget, cadenceFrom, dueHorizon, nextDueTimes, periodFor } from '../../src/sync/cadence.js';

const cadence = cadenceFrom(cadenceSchema.parse({ periodMs: { running: 1000, ' In_Queue ': 4000, default: 2000 }, idleAfterMs: 10_000, maxPeriodMs: 16_000 }), 1000);

describe('periodFor', () => {
  it('uses the period of the status, normalising configured keys, and the default for any other status', () => {
    expect(periodFor(cadence, 'running', 0)).toBe(1000);
    expect(periodFor(cadence, 'in_queue', 0)).toBe(4000);
    expect(periodFor(cadence, 'pending', 0)).toBe(2000);
    expect(periodFor(cadence, 'new', 0)).toBe(2000);
  });

  it('doubles the period per full idle span without movement', () => {
    expect(periodFor(cadence, 'running', 9_999)).toBe(1000);
    expect(periodFor(cadence, 'running', 10_000)).toBe(2000);
    expect(periodFor(cadence, 'running', 35_000)).toBe(8000);
  });

  it('stays under the ceiling by the pickup slack (1.5 intervals), however long an id has been idle', () => {
    expect(periodFor(cadence, 'in_queue', 30_000)).toBe(16_000 - 1500);
    expect(periodFor(cadence, 'running', 1e12)).toBe(16_000 - 1500);
  });

  it('never caps a period below one interval', () => {
    const tight = cadenceFrom(cadenceSchema.parse({ periodMs: { default: 1000 }, maxPeriodMs: 2000 }), 1000);
    expect(periodFor(tight, 'running', 1e9)).toBe(1000);
  });

  it('treats a clock that went backwards as no idle time', () => {
    expect(periodFor(cadence, 'running', -5000)).toBe(1000);
  });
});

describe('nextDueTimes', () => {
  it('counts from the cycle start and measures idleness from the last change', () => {
    const due = nextDueTimes(cadence, [
      { id: 'a', status: 'running', changedAtMs: 100_000 },
      { id: 'b', status: 'running', changedAtMs: 90_000 },
      { id: 'c', status: 'in_queue', changedAtMs: null },
    ], 99_000, 100_500);
    expect(due).toEqual([['a', 100_000], ['b', 101_000], ['c', 103_000]]);
  });
});

describe('dueHorizon and batchBudget', () => {
  it('picks ids due before the middle of the coming interval', () => {
    expect(dueHorizon(50_000, 15_000)).toBe(57_500);
  });

  it('plans for 80% of what the rate limit allows in one interval less the tick, at least one request', () => {
    expect(batchBudget(5, 15_000)).toBe(59);
    expect(batchBudget(5, 2000)).toBe(7);
    expect(batchBudget(0.1, 1000)).toBe(1);
  });
});
