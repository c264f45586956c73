import { Redis, type RedisOptions } from 'ioredis';
import { LsyncError, messageOf } from '../errors.js';
import { withTimeout } from '../shared/timeout.js';

export type { Redis };

export interface ConnectOptions {
  /** BullMQ workers need `null` here (blocking commands must not give up). */
  maxRetriesPerRequest?: number | null;
  /** Fail fast instead of queueing commands while disconnected (CLI, readiness). */
  enableOfflineQueue?: boolean;
  connectionName?: string;
}

export function createRedis(url: string, options: ConnectOptions = {}): Redis {
  const redisOptions: RedisOptions = {
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 3 : options.maxRetriesPerRequest,
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    connectionName: options.connectionName ?? 'lipsync-sync',
    // Reconnect forever with a capped delay: Redis restarts must not kill the daemon.
    retryStrategy: (times) => Math.min(times * 200, 5000),
    lazyConnect: true,
  };
  return new Redis(url, redisOptions);
}

/** Connects and pings once, turning "connection refused" into one clear line. */
export async function connectRedis(redis: Redis, url: string, timeoutMs = 5000): Promise<void> {
  const shown = redactUrl(url);
  try {
    await withTimeout(
      async () => {
        if (redis.status === 'wait') await redis.connect();
        await redis.ping();
      },
      timeoutMs,
      'no answer',
    );
  } catch (err) {
    const reason = messageOf(err);
    throw new LsyncError('LSYNC_ERR_REDIS_UNAVAILABLE', `redis.url: cannot reach Redis at ${shown} (${reason}); start Redis or set REDIS_URL`, { field: 'redis.url', cause: err });
  }
}

/** Socket error codes that mean Redis cannot be reached (not that a command was wrong). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE']);

/**
 * Whether a failed command failed because Redis is unreachable: the client is not connected (ioredis rejects
 * offline and flushed commands with plain Errors, so its status is the reliable signal, not the message), a
 * socket error code, or ioredis' MaxRetriesPerRequestError.
 */
export function isRedisUnavailable(err: unknown, redis: Redis): boolean {
  if (redis.status !== 'ready') return true;
  const e = err as { code?: unknown; name?: unknown } | null;
  return (typeof e?.code === 'string' && UNREACHABLE_CODES.has(e.code)) || e?.name === 'MaxRetriesPerRequestError';
}

/** redis://user:password@host → redis://user:***@host, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}
