/**
 * Whether any of a set of BullMQ jobs can still make progress. A job is alive while it waits to run (wait,
 * delayed, prioritized: its hash exists, it is unfinished and not in the active list) or while a live worker
 * holds its lock (a worker renews the lock every lockDuration / 2; a killed worker's lock expires within
 * lockDuration). A job that is active without a lock belongs to a dead worker; a finished or vanished job never
 * runs again. This is what ties a poll cycle's lease to its workers instead of to a fixed age.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** `redis` is any connection to the queue's Redis; `queue` only names the keys. */
export async function anyJobAlive(redis: Redis, queue: Queue, jobIds: readonly string[]): Promise<boolean> {
  if (jobIds.length === 0) return false;
  const active = queue.toKey('active');
  const pipeline = redis.pipeline();
  // Order matters: a job moving wait → active gets its lock in the same step, and one finishing loses its lock
  // before it is marked finished, so reading active, then lock, then the hash never sees a live job as dead.
  for (const id of jobIds) {
    const jobKey = queue.toKey(id);
    pipeline.lpos(active, id);
    pipeline.exists(`${jobKey}:lock`);
    pipeline.hmget(jobKey, 'timestamp', 'finishedOn');
  }
  const replies = (await pipeline.exec()) ?? [];
  for (let i = 0; i < jobIds.length; i += 1) {
    const [activeErr, position] = replies[3 * i] ?? [null, null];
    const [lockErr, locked] = replies[3 * i + 1] ?? [null, 0];
    const [hashErr, hash] = replies[3 * i + 2] ?? [null, null];
    const err = hashErr ?? lockErr ?? activeErr;
    if (err) throw err;
    const [timestamp, finishedOn] = hash as [string | null, string | null];
    if (timestamp === null || finishedOn !== null) continue; // gone or finished
    if (locked === 1 || position === null) return true; // held by a live worker, or waiting its turn
  }
  return false;
}
