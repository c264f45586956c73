import { keysFor } from '../../src/store/keys.js';
import { breakerState, countsTowardBreaker, EndpointBreakers, failingGapMs } from '../../src/webhooks/breaker.js';
import { cleanupPrefix, newRedis, uniquePrefix } from '../helpers/redis.js';

const HOUR = 3600 * 1000;
const redis = newRedis();
const prefix = uniquePrefix('breaker');
const keys = keysFor(prefix);
const breakers = new EndpointBreakers(redis, keys, { failureThreshold: 3, openMs: 30_000, probeGraceMs: 5000 });
const GAP = failingGapMs([1, 5, 30, 120, 600, 1800, 3600]);
const DISABLE_AFTER_S = 5 * 24 * 3600;
const reason = { reason: 'test' };

afterEach(async () => {
  await cleanupPrefix(prefix);
});

afterAll(() => {
  redis.disconnect();
});

describe('countsTowardBreaker', () => {
  it('counts no answer, 5xx and 429; not other 4xx', () => {
    expect([null, 500, 503, 429].map((statusCode) => countsTowardBreaker({ statusCode }))).toEqual([true, true, true, true]);
    expect([400, 404, 409].map((statusCode) => countsTowardBreaker({ statusCode }))).toEqual([false, false, false]);
  });
});

describe('breakerState', () => {
  it('is closed below the threshold, open until openUntil, half-open after', () => {
    expect(breakerState(2, 0, 3, 1000)).toBe(0);
    expect(breakerState(3, 2000, 3, 1000)).toBe(2);
    expect(breakerState(3, 2000, 3, 2000)).toBe(1);
  });
});

describe('EndpointBreakers.recordFailure', () => {
  it('opens at the threshold of consecutive counted failures; uncounted ones do not move it', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    expect((await breakers.recordFailure('a', true, DISABLE_AFTER_S, GAP, reason, t0)).state).toBe(0);
    expect((await breakers.recordFailure('a', false, DISABLE_AFTER_S, GAP, reason, t0 + 1)).state).toBe(0);
    expect((await breakers.recordFailure('a', true, DISABLE_AFTER_S, GAP, reason, t0 + 2)).state).toBe(0);
    expect((await breakers.recordFailure('a', true, DISABLE_AFTER_S, GAP, reason, t0 + 3)).state).toBe(2);
    expect(await breakers.states(['a', 'b'], t0 + 4)).toEqual({ a: 2, b: 0 });
    expect(await breakers.states(['a'], t0 + 3 + 30_000)).toEqual({ a: 1 });
    await breakers.reset('a');
    expect(await breakers.states(['a'], t0 + 5)).toEqual({ a: 0 });
  });

  it('disables after disableAfterSeconds of continuous failure, once', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    let disabledAt: number | null = null;
    // One failure an hour, as a failing delivery at the end of its schedule retries.
    for (let hour = 0; hour <= 5 * 24 + 1; hour += 1) {
      const record = await breakers.recordFailure('a', true, DISABLE_AFTER_S, GAP, reason, t0 + hour * HOUR);
      if (record.disabled) {
        expect(disabledAt).toBeNull();
        disabledAt = hour;
      }
    }
    expect(disabledAt).toBe(5 * 24);
    expect(JSON.parse((await redis.hget(keys.disabledEndpoints, 'a'))!)).toEqual(reason);
  });

  it('starts a new failing period after a quiet gap: an idle endpoint is not a failing one', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    await breakers.recordFailure('a', true, DISABLE_AFTER_S, GAP, reason, t0);
    const later = await breakers.recordFailure('a', true, DISABLE_AFTER_S, GAP, reason, t0 + 6 * 24 * HOUR);
    expect(later.disabled).toBe(false);
    expect(later.failingMs).toBe(0);
    expect(GAP).toBeGreaterThanOrEqual(2 * HOUR);
  });
});
