import { keysFor } from '../../src/store/keys.js';
import { recentTransitions, recordRecentTransitions, RECENT_TRANSITIONS_LIMIT, type RecentTransition } from '../../src/store/recent.js';
import { cleanupPrefix, newRedis, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('recent');
const keys = keysFor(prefix);
const redis = newRedis();

afterAll(async () => {
  await cleanupPrefix(prefix);
  await redis.quit();
});

function transition(n: number, failedReason: string | null = null): RecentTransition {
  return { id: `id-${n}`, from: 'running', to: failedReason === null ? 'done' : 'failed', failedReason, at: 1_000 + n };
}

describe('recent transitions (real Redis)', () => {
  it('reads back newest first, with failure reasons', async () => {
    await recordRecentTransitions(redis, keys, [transition(1), transition(2, 'No face detected')]);
    await recordRecentTransitions(redis, keys, [transition(3)]);
    expect(await recentTransitions(redis, keys)).toEqual([transition(3), transition(2, 'No face detected'), transition(1)]);
  });

  it('never holds more than the cap, dropping the oldest', async () => {
    const many = Array.from({ length: RECENT_TRANSITIONS_LIMIT + 30 }, (_, i) => transition(10 + i));
    await recordRecentTransitions(redis, keys, many);
    await recordRecentTransitions(redis, keys, [transition(999)]);
    expect(await redis.llen(keys.recent)).toBe(RECENT_TRANSITIONS_LIMIT);
    const read = await recentTransitions(redis, keys, 3);
    expect(read.map((t) => t.id)).toEqual(['id-999', `id-${10 + RECENT_TRANSITIONS_LIMIT + 29}`, `id-${10 + RECENT_TRANSITIONS_LIMIT + 28}`]);
  });

  it('skips entries it cannot read instead of showing them half', async () => {
    await redis.lpush(keys.recent, 'not json', JSON.stringify({ id: 'x' }), JSON.stringify(['a', 'b', 'c', 5, 1]));
    await recordRecentTransitions(redis, keys, [transition(1000)]);
    const read = await recentTransitions(redis, keys, 5);
    // The three unreadable entries sit between the two newest readable ones.
    expect(read.map((t) => t.id)).toEqual(['id-1000', 'id-999']);
  });
});
