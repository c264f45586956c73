import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { LsyncError, messageOf } from '../errors.js';
import { withTimeout } from '../shared/timeout.js';

export type { Redis };

export interface ConnectOptions {
  /** BullMQ workers need `null` here (blocking commands must not give up). */
  maxRetriesPerRequest?: number | null;
  /** Fail fast instead of queueing commands while disconnected (CLI, readiness). */
  enableOfflineQueue?: boolean;
  connectionName?: string;
  /** `redis.cluster`: `url` lists one or more seed nodes of a Redis Cluster, comma-separated. */
  cluster?: boolean;
}

export function createRedis(url: string, options: ConnectOptions = {}): Redis {
  const redisOptions: RedisOptions = {
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 3 : options.maxRetriesPerRequest,
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    connectionName: options.connectionName ?? 'lipsync-sync',
    retryStrategy: reconnectDelay,
    lazyConnect: true,
  };
  if (!options.cluster) return new Redis(url, redisOptions);
  const { lazyConnect, enableOfflineQueue, ...nodeOptions } = redisOptions;
  const cluster = new Cluster(clusterSeeds(url), { lazyConnect, enableOfflineQueue, clusterRetryStrategy: reconnectDelay, redisOptions: { ...nodeOptions, ...clusterAuth(url) } });
  return asRedis(cluster);
}

/**
 * A Cluster client typed as a Redis one. Both run the same commands (every key of a command, pipeline or script
 * of ours shares one hash tag, see store/partitions.ts), but TypeScript cannot call methods on their union (the
 * overloads differ in their context type), and BullMQ tells them apart at run time (`isCluster`).
 */
function asRedis(cluster: Cluster): Redis {
  return cluster as unknown as Redis;
}

/** `redis://a:7000,redis://b:7001` (or `redis://a:7000,b:7001`) → the seed nodes of a Cluster. */
export function clusterSeeds(url: string): Array<{ host: string; port: number }> {
  const first = new URL(url.split(',')[0] ?? url);
  return url.split(',').map((part) => {
    const parsed = new URL(/^rediss?:\/\//.test(part.trim()) ? part.trim() : `${first.protocol}//${part.trim()}`);
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  });
}

/** Credentials and TLS of the first seed URL, for every node (a Cluster's nodes share them). */
export function clusterAuth(url: string): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const first = new URL(url.split(',')[0] ?? url);
  return {
    ...(first.username === '' ? {} : { username: decodeURIComponent(first.username) }),
    ...(first.password === '' ? {} : { password: decodeURIComponent(first.password) }),
    ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** A second connection like `redis` (a blocking reader needs its own), Cluster or not. */
export function duplicateRedis(redis: Redis, connectionName: string): Redis {
  const maybeCluster = redis as unknown as { isCluster?: boolean };
  if (maybeCluster.isCluster) {
    const cluster = redis as unknown as Cluster;
    return asRedis(cluster.duplicate([], { lazyConnect: true, redisOptions: { ...cluster.options.redisOptions, connectionName } }));
  }
  return redis.duplicate({ connectionName, lazyConnect: true });
}

/**
 * Reconnect forever, quickly: Redis restarts must not kill the daemon, and polling should resume within a poll
 * interval of Redis coming back. 500 ms caps it (a few attempts a second per connection while Redis is down;
 * the outage itself is logged once, see runtime/outage.ts).
 */
export function reconnectDelay(times: number): number {
  return Math.min(times * 100, 500);
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

/**
 * Whether an error is about the connection rather than the command (for choosing debug over error logs while an
 * outage is already being told once): a socket error code, ioredis' retry exhaustion, or a closed connection.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && UNREACHABLE_CODES.has(e.code)) return true;
  if (e?.name === 'MaxRetriesPerRequestError') return true;
  // LOADING: a restarted Redis answers this while it reads its AOF/RDB back; READONLY and MASTERDOWN come
  // during a failover. All are still the outage, not a command's fault.
  return typeof e?.message === 'string' && /^(Connection is closed|Stream isn't writeable|Connection in subscriber mode|LOADING|READONLY|MASTERDOWN)/.test(e.message);
}

/**
 * Logs a failed Redis-backed operation: at debug when it failed only because the connection is down (the
 * outage is told once, by runtime/outage-watch.ts), at error otherwise.
 */
export function logRedisFailure(logger: Logger, err: unknown, fields: Record<string, unknown>, message: string): void {
  if (isConnectionError(err)) logger.debug({ ...fields, err }, message);
  else logger.error({ ...fields, err }, message);
}

/** redis://user:password@host → redis://user:***@host, for messages and logs. */
export function redactUrl(url: string): string {
  // A Cluster's seed list is several URLs (or host:port) separated by commas: each is redacted alone.
  if (url.includes(',')) return url.split(',').map((part) => (/^rediss?:\/\//.test(part.trim()) ? redactUrl(part.trim()) : part.trim())).join(',');
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}
