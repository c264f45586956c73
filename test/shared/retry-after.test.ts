import { parseRetryAfter } from '../../src/shared/retry-after.js';

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
