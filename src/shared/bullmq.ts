/**
 * BullMQ conventions shared by the poll queue and the webhook delivery queue (TOOLCHAIN "BullMQ"): how a
 * worker is closed without waiting forever on its active jobs.
 */
import type { Worker } from 'bullmq';
import type { Logger } from 'pino';

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
