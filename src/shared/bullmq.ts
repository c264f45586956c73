/**
 * BullMQ conventions shared by the poll queue and the webhook delivery queue (TOOLCHAIN "BullMQ"): how a
 * request rate becomes a limiter, and how a worker is closed without waiting forever on its active jobs.
 */
import type { Worker } from 'bullmq';
import type { Logger } from 'pino';

/**
 * One job per `1000 / rate` ms rather than `rate` per second: BullMQ's window is fixed (it starts at the first
 * job), so `rate` per 1000 ms lets up to 2 × rate start within one sliding second across a window edge, and an
 * upstream that counts a sliding second (as Creatify's 429 and the simulator's do) refuses the excess; each 429
 * then pauses every replica for its Retry-After. Spaced admissions are never more than `rate` in any second.
 */
export function limiterFor(requestsPerSecond: number): { max: number; duration: number } {
  return { max: 1, duration: Math.ceil(1000 / requestsPerSecond) };
}

/** `worker.close()` waits for active jobs with no timeout of its own; bound it, then force. */
export async function closeWorker(worker: Worker, timeoutMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([worker.close().then(() => 'closed' as const), timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    logger.warn({ worker: worker.name, timeoutMs }, 'jobs still running at shutdown; closing forcibly (they will be retried)');
    await worker.close(true);
  }
}
