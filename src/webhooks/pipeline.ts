import type { ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../store/keys.js';
import {
  countDeadLetters,
  listDeadLetters,
  listDisabledEndpoints,
  replayDeadLetters,
  type DeadLetter,
  type DisabledEndpoint,
  type ReplayResult,
} from './dead-letters.js';
import type { Deliverer, WebhookEndpoint } from './deliver.js';
import { DeliveryQueue, type DeliveryJobResult } from './delivery-queue.js';
import { Dispatcher } from './dispatcher.js';
import type { DeliveryHandoff, DeliveryJobData } from './handoff.js';
import type { DeliveryObserver } from './observer.js';

export interface WebhookPipelineOptions {
  /** Commands and Lua (the daemon's shared connection). */
  redis: Redis;
  /** BullMQ connection: options, or an ioredis instance made with `maxRetriesPerRequest: null`. */
  connection: ConnectionOptions;
  keys: Keys;
  /** `config.webhooks`. */
  endpoints: readonly WebhookEndpoint[];
  /** `config.delivery`. */
  delivery: { retryScheduleSeconds: readonly number[]; concurrency: number };
  logger: Logger;
  observer?: DeliveryObserver;
  deliverer?: Deliverer;
  /** Tuning, mostly for tests: BullMQ lock/stall timing and dispatcher claim timing (ms). */
  tuning?: {
    lockDurationMs?: number;
    stalledIntervalMs?: number;
    maxStalledCount?: number;
    sweepIntervalMs?: number;
    blockMs?: number;
    claimIdleMs?: number;
    claimIntervalMs?: number;
    consumer?: string;
  };
}

export interface WebhookPipeline {
  dispatcher: Dispatcher;
  queue: Queue<DeliveryJobData>;
  worker: Worker<DeliveryJobData, DeliveryJobResult>;
  handoff: DeliveryHandoff;
  /** Starts the dispatcher loop and the delivery worker. */
  start(): void;
  /** Stops reading events, then lets in-flight deliveries finish for up to `timeoutMs` (then they are retried later). */
  close(timeoutMs: number): Promise<void>;
  deadLetters: DeadLetterApi;
}

export interface DeadLetterApi {
  /** Oldest first, at most `limit` (default 100). */
  list(endpoint?: string, limit?: number): Promise<DeadLetter[]>;
  /** Per endpoint, for the `webhook_dead_letters` gauge. */
  count(): Promise<Record<string, number>>;
  /** `POST /v1/dead-letters/replay`: configured endpoints only; re-enables a disabled endpoint. */
  replay(endpoint?: string): Promise<ReplayResult>;
  /** Endpoints disabled by a 410, with why and when. */
  disabled(): Promise<Record<string, DisabledEndpoint>>;
}

/** Everything webhook delivery needs, wired once. Nothing runs until start(). */
export function createWebhookPipeline(options: WebhookPipelineOptions): WebhookPipeline {
  const { redis, keys, endpoints, logger } = options;
  const tuning = options.tuning ?? {};
  const delivery = new DeliveryQueue({
    connection: options.connection,
    redis,
    keys,
    endpoints,
    retryScheduleSeconds: options.delivery.retryScheduleSeconds,
    concurrency: options.delivery.concurrency,
    logger,
    ...(options.observer === undefined ? {} : { observer: options.observer }),
    ...(options.deliverer === undefined ? {} : { deliverer: options.deliverer }),
    ...pick(tuning, ['lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'sweepIntervalMs']),
  });
  const dispatcher = new Dispatcher({
    redis,
    keys,
    endpoints,
    handoff: delivery.handoff,
    logger,
    ...pick(tuning, ['blockMs', 'claimIdleMs', 'claimIntervalMs', 'consumer']),
  });
  let closing: Promise<void> | undefined;
  const ctx = { redis, keys, endpoints: endpoints.map((e) => e.name), handoff: delivery.handoff, logger };

  return {
    dispatcher,
    queue: delivery.queue,
    worker: delivery.worker,
    handoff: delivery.handoff,
    start() {
      delivery.start();
      dispatcher.start();
    },
    close(timeoutMs) {
      closing ??= (async () => {
        await dispatcher.close();
        await delivery.close(timeoutMs);
      })();
      return closing;
    },
    deadLetters: {
      list: (endpoint, limit) => listDeadLetters(ctx, endpoint, limit),
      count: () => countDeadLetters(ctx),
      replay: (endpoint) => replayDeadLetters(ctx, endpoint),
      disabled: () => listDisabledEndpoints(ctx),
    },
  };
}

/** The defined entries of `source` among `names` (exactOptionalPropertyTypes-safe spreading). */
function pick<T extends object, K extends keyof T>(source: T, names: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const name of names) if (source[name] !== undefined) out[name] = source[name];
  return out;
}
