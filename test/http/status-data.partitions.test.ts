import { pino } from 'pino';
import { statusPageData } from '../../src/http/status-data.js';
import { PartitionedStore } from '../../src/store/partitioned-store.js';
import { partitionKeys, partitionOf } from '../../src/store/partitions.js';
import { recordRecentTransitions } from '../../src/store/recent.js';
import { TrackingStore } from '../../src/store/tracking.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, newRedis, uniquePrefix } from '../helpers/redis.js';

const PARTS = 3;
const prefix = uniquePrefix('statusparts');
const redis = newRedis();
const keys = partitionKeys(prefix, PARTS);
const store = new PartitionedStore(keys.map((k) => new TrackingStore(redis, k, 600)));

afterAll(async () => {
  await cleanupPrefix(prefix, PARTS);
  redis.disconnect();
});

describe('status page data over partitions', () => {
  it('merges recent transitions newest first and sums cycles, the stalest poll and the longest cycle deciding', async () => {
    const now = Date.now();
    const ids = Array.from({ length: 250 }, (_, i) => uuid(40_000 + i));
    await store.track(ids);
    // Each partition's recent list gets transitions at its own times: p=0 oldest, p=2 newest.
    for (let p = 0; p < PARTS; p += 1) {
      const own = ids.filter((id) => partitionOf(id, PARTS) === p).slice(0, 30);
      await recordRecentTransitions(redis, keys[p]!, own.map((id, i) => ({ id, from: 'running', to: 'done', failedReason: null, at: now - (PARTS - p) * 100_000 + i })));
      // Cycle fields as startCycle.lua / finishBatch.lua write them: partition p polled last at now - p s, its cycle took p + 1 s.
      await redis.hset(keys[p]!.meta, 'last_successful_poll', String(now - p * 1000), 'cycle_started_at', String(now - p * 1000 - (p + 1) * 1000), 'cycle_ids', '10', 'cycle_events', String(p), 'cycle_failed_batches', '0');
    }
    const data = await statusPageData({ redis, partitions: keys, store, logger: pino({ level: 'silent' }), version: 't', poll: { intervalMs: 15_000, batchSize: 100, maxRequestsPerSecond: 5 } });
    const recent = data.recent ?? [];
    expect(recent).toHaveLength(50);
    expect(recent.map((r) => r.at)).toEqual([...recent.map((r) => r.at)].sort((a, b) => b - a));
    // The 30 of partition 2, then 20 of partition 1.
    expect(recent.slice(0, 30).every((r) => partitionOf(r.id, PARTS) === 2)).toBe(true);
    expect(recent.slice(30).every((r) => partitionOf(r.id, PARTS) === 1)).toBe(true);
    const counts = await Promise.all(keys.map((k) => redis.zcard(k.pending)));
    expect(data.cycle).toMatchObject({
      lastPollAt: now - 2000,
      lastCycleSeconds: 3,
      cycleIds: 30,
      cycleEvents: 3,
      outstandingBatches: 0,
      requestsPerCycle: counts.reduce((n, c) => n + Math.ceil(c / 100), 0),
    });
    expect(data.counts).toEqual([{ status: 'new', count: 250 }]);
  });
});
