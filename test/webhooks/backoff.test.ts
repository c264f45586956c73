import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  nextDelayMs,
  parseRetryAfter,
  retryDelayMs,
} from '../../src/webhooks/backoff.js';

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

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads the three HTTP-date forms relative to now', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thursday, 01-Jan-26 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Thu Jan  1 00:00:10 2026', now)).toBe(10_000);
  });

  it('gives 0 for a date in the past', () => {
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('caps at one hour', () => {
    expect(parseRetryAfter('86400', now)).toBe(3_600_000);
    expect(parseRetryAfter('Fri, 02 Jan 2026 00:00:00 GMT', now)).toBe(3_600_000);
  });

  it('returns null for garbage and absent values', () => {
    for (const v of ['soon', '-5', '1.5', '', 'foo 1', '2026-01-01T00:00:30Z', 'Thu, 99 Jan 2026 00:00:30 GMT']) {
      expect(parseRetryAfter(v, now)).toBeNull();
    }
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe('nextDelayMs', () => {
  it('takes Retry-After when it is longer than the schedule', () => {
    expect(nextDelayMs(1, DEFAULT_RETRY_SCHEDULE_SECONDS, 7000, mid)).toBe(7000);
  });

  it('keeps the schedule when Retry-After is shorter or absent', () => {
    expect(nextDelayMs(3, DEFAULT_RETRY_SCHEDULE_SECONDS, 7000, mid)).toBe(30_000);
    expect(nextDelayMs(3, DEFAULT_RETRY_SCHEDULE_SECONDS, null, high)).toBe(36_000);
  });
});
