/**
 * `/readyz` for one replica: Redis answers (bounded to 1 s, so the route answers within about that however Redis
 * fails), its eviction policy, whether its data set was lost, the poll scheduler, the age of the last successful
 * poll on any replica, and answers that could not be read. Checks after Redis are skipped while Redis is down:
 * they would only repeat the same outage.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { messageOf } from '../errors.js';
import { isReady, type Readiness } from '../http/server.js';
import { withTimeout } from '../shared/timeout.js';
import { describeLoss, type EpochWatch } from '../store/epoch.js';
import type { EvictionCheck } from '../store/eviction.js';
import type { Keys } from '../store/keys.js';
import type { TrackingStore } from '../store/tracking.js';
import { lastSuccessfulPoll } from '../sync/cycle.js';
import { SCHEDULER_ID } from '../sync/poll-queue.js';

const PING_TIMEOUT_MS = 1000;

export interface ReadinessSources {
  redis: Redis;
  keys: Keys;
  store: TrackingStore;
  pollQueue: Queue;
  eviction: EvictionCheck;
  epoch: EpochWatch;
  intervalMs: number;
  /** A fresh start gets three intervals from here before it must have polled. */
  startedAt: number;
}

export function readinessOf(sources: ReadinessSources): () => Promise<Readiness> {
  const { redis, keys, store, pollQueue, eviction, epoch, intervalMs, startedAt } = sources;
  return async () => {
    const checks: Readiness['checks'] = {};
    try {
      await withTimeout(() => redis.ping(), PING_TIMEOUT_MS, 'no PING answer');
      checks['redis'] = { ok: true };
    } catch (err) {
      checks['redis'] = { ok: false, detail: messageOf(err) };
      return { ready: false, checks };
    }
    checks['eviction'] = { ok: true, detail: eviction.detail };
    await epoch.check().catch(() => undefined); // a failure here is Redis trouble, reported by the checks around it
    const loss = epoch.lastLoss;
    // Reported, not blocking: the replica works again on the emptied Redis; the loss must still not look healthy.
    if (loss !== null) checks['redis_data'] = { ok: false, blocking: false, detail: describeLoss(loss) };
    const scheduler = await pollQueue.getJobScheduler(SCHEDULER_ID).catch(() => undefined);
    checks['scheduler'] = scheduler ? { ok: true } : { ok: false, detail: `job scheduler ${SCHEDULER_ID} is missing` };
    const last = await lastSuccessfulPoll(redis, keys);
    const maxAge = 3 * intervalMs;
    const age = Date.now() - (last ?? startedAt);
    checks['poll'] = age <= maxAge ? { ok: true } : { ok: false, detail: `last successful poll ${Math.round(age / 1000)} s ago (limit ${maxAge / 1000} s)` };
    // Answered but not applicable: reported (the replica keeps working), never silent.
    const unreadable = await store.unreadableCount();
    checks['answers'] = unreadable === 0 ? { ok: true, detail: '0 unreadable' } : { ok: false, blocking: false, detail: `${unreadable} tracked lipsyncs answered unreadably (see lipsync-sync status <id>)` };
    return { ready: isReady(checks), checks };
  };
}
