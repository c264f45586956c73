import { RateGate, slotSpacingMs } from '../../src/sync/rate-gate.js';
import { newRedis, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('rategate');
const redis = newRedis();
const other = newRedis();
let n = 0;
const freshKey = (): string => `${prefix}:rate:${(n += 1)}`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  other.disconnect();
});

describe('RateGate (rateGate.lua on a real Redis)', () => {
  it('gives concurrent callers on two connections distinct slots 210 ms apart at 5 req/s', async () => {
    const key = freshKey();
    const gates = [new RateGate(redis, key, 5, 10_000), new RateGate(other, key, 5, 10_000)];
    const before = Date.now();
    const slots = await Promise.all(Array.from({ length: 10 }, (_, i) => gates[i % 2]!.reserve()));
    const waits = slots.map((s) => (s.kind === 'reserved' ? s.waitMs : -1)).sort((a, b) => a - b);
    expect(waits[0]).toBe(0);
    for (let i = 1; i < waits.length; i += 1) expect(waits[i]! - waits[i - 1]!).toBeGreaterThanOrEqual(200);
    // The tenth slot is about 9 × 210 ms out (minus what passed while the calls were in flight).
    expect(waits[9]!).toBeGreaterThan(1890 - (Date.now() - before) - 20);
  });

  it('reserves nothing beyond the longest accepted wait and says when to try again', async () => {
    const key = freshKey();
    const gate = new RateGate(redis, key, 5, 500);
    const results = [];
    for (let i = 0; i < 5; i += 1) results.push(await gate.reserve());
    // Slots at 0, 210, 420; the next (630) is past 500 ms: refused, twice, without moving the schedule.
    expect(results.slice(0, 3).map((r) => r.kind)).toEqual(['reserved', 'reserved', 'reserved']);
    expect(results[3]).toMatchObject({ kind: 'full' });
    expect(results[4]).toMatchObject({ kind: 'full' });
    const retry = results[3]!.kind === 'full' ? results[3]!.retryInMs : 0;
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(130);
    expect(Number(await redis.get(key)) - Date.now()).toBeLessThanOrEqual(630);
  });

  it('holds every caller off for a 429 Retry-After, and never pulls the schedule closer', async () => {
    const key = freshKey();
    const gate = new RateGate(redis, key, 50, 10_000);
    await gate.holdOff(1500);
    await gate.holdOff(200); // a shorter hold-off from another replica's 429 must not shorten it
    const slot = await new RateGate(other, key, 50, 10_000).reserve();
    expect(slot.kind).toBe('reserved');
    expect(slot.kind === 'reserved' ? slot.waitMs : 0).toBeGreaterThan(1400);
  });
});

describe('slotSpacingMs', () => {
  it('spaces request slots 5 % wider than 1000 / rate ms, so no sliding second holds more than the rate', () => {
    expect(slotSpacingMs(5)).toBe(210);
    expect(slotSpacingMs(50)).toBe(21);
  });

  it('rounds the spacing up, never above the rate', () => {
    expect(slotSpacingMs(7.9)).toBe(133);
    expect(slotSpacingMs(3)).toBe(350);
  });

  it('stretches the spacing for rates below one per second instead of rounding them up', () => {
    expect(slotSpacingMs(0.5)).toBe(2100);
    expect(slotSpacingMs(0.25)).toBe(4200);
  });
});
