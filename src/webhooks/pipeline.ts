/**
 * Wires webhook delivery once: the dispatcher (stream → FIFOs), the FIFO with its per-endpoint queues, the
 * per-endpoint delivery workers, the breakers, the retry policy and dead letters. Nothing runs until start();
 * close() stops reading before it stops delivering, so nothing read is left without a hand-off or a pending entry.
 */
import type { ConnectionOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DEFAULTS } from '../config/schema.js';
import type { Keys } from '../store/keys.js';
import { BREAKER_DEFAULTS, EndpointBreakers, type BreakerSettings, type BreakerState } from './breaker.js';
import { DeadLetters } from './dead-letters.js';
import type { Deliverer, WebhookEndpoint } from './deliver.js';
import { DeliveryWorkers } from './delivery-worker.js';
import { Dispatcher, DISPATCHER_DEFAULTS, markerLifetimeMs } from './dispatcher.js';
import { DeliveryFifo, type DeliveryJobData } from './fifo.js';
import { adoptLegacyJobs } from './legacy-queue.js';
import type { DeliveryObserver } from './observer.js';
import { RetryPolicy } from './retry-policy.js';

export interface WebhookPipelineOptions {
  /** Commands and Lua (the daemon's shared connection). */
  redis: Redis;
  /** BullMQ connection: options, or an ioredis instance made with `maxRetriesPerRequest: null`. */
  connection: ConnectionOptions;
  keys: Keys;
  /** `config.webhooks`. */
  endpoints: readonly WebhookEndpoint[];
  /** `config.delivery`. */
  delivery: { retryScheduleSeconds: readonly number[]; concurrency: number; maxDeadLetters?: number };
  logger: Logger;
  observer?: DeliveryObserver;
  deliverer?: Deliverer;
  /** Tuning, mostly for tests: BullMQ lock/stall timing, dispatcher claim timing (ms), breaker settings. */
  tuning?: {
    lockDurationMs?: number;
    stalledIntervalMs?: number;
    maxStalledCount?: number;
    sweepIntervalMs?: number;
    blockMs?: number;
    claimIdleMs?: number;
    claimIntervalMs?: number;
    consumer?: string;
    count?: number;
    breaker?: Partial<BreakerSettings>;
  };
}

/** Shared webhook state read at scrape time (every replica reports the same). */
export interface WebhookSnapshot {
  /** `webhook_dead_letters{endpoint}`. */
  deadLetters: Record<string, number>;
  /** `webhook_endpoint_state{endpoint}`: 0 closed, 1 half-open, 2 open. */
  endpointStates: Record<string, BreakerState>;
  /** `webhook_handoff_markers{endpoint}`: live hand-off markers (bounded by their lifetime). */
  handoffMarkers: Record<string, number>;
  /** `webhook_queued_deliveries{endpoint}`: deliveries waiting in the endpoint's FIFOs. */
  queued: Record<string, number>;
}

export interface WebhookPipeline {
  dispatcher: Dispatcher;
  /** One delivery queue per configured endpoint, `{prefix}-webhooks-<endpoint>`. */
  queues: Array<Queue<DeliveryJobData>>;
  workers: DeliveryWorkers;
  fifo: DeliveryFifo;
  breakers: EndpointBreakers;
  deadLetters: DeadLetters;
  /** Starts the dispatcher loop and the delivery workers, and moves jobs left in the pre-isolation queue. */
  start(): void;
  /** Stops reading events, then lets in-flight deliveries finish for up to `timeoutMs` (then they are retried later). */
  close(timeoutMs: number): Promise<void>;
  snapshot(): Promise<WebhookSnapshot>;
}

export function createWebhookPipeline(options: WebhookPipelineOptions): WebhookPipeline {
  const { redis, keys, endpoints, logger } = options;
  const tuning = options.tuning ?? {};
  const names = endpoints.map((e) => e.name);
  const policy = new RetryPolicy(endpoints, options.delivery.retryScheduleSeconds);
  const breakers = new EndpointBreakers(redis, keys, { ...BREAKER_DEFAULTS, ...tuning.breaker });
  const fifo = new DeliveryFifo({
    redis,
    connection: options.connection,
    keys,
    policy,
    breaker: breakers.settings,
    maxDeadLetters: options.delivery.maxDeadLetters ?? DEFAULTS.maxDeadLetters,
    markerLifetimeMs: markerLifetimeMs(tuning.claimIdleMs ?? DISPATCHER_DEFAULTS.claimIdleMs, tuning.claimIntervalMs ?? DISPATCHER_DEFAULTS.claimIntervalMs),
  });
  const workers = new DeliveryWorkers({
    connection: options.connection,
    endpoints,
    fifo,
    policy,
    breakers,
    concurrency: options.delivery.concurrency,
    logger,
    ...(options.observer === undefined ? {} : { observer: options.observer }),
    ...(options.deliverer === undefined ? {} : { deliverer: options.deliverer }),
    ...pick(tuning, ['lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'sweepIntervalMs']),
  });
  const dispatcher = new Dispatcher({ redis, keys, endpoints, fifo, logger, ...pick(tuning, ['blockMs', 'claimIdleMs', 'claimIntervalMs', 'consumer', 'count']) });
  const deadLetters = new DeadLetters({ redis, keys, endpoints: names, fifo, breakers, logger });
  let closing: Promise<void> | undefined;

  return {
    dispatcher,
    queues: names.map((name) => fifo.queueFor(name)),
    workers,
    fifo,
    breakers,
    deadLetters,
    start() {
      workers.start();
      dispatcher.start();
      void adoptLegacyJobs(fifo, keys, options.connection, logger).catch((err: unknown) => logger.error({ err }, 'moving jobs from the pre-isolation webhook queue failed; they move at the next start'));
    },
    close(timeoutMs) {
      closing ??= (async () => {
        await dispatcher.close();
        await workers.close(timeoutMs);
        await fifo.close();
      })();
      return closing;
    },
    async snapshot() {
      const now = Date.now();
      const markers = redis.pipeline();
      for (const name of names) markers.zcount(keys.deliveryHandedOff(name), now, '+inf');
      const [dead, endpointStates, counts, queuedRaw] = await Promise.all([deadLetters.count(), breakers.states(names, now), markers.exec(), redis.hgetall(keys.deliveryQueued)]);
      const handoffMarkers: Record<string, number> = {};
      const queued: Record<string, number> = {};
      names.forEach((name, i) => {
        handoffMarkers[name] = Number(counts?.[i]?.[1] ?? 0);
        queued[name] = 0;
      });
      for (const [name, count] of Object.entries(queuedRaw)) queued[name] = Number(count);
      return { deadLetters: dead, endpointStates, handoffMarkers, queued };
    },
  };
}

/** The defined entries of `source` among `names` (exactOptionalPropertyTypes-safe spreading). */
function pick<T extends object, K extends keyof T>(source: T, names: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const name of names) if (source[name] !== undefined) out[name] = source[name];
  return out;
}
