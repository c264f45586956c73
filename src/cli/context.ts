import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Keys } from '../store/keys.js';
import { storeOver, type LipsyncStore } from '../store/partitioned-store.js';
import { partitionKeys } from '../store/partitions.js';
import { connectRedis, createRedis, type Redis } from '../store/redis.js';
import { TrackingStore } from '../store/tracking.js';

export interface StoreContext {
  config: Config;
  redis: Redis;
  /** The keys of every partition (one unless `redis.partitions` > 1). */
  partitions: Keys[];
  store: LipsyncStore;
  close(): Promise<void>;
}

/**
 * The CLI's direct line to Redis, with the daemon's own config (partitions included): it works without the HTTP
 * server. Offline queue off and one retry, so an unreachable Redis is a prompt one-line error, not a hang.
 */
export async function openStore(configPath: string | undefined): Promise<StoreContext> {
  // Read-only commands need no Creatify key: the simulator flag only waives that check.
  const { config } = loadConfig({ ...(configPath === undefined ? {} : { configPath }), overrides: { creatify: { simulator: true } } });
  const redis = createRedis(config.redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: 'lipsync-sync-cli', cluster: config.redis.cluster });
  redis.on('error', () => undefined); // reported once by connectRedis
  await connectRedis(redis, config.redis.url, 3000);
  const partitions = partitionKeys(config.redis.prefix, config.redis.partitions, config.redis.cluster);
  return {
    config,
    redis,
    partitions,
    store: storeOver(partitions.map((keys) => new TrackingStore(redis, keys, config.poll.terminalRetentionSeconds))),
    close: async () => {
      await redis.quit().catch(() => undefined);
    },
  };
}
