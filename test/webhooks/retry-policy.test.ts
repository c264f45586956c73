import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  nextDelayMs,
  retryDelayMs,
  RetryPolicy,
} from '../../src/webhooks/retry-policy.js';

const low = (): number => 0;
const mid = (): number => 0.5;
const high = (): number => 1;

describe('retryDelayMs', () => {
  it('follows the default schedule: 1 s after the first attempt, 1 h after the seventh', () => {
    expect(DEFAULT_RETRY_SCHEDULE_SECONDS).toEqual([1, 5, 30, 120, 600, 1800, 3600]);
    expect(DEFAULT_MAX_ATTEMPTS).toBe(8);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, DEFAULT_RETRY_SCHEDULE_SECONDS, mid))).toEqual([
      1000, 5000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000,
    ]);
  });

  it('jitters by exactly -20 % at random 0 and +20 % at random 1', () => {
    expect(retryDelayMs(2, [1, 5], low)).toBe(4000);
    expect(retryDelayMs(2, [1, 5], high)).toBe(6000);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(3, DEFAULT_RETRY_SCHEDULE_SECONDS);
      expect(d).toBeGreaterThanOrEqual(24_000);
      expect(d).toBeLessThanOrEqual(36_000);
    }
  });

  it('repeats the last entry past the end of the schedule', () => {
    expect(retryDelayMs(8, [1, 5, 30], mid)).toBe(30_000);
    expect(retryDelayMs(50, DEFAULT_RETRY_SCHEDULE_SECONDS, mid)).toBe(3_600_000);
  });

  it('treats attemptsMade below 1 as the first attempt', () => {
    expect(retryDelayMs(0, [2, 5], mid)).toBe(2000);
  });
});

describe('nextDelayMs', () => {
  it('takes Retry-After when it is longer than the schedule, and jitter only adds to it (0 to +20 %)', () => {
    expect(nextDelayMs(1, DEFAULT_RETRY_SCHEDULE_SECONDS, 7000, low)).toBe(7000);
    expect(nextDelayMs(1, DEFAULT_RETRY_SCHEDULE_SECONDS, 7000, mid)).toBe(7700);
    expect(nextDelayMs(1, DEFAULT_RETRY_SCHEDULE_SECONDS, 7000, high)).toBe(8400);
  });

  it('spreads many equal Retry-After answers instead of retrying them in the same millisecond', () => {
    const delays = new Set(Array.from({ length: 50 }, () => nextDelayMs(1, [1], 60_000)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(60_000);
  });

  it('keeps the schedule when Retry-After is shorter or absent', () => {
    expect(nextDelayMs(3, DEFAULT_RETRY_SCHEDULE_SECONDS, 7000, mid)).toBe(30_000);
    expect(nextDelayMs(3, DEFAULT_RETRY_SCHEDULE_SECONDS, null, high)).toBe(36_000);
  });
});

describe('RetryPolicy', () => {
  const policy = new RetryPolicy(
    [
      { name: 'own', url: 'http://127.0.0.1/a', secret: 's', retryScheduleSeconds: [2, 4] },
      { name: 'capped', url: 'http://127.0.0.1/b', secret: 's', maxAttempts: 3 },
    ],
    [1, 5, 30],
  );

  it('gives an endpoint its own schedule and one attempt more than it has entries', () => {
    expect(policy.scheduleFor('own')).toEqual([2, 4]);
    expect(policy.attemptsFor('own')).toBe(3);
    expect(policy.delayMs('own', 2, null, mid)).toBe(4000);
  });

  it('falls back to the delivery schedule, and maxAttempts wins over the schedule length', () => {
    expect(policy.scheduleFor('capped')).toEqual([1, 5, 30]);
    expect(policy.attemptsFor('capped')).toBe(3);
    expect(policy.attemptsFor('unknown')).toBe(4);
  });
});
