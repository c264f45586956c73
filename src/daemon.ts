import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { LsyncError, messageOf } from './errors.js';
import { CreatifyClient } from './creatify/client.js';
import { buildHttpServer, isReady, type Readiness } from './http/server.js';
import { statusPageData } from './http/status-data.js';
import { registerStatusPage } from './http/status-routes.js';
import type { Logger } from './logger.js';
import { DEFAULT_FAILURE_CLASSES, failureClassNames } from './metrics/failure-class.js';
import { createMetrics, metricsText, type Metrics, type MetricsSnapshot } from './metrics/metrics.js';
import { metricsSyncObserver } from './metrics/sync-observer.js';
import { CreatifySimulator } from './simulator/server.js';
import { keysFor, type Keys } from './store/keys.js';
import { describeLoss, EpochWatch } from './store/epoch.js';
import { checkEviction, SAFE_POLICY } from './store/eviction.js';
import { connectRedis, createRedis } from './store/redis.js';
import { TrackingStore } from './store/tracking.js';
import { lastSuccessfulPoll } from './sync/cycle.js';
import { stalledAfterMap } from './sync/poll-batch.js';
import { cadenceFrom } from './sync/cadence.js';
import { discoverOnce } from './sync/discover.js';
import { terminalSet } from './shared/status.js';
import { PollQueue, SCHEDULER_ID } from './sync/poll-queue.js';
import { withTimeout } from './shared/timeout.js';
import { packageVersion } from './version.js';
import { createWebhookPipeline, type WebhookPipeline } from './webhooks/pipeline.js';

const SHUTDOWN_GRACE_MS = 10_000;
const READY_PING_TIMEOUT_MS = 1000;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children'] as const;

export interface DaemonOptions {
  /** Use this Creatify base URL instead of config (demo wires its own simulator). */
  creatifyBaseUrl?: string;
}

export interface Daemon {
  config: Config;
  keys: Keys;
  store: TrackingStore;
  metrics: Metrics;
  poll: PollQueue;
  webhooks: WebhookPipeline;
  http: FastifyInstance | null;
  /** `http://host:port` of the HTTP server, when enabled. */
  httpUrl: string | null;
  stop(): Promise<void>;
}

/** Wires every part of the worker: Redis, poll queue + scheduler, webhook pipeline, metrics, HTTP. */
export async function startDaemon(config: Config, logger: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const redis = createRedis(config.redis.url, { connectionName: 'lipsync-sync' });
  redis.on('error', (err: Error) => logger.debug({ err: err.message }, 'redis connection error'));
  await connectRedis(redis, config.redis.url);
  const eviction = await checkEviction(redis, config.redis.allowEviction).catch((err: unknown) => {
    redis.disconnect();
    throw err;
  });
  if (eviction.policy !== SAFE_POLICY) logger.warn({ eviction: eviction.detail }, 'Redis may lose keys');
  // BullMQ needs its own connection with maxRetriesPerRequest null (blocking commands).
  const bull = new Redis(config.redis.url, { maxRetriesPerRequest: null, connectionName: 'lipsync-sync-bull' });
  bull.on('error', (err: Error) => logger.debug({ err: err.message }, 'bullmq redis connection error'));

  const keys = keysFor(config.redis.prefix);
  const store = new TrackingStore(redis, keys, config.poll.terminalRetentionSeconds);
  const failureRules = config.failureClasses ?? DEFAULT_FAILURE_CLASSES;
  const startedAt = Date.now();

  let simulator: CreatifySimulator | null = null;
  let baseUrl = options.creatifyBaseUrl ?? config.creatify.baseUrl;
  if (options.creatifyBaseUrl === undefined && config.creatify.simulator) {
    simulator = new CreatifySimulator({ autoCreate: true, stepMs: 2000 });
    baseUrl = await simulator.start();
    logger.warn({ baseUrl }, 'using the built-in Creatify simulator (creatify.simulator = true)');
  }

  const metrics = createMetrics({
    failureClasses: failureClassNames(failureRules),
    webhookEndpoints: config.webhooks.map((w) => w.name),
    terminalStatuses: config.poll.terminalStatuses,
    snapshot: async (): Promise<MetricsSnapshot> => snapshot(),
    onSnapshotError: (err) => logger.warn({ err: messageOf(err) }, 'metrics snapshot from Redis failed'),
  });

  const epoch = new EpochWatch(redis, keys, (loss) => {
    metrics.redisDataLost.inc();
    logger.error({ epochKey: keys.epoch, previousEpoch: loss.previous }, describeLoss(loss));
  });
  await epoch.check();

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
    },
    onTooLarge: () => metrics.creatifyOversizedResponses.inc(),
  });

  const observer = metricsSyncObserver(metrics, failureRules);
  const pollDeps = {
    redis,
    keys,
    client,
    observer,
    logger,
    terminalStatuses: terminalSet(config.poll.terminalStatuses),
    missingGraceCycles: config.poll.missingGraceCycles,
    stalledAfterMs: stalledAfterMap(config.poll.stalledAfterSeconds),
    ...(config.poll.cadence === undefined ? {} : { cadence: cadenceFrom(config.poll.cadence, config.poll.intervalMs) }),
    retentionSeconds: config.poll.terminalRetentionSeconds,
  };
  const poll = new PollQueue({
    connection: bull,
    keys,
    store,
    intervalMs: config.poll.intervalMs,
    batchSize: config.poll.batchSize,
    concurrency: config.poll.concurrency,
    maxRequestsPerSecond: config.creatify.maxRequestsPerSecond,
    deps: pollDeps,
    logger,
    extraHandlers: { discover: async (_job: Job) => discoverOnce({ client, store, terminalStatuses: pollDeps.terminalStatuses, maxRemembered: config.poll.discoverMaxRemembered, logger }) },
  });
  const webhooks = createWebhookPipeline({
    redis,
    connection: bull,
    keys,
    endpoints: config.webhooks,
    delivery: config.delivery,
    logger,
    observer: {
      attempt: (endpoint, outcome, seconds) => {
        metrics.webhookDeliveries.inc({ endpoint, outcome });
        // 0 s means no request was made (endpoint disabled): nothing to time.
        if (seconds > 0) metrics.webhookDeliveryDuration.observe({ endpoint }, seconds);
      },
      deadLettersDropped: (endpoint, count) => metrics.webhookDeadLettersDropped.inc({ endpoint }, count),
    },
  });

  async function snapshot(): Promise<MetricsSnapshot> {
    const queues = [poll.queue, ...webhooks.queues];
    const [trackedByStatus, stalledByStatus, webhookState, last, discoveredIds, ...counts] = await Promise.all([
      store.statusCounts(),
      store.stalledCounts(),
      webhooks.snapshot(),
      lastSuccessfulPoll(redis, keys),
      store.discoveredCount(),
      ...queues.map((q) => q.getJobCounts(...QUEUE_STATES)),
    ]);
    return {
      trackedByStatus,
      stalledByStatus,
      deadLettersByEndpoint: webhookState.deadLetters,
      endpointStates: webhookState.endpointStates,
      handoffMarkers: webhookState.handoffMarkers,
      queuedDeliveries: webhookState.queued,
      lastSuccessfulPollSeconds: last === null ? null : last / 1000,
      discoveredIds,
      queueJobs: queues.flatMap((q, i) => Object.entries(counts[i] ?? {}).map(([state, count]) => ({ queue: q.name, state, count }))),
    };
  }

  async function readiness(): Promise<Readiness> {
    const checks: Readiness['checks'] = {};
    try {
      // Bounded: while Redis is down, ioredis would otherwise hold the command until it reconnects.
      await withTimeout(() => redis.ping(), READY_PING_TIMEOUT_MS, 'no PING answer');
      checks['redis'] = { ok: true };
    } catch (err) {
      checks['redis'] = { ok: false, detail: messageOf(err) };
      return { ready: false, checks };
    }
    checks['eviction'] = { ok: true, detail: eviction.detail };
    await epoch.check().catch(() => undefined); // a failure here is Redis trouble, reported by the checks around it
    const loss = epoch.lastLoss;
    // Reported, not blocking: the replica works again on the emptied Redis; the loss must still not look healthy.
    if (loss !== null) checks['redis_data'] = { ok: false, blocking: false, detail: describeLoss(loss) };
    const scheduler = await poll.queue.getJobScheduler(SCHEDULER_ID).catch(() => undefined);
    checks['scheduler'] = scheduler ? { ok: true } : { ok: false, detail: `job scheduler ${SCHEDULER_ID} is missing` };
    const last = await lastSuccessfulPoll(redis, keys);
    const maxAge = 3 * config.poll.intervalMs;
    const reference = last ?? startedAt; // a fresh start gets three intervals before it must have polled
    const age = Date.now() - reference;
    checks['poll'] = age <= maxAge ? { ok: true } : { ok: false, detail: `last successful poll ${Math.round(age / 1000)} s ago (limit ${maxAge / 1000} s)` };
    // Answered but not applicable: reported (the replica keeps working), never silent.
    const unreadable = await store.unreadableCount();
    checks['answers'] = unreadable === 0 ? { ok: true, detail: '0 unreadable' } : { ok: false, blocking: false, detail: `${unreadable} tracked lipsyncs answered unreadably (see lipsync-sync status <id>)` };
    return { ready: isReady(checks), checks };
  }

  let http: FastifyInstance | null = null;
  let httpUrl: string | null = null;
  if (config.http.enabled) {
    http = buildHttpServer({
      store,
      tokens: { api: config.http.apiToken, read: config.http.readToken },
      logger,
      metrics: () => metricsText(metrics.registry),
      readiness,
      replayDeadLetters: (endpoint) => webhooks.deadLetters.replay(endpoint),
    });
    await registerStatusPage(http, {
      data: () =>
        statusPageData({
          redis,
          keys,
          store,
          logger,
          version: packageVersion(),
          poll: { ...config.poll, maxRequestsPerSecond: config.creatify.maxRequestsPerSecond },
          failures: metrics.failures,
          webhooks: { names: config.webhooks.map((w) => w.name), snapshot: () => webhooks.snapshot(), disabled: () => webhooks.deadLetters.disabled() },
        }),
      queues: [poll.queue, ...webhooks.queues],
      apiToken: config.http.apiToken,
    });
    try {
      httpUrl = await http.listen({ port: config.http.port, host: config.http.host });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      await Promise.allSettled([poll.close(0), webhooks.close(0), simulator?.stop(), bull.quit(), redis.quit()]);
      client.close();
      throw new LsyncError('LSYNC_ERR_CONFIG', `http.port: cannot listen on ${config.http.host}:${config.http.port} (${code ?? String(err)}); set PORT to a free port`, { field: 'http.port', cause: err });
    }
  }

  const schedule = async (): Promise<void> => {
    await poll.schedule();
    if (config.poll.discover) await poll.scheduleDiscovery(config.poll.discoverIntervalMs);
  };
  await schedule();
  poll.start();
  // Self-heal: a Redis that restarted empty has lost the job schedulers. Upsert only when missing, since an
  // upsert also re-plans the next tick.
  const heal = async (): Promise<void> => {
    await epoch.check();
    if ((await poll.queue.getJobScheduler(SCHEDULER_ID)) === undefined) await schedule();
  };
  const healTimer = setInterval(() => void heal().catch(() => undefined), Math.min(30_000, 2 * config.poll.intervalMs));
  healTimer.unref();
  await webhooks.start();
  logger.info({ prefix: config.redis.prefix, intervalMs: config.poll.intervalMs, webhooks: config.webhooks.map((w) => w.name), http: httpUrl }, 'lipsync-sync running');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info('shutting down');
      clearInterval(healTimer);
      await http?.close();
      await poll.close(SHUTDOWN_GRACE_MS);
      await webhooks.close(SHUTDOWN_GRACE_MS);
      client.close();
      await simulator?.stop();
      await Promise.allSettled([bull.quit(), redis.quit()]);
      logger.info('stopped');
    })();
    return stopping;
  };
  return { config, keys, store, metrics, poll, webhooks, http, httpUrl, stop };
}
