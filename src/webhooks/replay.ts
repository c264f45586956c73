import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Keys } from '../store/keys.js';
import { replayDeadLetters as replay, type ReplayResult } from './dead-letters.js';
import { DeliveryHandoff, type DeliveryJobData } from './handoff.js';

export interface ReplayContext {
  config: Pick<Config, 'webhooks' | 'delivery'>;
  keys: Keys;
  redis: Redis;
  logger?: Logger;
}

/**
 * `lipsync-sync replay-dead-letters [--endpoint]` without a running pipeline: hands the letters to the
 * webhook queue on this connection; whichever replica's worker is running delivers them.
 */
export async function replayDeadLetters(ctx: ReplayContext, endpoint?: string): Promise<ReplayResult> {
  const { config, keys, redis } = ctx;
  const queue = new Queue<DeliveryJobData>(keys.webhookQueue, { connection: redis, prefix: keys.bullPrefix });
  try {
    const handoff = new DeliveryHandoff({ redis, keys, queue, endpoints: config.webhooks, retryScheduleSeconds: config.delivery.retryScheduleSeconds });
    return await replay({ redis, keys, endpoints: config.webhooks.map((w) => w.name), handoff, logger: ctx.logger ?? pino({ level: 'silent' }) }, endpoint);
  } finally {
    await queue.close();
  }
}
