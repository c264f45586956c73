/**
 * Upgrade path from the single `{prefix}-webhooks` queue that served every endpoint before endpoint isolation:
 * at start, its delivery jobs move to their endpoints' own queues, so FIFO heads queued by an older version are
 * not left without a job a worker can see. Invariant: a job is added to its new queue before it is removed from
 * the old one, so a crash in between leaves a duplicate (the new queue ignores a second add with the same id)
 * and never a head with no job. Jobs active in an older replica still running are left to it.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import type { Keys } from '../store/keys.js';
import { isJobData, type DeliveryFifo, type DeliveryJobData } from './fifo.js';

const PAGE = 500;
const MOVABLE = ['waiting', 'delayed', 'prioritized', 'failed'] as const;

/** Moves every movable job of the legacy queue; returns how many moved. Bounded by the queue's size at start. */
export async function adoptLegacyJobs(fifo: DeliveryFifo, keys: Keys, connection: ConnectionOptions, logger: Logger): Promise<number> {
  const legacy = new Queue<DeliveryJobData>(keys.webhookQueue, { connection, prefix: keys.bullPrefix });
  legacy.on('error', () => undefined);
  let moved = 0;
  try {
    const total = Object.values(await legacy.getJobCounts(...MOVABLE)).reduce((a, b) => a + b, 0);
    for (let seen = 0; seen < total; seen += PAGE) {
      const jobs = await legacy.getJobs([...MOVABLE], 0, PAGE - 1, true);
      if (jobs.length === 0) break;
      for (const job of jobs) {
        if (isJobData(job.data)) {
          const { endpoint, token, eventId, type, lipsyncId, body } = job.data;
          await fifo.addJob(endpoint, token, { eventId, type, lipsyncId, body });
          moved += 1;
        }
        await job.remove();
      }
    }
  } finally {
    await legacy.close();
  }
  if (moved > 0) logger.warn({ moved, from: keys.webhookQueue }, 'moved webhook jobs from the pre-isolation queue to their endpoints\' queues');
  return moved;
}
