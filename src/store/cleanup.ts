import { Redis } from 'ioredis';

/** Deletes every key under the given prefixes with SCAN (never KEYS): demo teardown and test cleanup. */
export async function deleteKeys(url: string, prefixes: readonly string[]): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    for (const prefix of prefixes) {
      // Escape glob characters: a hash-tagged prefix like {lsync} contains none, but `[` or `*` would.
      const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) deleted += await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}
