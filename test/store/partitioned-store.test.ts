import { ensureLayout } from '../../src/store/layout.js';
import { keysFor, sharedKeys } from '../../src/store/keys.js';
import { PartitionedStore } from '../../src/store/partitioned-store.js';
import { partitionKeys, partitionOf } from '../../src/store/partitions.js';
import { TrackingStore } from '../../src/store/tracking.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, newRedis, uniquePrefix } from '../helpers/redis.js';

const PARTS = 4;
const prefix = uniquePrefix('partitioned');
const redis = newRedis();
const keys = partitionKeys(prefix, PARTS);
const store = new PartitionedStore(keys.map((k) => new TrackingStore(redis, k, 600)));

afterAll(async () => {
  await cleanupPrefix(prefix, PARTS);
  await cleanupPrefix(`${prefix}-layout`, 3);
  redis.disconnect();
});

describe('PartitionedStore', () => {
  const ids = Array.from({ length: 300 }, (_, i) => uuid(7000 + i));

  it('tracks each id in the partition that owns it and answers in the callers order', async () => {
    const codes = await store.track(ids);
    expect([...codes.keys()]).toEqual(ids);
    expect([...codes.values()].every((c) => c === 'tracked')).toBe(true);
    const perPartition = await Promise.all(keys.map((k) => redis.zcard(k.pending)));
    expect(perPartition.every((n) => n > 40)).toBe(true);
    expect(perPartition.reduce((a, b) => a + b, 0)).toBe(300);
    for (const id of ids.slice(0, 20)) expect(await redis.zscore(keys[partitionOf(id, PARTS)]!.pending, id)).not.toBeNull();
    expect((await store.track(ids.slice(0, 3))).get(ids[0]!)).toBe('already');
  });

  it('sums counts over partitions and reads one id from its owner', async () => {
    expect(await store.pendingCount()).toBe(300);
    expect(await store.statusCounts()).toEqual({ new: 300 });
    expect(await store.get(ids[5]!)).toMatchObject({ id: ids[5], pending: true });
    expect(await store.get(uuid(999_999))).toBeNull();
  });

  it('lists every pending id exactly once across partitions with one numeric cursor that ends at 0', async () => {
    const seen: string[] = [];
    let cursor = '0';
    let pages = 0;
    do {
      const page = await store.listPending({ cursor, count: 50 });
      expect(page.cursor).toMatch(/^\d+$/);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.cursor;
      pages += 1;
    } while (cursor !== '0' && pages < 100);
    expect(cursor).toBe('0');
    expect(new Set(seen).size).toBe(300);
    expect(seen).toHaveLength(300);
  });

  it('untracks through the owner and shares the discovered bound among partitions', async () => {
    const codes = await store.untrack([ids[0]!, uuid(888_888)]);
    expect(codes.get(ids[0]!)).toBe('untracked');
    expect(codes.get(uuid(888_888))).toBe('unknown');
    expect(await store.pendingCount()).toBe(299);
    const found = Array.from({ length: 40 }, (_, i) => uuid(20_000 + i));
    await store.trackDiscovered(found, 8);
    // 8 remembered over 4 partitions: at most 2 each.
    expect(await store.discoveredCount()).toBeLessThanOrEqual(8);
    expect(await store.discoveredCount()).toBeGreaterThan(0);
  });
});

describe('ensureLayout', () => {
  const other = `${prefix}-layout`;

  it('records the first count and refuses another one, naming the recorded count', async () => {
    await ensureLayout(redis, other, 3, keysFor(other));
    expect(await redis.get(sharedKeys(other).layout)).toBe('3');
    await expect(ensureLayout(redis, other, 3, keysFor(other))).resolves.toBeUndefined();
    await expect(ensureLayout(redis, other, 5, keysFor(other))).rejects.toThrow(/redis\.partitions: .*written with 3 partition\(s\), not 5; set redis\.partitions \(REDIS_PARTITIONS\) to 3/);
  });

  it('refuses P > 1 over data written by one partition before the layout key existed', async () => {
    const legacy = `${prefix}-legacy`;
    await new TrackingStore(redis, keysFor(legacy), 600).track([uuid(1)]);
    try {
      await expect(ensureLayout(redis, legacy, 4, keysFor(legacy))).rejects.toThrow(/written with 1 partition\(s\), not 4/);
      await expect(ensureLayout(redis, legacy, 1, keysFor(legacy))).resolves.toBeUndefined();
    } finally {
      await cleanupPrefix(legacy);
    }
  });
});
