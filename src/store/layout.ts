/**
 * The partition count is part of where an id lives (store/partitions.ts): starting with another count than the
 * data was written with would leave every tracked id in a partition nobody polls. The first start records the
 * count under `{base}:layout`; a later start with another count is refused, naming both, and nothing is moved.
 */
import { LsyncError } from '../errors.js';
import { basePrefix, sharedKeys, type Keys } from './keys.js';
import type { Redis } from './redis.js';

/**
 * Records `partitions` or refuses a different recorded one. Data written before the layout key existed is in the
 * one-partition layout: its pending set (`legacy`, the one-partition keys) must be empty for a P > 1 start.
 */
export async function ensureLayout(redis: Redis, prefix: string, partitions: number, legacy: Keys): Promise<void> {
  const key = sharedKeys(prefix).layout;
  if (partitions > 1 && (await redis.get(key)) === null && (await redis.zcard(legacy.pending)) > 0) refuse(prefix, 1, partitions);
  // NX then read back: of two first starts with different counts, the second is refused too.
  await redis.set(key, String(partitions), 'NX');
  const recorded = Number(await redis.get(key));
  if (recorded !== partitions) refuse(prefix, recorded, partitions);
}

function refuse(prefix: string, found: number, wanted: number): never {
  throw new LsyncError('LSYNC_ERR_CONFIG', `redis.partitions: the data under prefix ${basePrefix(prefix)} was written with ${found} partition(s), not ${wanted}; set redis.partitions (REDIS_PARTITIONS) to ${found}, or use a new redis.prefix for the new layout`, { field: 'redis.partitions' });
}
