import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.js';
import { runScript } from '../store/scripts.js';

export type CycleStart =
  | { kind: 'idle' }
  | { kind: 'busy'; outstanding: number; cycleId: string }
  | { kind: 'started'; cycleId: string; batchCount: number };

/**
 * Batch job ids derive from the tick, so a retried tick re-adds the same ids and BullMQ ignores them. This is the
 * one place that spells them: startCycle.lua is given the prefix and appends the index.
 */
function batchJobPrefix(cycleId: string): string {
  return `${cycleId}-b`;
}

export function batchJobId(cycleId: string, index: number): string {
  return `${batchJobPrefix(cycleId)}${index}`;
}

/**
 * Fields of the meta hash used from TypeScript. The cycle fields (cycle_id, cycle_started_at, cycle_batch_count,
 * cycle_ids, cycle_events, cycle_failed_batches, cycle_tick_job) are written only by startCycle.lua and
 * finishBatch.lua.
 */
export const META = {
  lastSuccessfulPoll: 'last_successful_poll',
  cycleTickJob: 'cycle_tick_job',
} as const;

export interface CycleTotals {
  seconds: number;
  batches: number;
  ids: number;
  events: number;
  failedBatches: number;
}

/** With `poll.cadence`: the cycle holds the ids due by `horizonMs`, in at most `maxBatches` batches. */
export interface DueSelection {
  horizonMs: number;
  maxBatches: number;
}

/**
 * Starts a poll cycle for one scheduler tick, unless the previous cycle still has batches outstanding:
 * then this tick is skipped, so a slow cycle never makes two batches poll the same ids at once. The check and
 * the claim are one Lua step (startCycle.lua): concurrent ticks cannot both start. `deadCycleId` names a cycle
 * the caller proved dead (see PollQueue: none of its jobs holds a lock or waits), which may then be replaced.
 * Retrying the same tick returns the same batch count, and batch job ids derive from the tick, so
 * re-enqueueing is a no-op.
 */
export async function startCycle(redis: Redis, keys: Keys, options: { tickId: string; tickJobId: string; batchSize: number; now: number; deadCycleId?: string; due?: DueSelection }): Promise<CycleStart> {
  const due = options.due === undefined ? [] : [options.due.horizonMs, options.due.maxBatches];
  const [kind, count, cycleId] = (await runScript(redis, 'startCycle', [keys.pending, keys.cycleBatches, keys.meta, keys.due], [options.tickId, options.now, options.batchSize, options.tickJobId, options.deadCycleId ?? '', batchJobPrefix(options.tickId), ...due])) as [string, number?, string?];
  if (kind === 'busy') return { kind: 'busy', outstanding: count ?? 0, cycleId: cycleId ?? '' };
  if (kind === 'idle') {
    // Nothing to poll is healthy: readiness and the stalled-poll alert must not fire on an idle daemon.
    await markPollSucceeded(redis, keys, options.now);
    return { kind: 'idle' };
  }
  return { kind: 'started', cycleId: options.tickId, batchCount: count ?? 0 };
}

/** The tick job that started the current cycle (it may still be enqueueing its batches). */
export async function currentTickJob(redis: Redis, keys: Keys): Promise<string | null> {
  return redis.hget(keys.meta, META.cycleTickJob);
}

/**
 * The batch job ids still outstanding in the current cycle, a page at a time (SSCAN, never all at once). Pages
 * are small: a liveness check usually stops at the first page (a live cycle has waiting jobs), and each skipped
 * tick pays three commands per id of that page.
 */
export async function* outstandingBatches(redis: Redis, keys: Keys, pageSize = 20): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, page] = await redis.sscan(keys.cycleBatches, cursor, 'COUNT', pageSize);
    cursor = next;
    if (page.length > 0) yield page;
  } while (cursor !== '0');
}

/**
 * Marks one batch of the current cycle finished (success or final failure) and adds its numbers to the
 * cycle's totals (finishBatch.lua). Returns the totals when this was the cycle's last batch, else null; a
 * batch finished twice (a retried job) counts once.
 */
export async function finishBatch(redis: Redis, keys: Keys, jobId: string, batch: { ids: number; events: number; failed: boolean }, now: number): Promise<CycleTotals | null> {
  const reply = (await runScript(redis, 'finishBatch', [keys.cycleBatches, keys.meta], [jobId, batch.ids, batch.events, batch.failed ? 1 : 0, now])) as [string, string, number, number, number] | null;
  if (reply === null) return null;
  const [startedAt, batches, ids, events, failedBatches] = reply;
  return { seconds: Math.max(0, (now - Number(startedAt)) / 1000), batches: Number(batches), ids, events, failedBatches };
}

export async function markPollSucceeded(redis: Redis, keys: Keys, now: number): Promise<void> {
  await redis.hset(keys.meta, META.lastSuccessfulPoll, String(now));
}

/**
 * This process's last mark per meta key. Readiness and the stalled-poll alert allow three intervals, so one mark a
 * second per process is as good as one per batch (it was 1 of ~150 Redis commands per batch); the batch that
 * ends a cycle marks it in finishBatch.lua regardless, so a cycle's end is exact.
 */
const lastMarks = new Map<string, number>();
const MARK_EVERY_MS = 1000;

/** markPollSucceeded at most once per MARK_EVERY_MS per process and partition. */
export async function markPollSucceededThrottled(redis: Redis, keys: Keys, now: number): Promise<void> {
  const last = lastMarks.get(keys.meta);
  if (last !== undefined && now - last >= 0 && now - last < MARK_EVERY_MS) return;
  lastMarks.set(keys.meta, now);
  await markPollSucceeded(redis, keys, now);
}

export async function lastSuccessfulPoll(redis: Redis, keys: Keys): Promise<number | null> {
  const value = await redis.hget(keys.meta, META.lastSuccessfulPoll);
  return value === null ? null : Number(value);
}
