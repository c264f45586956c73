import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.js';
import type { TrackingStore } from '../store/tracking.js';
import { chunk } from './batching.js';

export type CycleStart =
  | { kind: 'idle' }
  | { kind: 'busy'; outstanding: number }
  | { kind: 'started'; cycleId: string; batchCount: number };

/** Batch job ids derive from the tick, so a retried tick re-adds the same ids and BullMQ ignores them. */
export function batchJobId(cycleId: string, index: number): string {
  return `${cycleId}-b${index}`;
}

export const META = {
  cycleId: 'cycle_id',
  cycleStartedAt: 'cycle_started_at',
  lastSuccessfulPoll: 'last_successful_poll',
  /** Per-cycle totals summed by whichever replica finishes each batch, logged once at the end. */
  cycleIds: 'cycle_ids',
  cycleEvents: 'cycle_events',
  cycleFailedBatches: 'cycle_failed_batches',
  cycleBatchCount: 'cycle_batch_count',
} as const;

export interface CycleTotals {
  seconds: number;
  batches: number;
  ids: number;
  events: number;
  failedBatches: number;
}

/**
 * Starts a poll cycle for one scheduler tick, unless the previous cycle still has batches outstanding:
 * then this tick is skipped, so a slow cycle never makes two batches poll the same ids at once.
 * A cycle older than `staleAfterMs` is presumed dead (its worker crashed beyond BullMQ's stall recovery).
 * Retrying the same tick (same `tickId`) returns the same batch job ids, so re-enqueueing is a no-op.
 */
export async function startCycle(redis: Redis, keys: Keys, store: TrackingStore, options: { tickId: string; batchSize: number; staleAfterMs: number; now: number }): Promise<CycleStart> {
  const [outstanding, meta] = await Promise.all([redis.scard(keys.cycleBatches), redis.hmget(keys.meta, META.cycleId, META.cycleStartedAt)]);
  const [currentId, startedAt] = meta;
  const sameTick = currentId === options.tickId;
  if (!sameTick && outstanding > 0 && options.now - Number(startedAt ?? 0) < options.staleAfterMs) return { kind: 'busy', outstanding };

  // Only the count is read here; ids are paged when the batches are enqueued, so memory stays flat.
  const total = await store.pendingCount();
  if (total === 0) {
    // Nothing to poll is a healthy state: readiness and the stalled-poll alert must not fire on an idle daemon.
    await redis.hset(keys.meta, META.lastSuccessfulPoll, String(options.now));
    return { kind: 'idle' };
  }
  const batchCount = Math.ceil(total / options.batchSize);
  if (!sameTick) {
    const jobIds = Array.from({ length: batchCount }, (_, i) => batchJobId(options.tickId, i));
    const multi = redis.multi().del(keys.cycleBatches);
    for (const part of chunk(jobIds, 10_000)) multi.sadd(keys.cycleBatches, ...part);
    await multi
      .hset(keys.meta, META.cycleId, options.tickId, META.cycleStartedAt, String(options.now), META.cycleIds, '0', META.cycleEvents, '0', META.cycleFailedBatches, '0', META.cycleBatchCount, String(batchCount))
      .exec();
  }
  return { kind: 'started', cycleId: options.tickId, batchCount };
}

/**
 * Marks one batch of the current cycle finished (success or final failure) and adds its numbers to the
 * cycle's totals. Returns the totals when this was the cycle's last batch, else null. SREM makes a batch
 * count once even if finished twice (a retried job).
 */
export async function finishBatch(redis: Redis, keys: Keys, jobId: string, batch: { ids: number; events: number; failed: boolean }, now: number): Promise<CycleTotals | null> {
  const removed = await redis.srem(keys.cycleBatches, jobId);
  if (removed !== 1) return null;
  const reply = await redis
    .multi()
    .hincrby(keys.meta, META.cycleIds, batch.ids)
    .hincrby(keys.meta, META.cycleEvents, batch.events)
    .hincrby(keys.meta, META.cycleFailedBatches, batch.failed ? 1 : 0)
    .scard(keys.cycleBatches)
    .hmget(keys.meta, META.cycleStartedAt, META.cycleBatchCount)
    .exec();
  const [ids, events, failedBatches, left, meta] = (reply ?? []).map(([, value]) => value);
  const [startedAt, batches] = (meta ?? []) as Array<string | null>;
  if (left !== 0 || typeof startedAt !== 'string') return null;
  return { seconds: Math.max(0, (now - Number(startedAt)) / 1000), batches: Number(batches ?? 0), ids: Number(ids), events: Number(events), failedBatches: Number(failedBatches) };
}

export async function markPollSucceeded(redis: Redis, keys: Keys, now: number): Promise<void> {
  await redis.hset(keys.meta, META.lastSuccessfulPoll, String(now));
}

export async function lastSuccessfulPoll(redis: Redis, keys: Keys): Promise<number | null> {
  const value = await redis.hget(keys.meta, META.lastSuccessfulPoll);
  return value === null ? null : Number(value);
}
