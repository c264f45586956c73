/**
 * The shared Redis state behind the scrape-time gauges (scrape-gauges.ts), read in one go per scrape. Every
 * read is a counter or a bounded hash, never a scan of the keyspace, so a scrape costs the same with 100 or
 * 100,000 tracked ids.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.js';
import type { LipsyncStore } from '../store/partitioned-store.js';
import { lastSuccessfulPoll } from '../sync/cycle.js';
import type { WebhookView } from '../webhooks/partitioned.js';
import type { MetricsSnapshot } from './scrape-gauges.js';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children'] as const;

export interface SnapshotSources {
  redis: Redis;
  /** The keys of every partition (one unless `redis.partitions` > 1). */
  partitions: readonly Keys[];
  store: LipsyncStore;
  /** Every partition's poll queue. */
  pollQueues: readonly Queue[];
  webhooks: Pick<WebhookView, 'queues' | 'snapshot'>;
}

export function snapshotOf(sources: SnapshotSources): () => Promise<MetricsSnapshot> {
  const { redis, partitions, store, pollQueues, webhooks } = sources;
  return async () => {
    const queues = [...pollQueues, ...webhooks.queues];
    const [trackedByStatus, stalledByStatus, webhookState, lasts, discoveredIds, ...counts] = await Promise.all([
      store.statusCounts(),
      store.stalledCounts(),
      webhooks.snapshot(),
      Promise.all(partitions.map((keys) => lastSuccessfulPoll(redis, keys))),
      store.discoveredCount(),
      ...queues.map((q) => q.getJobCounts(...QUEUE_STATES)),
    ]);
    // The whole is as fresh as its stalest partition: an alert on this gauge sees any partition stop.
    const last = lasts.includes(null) ? null : Math.min(...(lasts as number[]));
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
  };
}
