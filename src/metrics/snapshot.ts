/**
 * The shared Redis state behind the scrape-time gauges (scrape-gauges.ts), read in one go per scrape. Every
 * read is a counter or a bounded hash, never a scan of the keyspace, so a scrape costs the same with 100 or
 * 100,000 tracked ids.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.js';
import type { TrackingStore } from '../store/tracking.js';
import { lastSuccessfulPoll } from '../sync/cycle.js';
import type { WebhookPipeline } from '../webhooks/pipeline.js';
import type { MetricsSnapshot } from './scrape-gauges.js';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children'] as const;

export interface SnapshotSources {
  redis: Redis;
  keys: Keys;
  store: TrackingStore;
  pollQueue: Queue;
  webhooks: Pick<WebhookPipeline, 'queues' | 'snapshot'>;
}

export function snapshotOf(sources: SnapshotSources): () => Promise<MetricsSnapshot> {
  const { redis, keys, store, pollQueue, webhooks } = sources;
  return async () => {
    const queues = [pollQueue, ...webhooks.queues];
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
  };
}
