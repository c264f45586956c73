/**
 * The composition root: opens every part of a worker in order — Redis, metrics, Creatify client, poll queue,
 * webhook pipeline, HTTP — pushing each onto one stack of closers as it opens. `stop()` and a failed start
 * unwind that same stack, bounded by `shutdown.graceMs`; what did not finish in time is forced and named.
 * Policy lives next to what it describes (runtime/readiness.ts, metrics/snapshot.ts, runtime/outage-watch.ts).
 */
import type { Job } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { LsyncError } from './errors.js';
import { CreatifyClient } from './creatify/client.js';
import { buildHttpServer } from './http/server.js';
import { statusPageData } from './http/status-data.js';
import { registerStatusPage } from './http/status-routes.js';
import type { Logger } from './logger.js';
import { DEFAULT_FAILURE_CLASSES, failureClassNames } from './metrics/failure-class.js';
import { createMetrics, metricsText, type Metrics } from './metrics/metrics.js';
import { snapshotOf } from './metrics/snapshot.js';
import { metricsSyncObserver } from './metrics/sync-observer.js';
import { Closers } from './runtime/closers.js';
import { watchCreatify, watchRedis } from './runtime/outage-watch.js';
import { readinessOf } from './runtime/readiness.js';
import { keysFor, sharedKeys } from './store/keys.js';
import { ensureLayout } from './store/layout.js';
import { storeOver, type LipsyncStore } from './store/partitioned-store.js';
import { partitionKeys } from './store/partitions.js';
import { describeLoss } from './store/epoch.js';
import { checkEviction, SAFE_POLICY } from './store/eviction.js';
import { connectRedis, createRedis, redactUrl, type Redis } from './store/redis.js';
import { stalledAfterMap } from './sync/poll-batch.js';
import { cadenceFrom } from './sync/cadence.js';
import { discoverOnce } from './sync/discover.js';
import { terminalSet } from './shared/status.js';
import { SCHEDULER_ID } from './sync/poll-queue.js';
import { openPartition, type Partition } from './runtime/partition.js';
import { packageVersion } from './version.js';
import type { DeliveryObserver } from './webhooks/observer.js';
import { webhookViewOver, type WebhookView } from './webhooks/partitioned.js';

export interface DaemonOptions {
  /** Use this Creatify base URL instead of config (the CLI's simulator mode and the demo wire their own). */
  creatifyBaseUrl?: string;
}

export interface StopResult {
  /** Parts that had not finished when `shutdown.graceMs` ran out and were forced closed. */
  abandoned: string[];
}

export interface Daemon {
  config: Config;
  /** One per `redis.partitions`: each partition's keys, store, poll queue and webhook pipeline. */
  partitions: Partition[];
  /** Tracking over every partition. */
  store: LipsyncStore;
  metrics: Metrics;
  /** Webhook delivery over every partition (merged counts, dead letters, replay). */
  webhooks: WebhookView;
  http: FastifyInstance | null;
  /** `http://host:port` of the HTTP server, when enabled. */
  httpUrl: string | null;
  /** Bounded by `shutdown.graceMs`; idempotent. */
  stop(): Promise<StopResult>;
}

/** Wires every part of the worker: Redis, poll queue + scheduler, webhook pipeline, metrics, HTTP. */
export async function startDaemon(config: Config, logger: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const closers = new Closers();
  const graceMs = config.shutdown.graceMs;
  try {
    return await open(config, logger, options, closers);
  } catch (err) {
    await closers.closeAll(graceMs);
    throw err;
  }
}

/** A Redis connection with an error listener from the first moment, and its closer. */
function openRedis(url: string, name: string, closers: Closers, logger: Logger, blocking: boolean, cluster: boolean): Redis {
  const redis = createRedis(url, { connectionName: name, cluster, ...(blocking ? { maxRetriesPerRequest: null } : {}) });
  // The outage is told once by watchRedis; individual reconnect errors only at debug.
  redis.on('error', (err: Error) => logger.debug({ err, connection: name }, 'redis connection error'));
  closers.push({ name: `redis connection ${name}`, close: () => redis.quit(), force: () => redis.disconnect() });
  return redis;
}

async function open(config: Config, logger: Logger, options: DaemonOptions, closers: Closers): Promise<Daemon> {
  const cluster = config.redis.cluster;
  const redis = openRedis(config.redis.url, 'lipsync-sync', closers, logger, false, cluster);
  await connectRedis(redis, config.redis.url);
  const eviction = await checkEviction(redis, config.redis.allowEviction);
  if (eviction.policy !== SAFE_POLICY) logger.warn({ eviction: eviction.detail }, 'Redis may lose keys');
  // BullMQ needs its own connection with maxRetriesPerRequest null (blocking commands); it duplicates it too.
  const bull = openRedis(config.redis.url, 'lipsync-sync-bull', closers, logger, true, cluster);

  const count = config.redis.partitions;
  const partitionKeyList = partitionKeys(config.redis.prefix, count, cluster);
  await ensureLayout(redis, config.redis.prefix, count, keysFor(config.redis.prefix));
  const failureRules = config.failureClasses ?? DEFAULT_FAILURE_CLASSES;
  const startedAt = Date.now();
  const baseUrl = options.creatifyBaseUrl ?? config.creatify.baseUrl;

  let snapshot: ReturnType<typeof snapshotOf> | null = null;
  const metrics = createMetrics({
    failureClasses: failureClassNames(failureRules),
    webhookEndpoints: config.webhooks.map((w) => w.name),
    terminalStatuses: config.poll.terminalStatuses,
    snapshot: async () => {
      if (snapshot === null) throw new Error('not started');
      return snapshot();
    },
    onSnapshotError: (err) => logger.warn({ err }, 'metrics snapshot from Redis failed'),
  });
  const redisWatch = watchRedis(redis, { url: redactUrl(config.redis.url), logger, setUp: (up) => metrics.redisUp.set(up ? 1 : 0) });
  closers.push({ name: 'redis outage watch', close: async () => redisWatch.stop(), force: () => redisWatch.stop() });

  const creatifyWatch = watchCreatify({ baseUrl, logger, setUp: (up) => metrics.creatifyUp.set(up ? 1 : 0) });
  const client = new CreatifyClient({
    baseUrl,
    ...(config.creatify.apiId === undefined ? {} : { apiId: config.creatify.apiId }),
    ...(config.creatify.apiKey === undefined ? {} : { apiKey: config.creatify.apiKey }),
    timeoutMs: config.creatify.timeoutMs,
    retries: config.creatify.retries,
    maxResponseBytes: config.creatify.maxResponseBytes,
    userAgent: `lipsync-sync/${packageVersion()}`,
    onAttempt: (code, seconds) => {
      metrics.creatifyRequests.inc({ code });
      metrics.creatifyRequestDuration.observe(seconds);
      creatifyWatch.attempt(code);
    },
    onTooLarge: () => metrics.creatifyOversizedResponses.inc(),
  });
  const closeClient = (): void => {
    creatifyWatch.stop();
    client.close();
  };
  closers.push({ name: 'creatify client', close: async () => closeClient(), force: closeClient });

  const pollDeps = {
    redis,
    client,
    observer: metricsSyncObserver(metrics, failureRules),
    logger,
    terminalStatuses: terminalSet(config.poll.terminalStatuses),
    missingGraceCycles: config.poll.missingGraceCycles,
    stalledAfterMs: stalledAfterMap(config.poll.stalledAfterSeconds),
    ...(config.poll.cadence === undefined ? {} : { cadence: cadenceFrom(config.poll.cadence, config.poll.intervalMs) }),
    retentionSeconds: config.poll.terminalRetentionSeconds,
  };
  const deliveryObserver: DeliveryObserver = {
    attempt: (endpoint, outcome, seconds) => {
      metrics.webhookDeliveries.inc({ endpoint, outcome });
      // 0 s means no request was made (endpoint disabled): nothing to time.
      if (seconds > 0) metrics.webhookDeliveryDuration.observe({ endpoint }, seconds);
    },
    deadLettersDropped: (endpoint, dropped) => metrics.webhookDeadLettersDropped.inc({ endpoint }, dropped),
  };
  const partitions: Partition[] = [];
  // Built after the first partition exists: discovery tracks through the store over every partition.
  let store: LipsyncStore | null = null;
  const discover = async (_job: Job): Promise<unknown> => {
    if (store === null) throw new Error('not started');
    return discoverOnce({ client, store, terminalStatuses: pollDeps.terminalStatuses, maxRemembered: config.poll.discoverMaxRemembered, logger });
  };
  partitionKeyList.forEach((keys, index) => {
    partitions.push(
      openPartition({
        index,
        count,
        keys,
        config,
        redis,
        bull,
        pollDeps,
        rateGateKey: sharedKeys(config.redis.prefix).rate,
        ...(index === 0 ? { extraHandlers: { discover } } : {}),
        deliveryObserver,
        onDataLost: (lostKeys, loss) => {
          metrics.redisDataLost.inc();
          logger.error({ epochKey: lostKeys.epoch, previousEpoch: loss.previous }, describeLoss(loss));
        },
        logger,
        closers,
      }),
    );
  });
  await Promise.all(partitions.map((p) => p.epoch.check()));
  const trackingStore = storeOver(partitions.map((p) => p.store));
  store = trackingStore;
  const webhooks = webhookViewOver(partitions.map((p) => p.webhooks));
  const pollQueues = partitions.map((p) => p.poll.queue);
  snapshot = snapshotOf({ redis, partitions: partitionKeyList, store: trackingStore, pollQueues, webhooks });
  const epochs = partitions.map((p) => p.epoch);

  let http: FastifyInstance | null = null;
  let httpUrl: string | null = null;
  if (config.http.enabled) {
    const server = buildHttpServer({
      store: trackingStore,
      tokens: { api: config.http.apiToken, read: config.http.readToken },
      logger,
      metrics: () => metricsText(metrics.registry),
      readiness: readinessOf({ redis, partitions: partitionKeyList, store: trackingStore, pollQueues, eviction, epochs, intervalMs: config.poll.intervalMs, startedAt, redisOutage: () => redisWatch.outage() }),
      replayDeadLetters: (endpoint) => webhooks.deadLetters.replay(endpoint),
    });
    http = server;
    closers.push({ name: 'http server', close: () => server.close(), force: () => server.server.closeAllConnections() });
    await registerStatusPage(server, {
      data: () =>
        statusPageData({
          redis,
          partitions: partitionKeyList,
          store: trackingStore,
          logger,
          version: packageVersion(),
          poll: { ...config.poll, maxRequestsPerSecond: config.creatify.maxRequestsPerSecond },
          failures: metrics.failures,
          webhooks: { names: config.webhooks.map((w) => w.name), snapshot: () => webhooks.snapshot(), disabled: () => webhooks.deadLetters.disabled() },
        }),
      queues: [...pollQueues, ...webhooks.queues],
      apiToken: config.http.apiToken,
    });
    try {
      httpUrl = await server.listen({ port: config.http.port, host: config.http.host });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new LsyncError('LSYNC_ERR_CONFIG', `http.port: cannot listen on ${config.http.host}:${config.http.port} (${code ?? String(err)}); set PORT to a free port`, { field: 'http.port', cause: err });
    }
  }

  const schedule = async (partition: Partition): Promise<void> => {
    await partition.poll.schedule();
    if (config.poll.discover && partition.index === 0) await partition.poll.scheduleDiscovery(config.poll.discoverIntervalMs);
  };
  for (const partition of partitions) {
    await schedule(partition);
    partition.poll.start();
  }
  // Self-heal: a Redis that restarted empty has lost the job schedulers. Upsert only when missing, since an
  // upsert also re-plans the next tick.
  const heal = async (): Promise<void> => {
    for (const partition of partitions) {
      await partition.epoch.check();
      if ((await partition.poll.queue.getJobScheduler(SCHEDULER_ID)) === undefined) await schedule(partition);
    }
  };
  const healTimer = setInterval(() => void heal().catch(() => undefined), Math.min(30_000, 2 * config.poll.intervalMs));
  healTimer.unref();
  closers.push({ name: 'self-heal timer', close: async () => clearInterval(healTimer), force: () => clearInterval(healTimer) });
  for (const partition of partitions) partition.webhooks.start();
  logger.info({ prefix: config.redis.prefix, partitions: count, intervalMs: config.poll.intervalMs, webhooks: config.webhooks.map((w) => w.name), http: httpUrl }, 'lipsync-sync running');

  let stopping: Promise<StopResult> | null = null;
  const stop = (): Promise<StopResult> => {
    stopping ??= (async () => {
      logger.info({ graceMs: config.shutdown.graceMs }, 'shutting down');
      const result = await closers.closeAll(config.shutdown.graceMs);
      if (result.abandoned.length > 0) {
        logger.warn({ abandoned: result.abandoned, graceMs: config.shutdown.graceMs }, 'shutdown grace ran out; forced closed (their unfinished jobs and events are retried by the other replicas or the next start)');
      } else {
        logger.info('stopped');
      }
      return result;
    })();
    return stopping;
  };
  return { config, partitions, store: trackingStore, metrics, webhooks, http, httpUrl, stop };
}
