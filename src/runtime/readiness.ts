/**
 * `/readyz` for one replica, as an ordered list of named checks (a new check is one more entry): Redis answers
 * (at once while an outage is known, else a PING bounded to 500 ms, so the route answers within 1 s however
 * Redis fails), its eviction policy, whether its data set was lost, the poll scheduler, the age of the last
 * successful poll on any replica, and answers that could not be read. Checks after a failed gate (Redis) are
 * skipped: they would only repeat the same outage.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { messageOf } from '../errors.js';
import { isReady, type Readiness, type ReadinessCheck } from '../http/server.js';
import { withTimeout } from '../shared/timeout.js';
import { describeLoss, type EpochWatch } from '../store/epoch.js';
import type { EvictionCheck } from '../store/eviction.js';
import type { Keys } from '../store/keys.js';
import type { LipsyncStore } from '../store/partitioned-store.js';
import { lastSuccessfulPoll } from '../sync/cycle.js';
import { SCHEDULER_ID } from '../sync/poll-queue.js';

const PING_TIMEOUT_MS = 500;

/** One entry of /readyz. A check that throws reports its error as its detail; `null` leaves the entry out. */
export interface NamedCheck {
  name: string;
  /** When it fails, the checks after it are not run. */
  gate?: boolean;
  check(): Promise<ReadinessCheck | null>;
}

/** Runs the checks in order; ready when every blocking one passes (isReady). */
export async function evaluateReadiness(checks: readonly NamedCheck[]): Promise<Readiness> {
  const results: Readiness['checks'] = {};
  for (const { name, gate, check } of checks) {
    const result = await check().catch((err: unknown): ReadinessCheck => ({ ok: false, detail: messageOf(err) }));
    if (result === null) continue;
    results[name] = result;
    if (!result.ok && gate === true) break;
  }
  return { ready: isReady(results), checks: results };
}

export interface ReadinessSources {
  redis: Redis;
  /** The keys of every partition (one unless `redis.partitions` > 1). */
  partitions: readonly Keys[];
  store: LipsyncStore;
  /** Every partition's poll queue. */
  pollQueues: readonly Queue[];
  eviction: EvictionCheck;
  /** One per partition: on a Cluster, one shard can come back empty while the others keep their data. */
  epochs: readonly EpochWatch[];
  intervalMs: number;
  /** A fresh start gets three intervals from here before it must have polled. */
  startedAt: number;
  /** The open Redis outage's description (runtime/outage-watch.ts), or null: no PING that could only time out. */
  redisOutage?: () => string | null;
}

/** The worker's checks, in order. */
export function readinessChecks(sources: ReadinessSources): NamedCheck[] {
  const { redis, partitions, store, pollQueues, eviction, epochs, intervalMs, startedAt } = sources;
  return [
    {
      name: 'redis',
      gate: true,
      check: async () => {
        const outage = sources.redisOutage?.() ?? null;
        if (outage !== null) return { ok: false, detail: outage };
        await withTimeout(() => redis.ping(), PING_TIMEOUT_MS, 'no PING answer');
        return { ok: true };
      },
    },
    { name: 'eviction', check: async () => ({ ok: true, detail: eviction.detail }) },
    {
      name: 'redis_data',
      check: async () => {
        // A failure here is Redis trouble, reported by the checks around it.
        await Promise.all(epochs.map((epoch) => epoch.check().catch(() => undefined)));
        const loss = epochs.map((epoch) => epoch.lastLoss).find((l) => l !== null) ?? null;
        // Reported, not blocking: the replica works again on the emptied Redis; the loss must still not look healthy.
        return loss === null ? null : { ok: false, blocking: false, detail: describeLoss(loss) };
      },
    },
    {
      name: 'scheduler',
      check: async () => {
        const found = await Promise.all(pollQueues.map((queue) => queue.getJobScheduler(SCHEDULER_ID)));
        const missing = pollQueues.filter((_, i) => found[i] === undefined).map((queue) => queue.name);
        return missing.length === 0 ? { ok: true } : { ok: false, detail: `job scheduler ${SCHEDULER_ID} is missing (${missing.join(', ')})` };
      },
    },
    {
      name: 'poll',
      check: async () => {
        // The stalest partition decides: one partition that stopped polling is a replica that is not working.
        const lasts = await Promise.all(partitions.map((keys) => lastSuccessfulPoll(redis, keys)));
        const maxAge = 3 * intervalMs;
        const age = Math.max(...lasts.map((last) => Date.now() - (last ?? startedAt)));
        return age <= maxAge ? { ok: true } : { ok: false, detail: `last successful poll ${Math.round(age / 1000)} s ago (limit ${maxAge / 1000} s)` };
      },
    },
    {
      name: 'answers',
      check: async () => {
        // Answered but not applicable: reported (the replica keeps working), never silent.
        const unreadable = await store.unreadableCount();
        return unreadable === 0 ? { ok: true, detail: '0 unreadable' } : { ok: false, blocking: false, detail: `${unreadable} tracked lipsyncs answered unreadably (see lipsync-sync status <id>)` };
      },
    },
  ];
}

/** The route's readiness function: the checks above, evaluated per request. */
export function readinessOf(sources: ReadinessSources): () => Promise<Readiness> {
  const checks = readinessChecks(sources);
  return () => evaluateReadiness(checks);
}
