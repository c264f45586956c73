/**
 * One keyspace partition's moving parts in a worker: its tracking store, epoch watch, poll queue and webhook
 * pipeline, all under the partition's keys (store/partitions.ts). The daemon opens one per partition; they share
 * the Redis connections, the Creatify client and the request-rate gate.
 */
import type { ConnectionOptions, Job } from 'bullmq';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Keys } from '../store/keys.js';
import { EpochWatch, type DataLoss } from '../store/epoch.js';
import { partitionShare } from '../store/partitions.js';
import type { Redis } from '../store/redis.js';
import { TrackingStore } from '../store/tracking.js';
import { PollQueue } from '../sync/poll-queue.js';
import type { PollBatchDeps } from '../sync/poll-batch.js';
import { maxInFlightFor } from '../webhooks/delivery-worker.js';
import type { DeliveryObserver } from '../webhooks/observer.js';
import { createWebhookPipeline, type WebhookPipeline } from '../webhooks/pipeline.js';
import type { Closers } from './closers.js';

export interface Partition {
  index: number;
  keys: Keys;
  store: TrackingStore;
  epoch: EpochWatch;
  poll: PollQueue;
  webhooks: WebhookPipeline;
}

export interface PartitionOptions {
  index: number;
  /** How many partitions there are (limits per replica are shared out among them). */
  count: number;
  keys: Keys;
  config: Config;
  redis: Redis;
  bull: ConnectionOptions;
  /** The poll dependencies every partition shares; `redis` and `keys` are this partition's. */
  pollDeps: Omit<PollBatchDeps, 'keys'>;
  /** The request-rate gate every partition shares (sync/rate-gate.ts). */
  rateGateKey: string;
  /** Job handlers that run in this partition's poll queue only (discovery runs in partition 0). */
  extraHandlers?: Record<string, (job: Job) => Promise<unknown>>;
  deliveryObserver: DeliveryObserver;
  onDataLost: (keys: Keys, loss: DataLoss) => void;
  logger: Logger;
  closers: Closers;
}

/** Opens the partition's parts and pushes their closers (poll worker before webhook delivery, as one partition did). */
export function openPartition(options: PartitionOptions): Partition {
  const { index, count, keys, config, redis, bull, closers } = options;
  // Several partitions: every line of theirs (cycle complete, failed jobs) says which one.
  const logger = count === 1 ? options.logger : options.logger.child({ partition: index });
  const store = new TrackingStore(redis, keys, config.poll.terminalRetentionSeconds);
  const epoch = new EpochWatch(redis, keys, (loss) => options.onDataLost(keys, loss));
  const name = count === 1 ? '' : ` (partition ${index})`;
  const poll = new PollQueue({
    connection: bull,
    keys,
    store,
    intervalMs: config.poll.intervalMs,
    batchSize: config.poll.batchSize,
    concurrency: partitionShare(config.poll.concurrency, count),
    maxRequestsPerSecond: config.creatify.maxRequestsPerSecond,
    deps: { ...options.pollDeps, keys },
    logger,
    rateGateKey: options.rateGateKey,
    ...(options.extraHandlers === undefined ? {} : { extraHandlers: options.extraHandlers }),
  });
  // The grace is enforced by the closer stack; poll.close's own timeout only has to be no shorter.
  closers.push({ name: `poll worker${name}`, close: () => poll.close(config.shutdown.graceMs), force: () => void poll.worker.close(true).catch(() => undefined) });
  const endpoints = config.webhooks.map((endpoint) => ({ ...endpoint, maxInFlight: partitionShare(maxInFlightFor(endpoint, config.delivery.concurrency, config.webhooks.length), count) }));
  const webhooks = createWebhookPipeline({ redis, connection: bull, keys, endpoints, delivery: config.delivery, logger, observer: options.deliveryObserver });
  closers.push({ name: `webhook delivery${name}`, close: () => webhooks.close(config.shutdown.graceMs) });
  return { index, keys, store, epoch, poll, webhooks };
}
