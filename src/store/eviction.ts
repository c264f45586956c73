/**
 * The start-up guard of SPEC "Redis": tracked ids, state and queued deliveries exist only in Redis, so a Redis
 * that may evict keys (any `maxmemory-policy` but `noeviction`) would drop them silently. Such a Redis is
 * refused (exit 78) unless `redis.allowEviction: true`; where `CONFIG GET` is refused (managed Redis) the
 * policy is unknown, which is reported and tolerated (SPEC "Decisions").
 */
import type { Redis } from 'ioredis';
import { LsyncError, messageOf } from '../errors.js';

export const SAFE_POLICY = 'noeviction';

/** What readiness shows under `checks.eviction`. */
export interface EvictionCheck {
  /** The server's `maxmemory-policy`, or null when it could not be read. */
  policy: string | null;
  /** One line for readiness and logs. */
  detail: string;
}

/** The decision alone, for a policy already read: throws LSYNC_ERR_CONFIG for an evicting one that is not allowed. */
export function judgeEviction(policy: string | null, allowEviction: boolean, unknownReason = 'not reported'): EvictionCheck {
  if (policy === null) return { policy, detail: `unknown: maxmemory-policy could not be read (${unknownReason}); make sure it is ${SAFE_POLICY}` };
  if (policy === SAFE_POLICY) return { policy, detail: `maxmemory-policy ${policy}` };
  if (allowEviction) return { policy, detail: `maxmemory-policy ${policy} evicts keys; allowed by redis.allowEviction` };
  throw new LsyncError(
    'LSYNC_ERR_CONFIG',
    `redis.allowEviction: Redis has maxmemory-policy ${policy}, which may evict tracked ids and queued deliveries; set maxmemory-policy ${SAFE_POLICY} on the Redis server (CONFIG SET maxmemory-policy ${SAFE_POLICY}), or redis.allowEviction: true to accept losing them`,
    { field: 'redis.allowEviction' },
  );
}

/** Reads `maxmemory-policy` and judges it. A refused or empty CONFIG GET yields an unknown policy, not an error. */
export async function checkEviction(redis: Redis, allowEviction: boolean): Promise<EvictionCheck> {
  let answer: unknown;
  try {
    answer = await redis.config('GET', 'maxmemory-policy');
  } catch (err) {
    return judgeEviction(null, allowEviction, `CONFIG GET refused: ${messageOf(err)}`);
  }
  const policy = Array.isArray(answer) && typeof answer[1] === 'string' ? answer[1] : null;
  return judgeEviction(policy, allowEviction);
}
