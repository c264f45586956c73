import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CreatifyClient } from '../creatify/client.js';
import { applyBatch, readStates, type ApplyOp, type StoredState } from '../store/apply.js';
import { STATE_FIELDS, type Keys } from '../store/keys.js';
import { recordRecentTransitions } from '../store/recent.js';
import { markPollSucceededThrottled } from './cycle.js';
import type { SyncObserver } from './observer.js';
import { normalizeStatus, UNSEEN_STATUS } from '../shared/status.js';
import { planBatch } from './plan.js';
import { nextDueTimes, type Cadence } from './cadence.js';

export interface PollBatchDeps {
  redis: Redis;
  keys: Keys;
  client: CreatifyClient;
  observer: SyncObserver;
  logger: Logger;
  terminalStatuses: ReadonlySet<string>;
  missingGraceCycles: number;
  retentionSeconds: number;
  /** Normalised status → ms without movement before `lipsync.stalled` (see stalledAfterMap). */
  stalledAfterMs?: ReadonlyMap<string, number>;
  now?: () => Date;
  /** `poll.cadence` when configured: each answered batch then writes its ids' next due times. */
  cadence?: Cadence;
}

/** `poll.stalledAfterSeconds` as the plan reads it. */
export function stalledAfterMap(seconds: Readonly<Record<string, number>>): ReadonlyMap<string, number> {
  return new Map(Object.entries(seconds).map(([status, s]) => [normalizeStatus(status) ?? status, s * 1000]));
}

export interface BatchSummary {
  asked: number;
  answered: number;
  events: number;
  changed: number;
  missing: number;
  unreadable: number;
  malformed: number;
  stale: number;
  conflicts: number;
}

/**
 * Polls one batch (≤100 ids), diffs it against Redis and applies the result atomically. Upstream errors
 * propagate (the queue retries the job); unreadable and malformed items are reported and the rest applied.
 * Log lines about an id's unreadable answer are written once per id (when it becomes unreadable), not per cycle.
 */
export async function pollBatch(ids: readonly string[], deps: PollBatchDeps, cycleStartedAt?: number): Promise<BatchSummary> {
  const { redis, keys, observer, logger } = deps;
  const answer = await deps.client.list(ids).catch((err: unknown) => {
    observer.batchPolled(isRateLimited(err) ? 'rate_limited' : 'error');
    throw err;
  });
  observer.batchPolled('ok');
  const now = deps.now?.() ?? new Date();
  if (answer.malformed.length > 0) {
    logger.warn({ count: answer.malformed.length, first: answer.malformed[0] }, 'Creatify answer held items without a readable id; skipped');
  }

  const states = await readStates(redis, keys, ids);
  const plan = planBatch(ids, answer, states, { terminalStatuses: deps.terminalStatuses, missingGraceCycles: deps.missingGraceCycles, now, ...(deps.stalledAfterMs === undefined ? {} : { stalledAfterMs: deps.stalledAfterMs }) });
  const due = deps.cadence === undefined ? undefined : dueAfter(ids, plan.ops, states, deps.cadence, cycleStartedAt ?? now.getTime(), now.getTime());
  const result = await applyBatch(redis, keys, { ops: plan.ops, seen: plan.seen, now: now.getTime(), ...(due === undefined ? {} : { due }) }, deps.retentionSeconds);
  await markPollSucceededThrottled(redis, keys, now.getTime());

  // Only what was actually applied is reported: a conflicting op was applied by another replica, which reports it.
  const applied = plan.ops.filter((_, i) => result.outcomes[i] === 'applied');
  const appliedIds = new Set(applied.map((op) => op.id));
  const transitions = plan.transitions.filter((t) => appliedIds.has(t.id));
  observer.transitions(transitions);
  const reasons = new Map(applied.map((op) => [op.id, op.events[0]?.data.current.failed_reason ?? null]));
  await recordRecentTransitions(redis, keys, transitions.map((t) => ({ ...t, failedReason: reasons.get(t.id) ?? null, at: now.getTime() })));
  observer.eventsEmitted(applied.flatMap((op) => op.events.map((e) => e.type)));
  observer.failures(applied.flatMap((op) => op.events.filter((e) => e.type === 'lipsync.failed').map((e) => e.data.current.failed_reason)));
  observer.answerOddities({
    malformed: answer.malformed.length,
    unreadable: plan.unreadable.length,
    missing: plan.missing.length,
    unexpected: plan.unexpected.length,
    duplicated: plan.duplicated.length,
    stale: plan.stale.length,
  });
  for (const bad of plan.unreadable) {
    if (appliedIds.has(bad.id) && (states.get(bad.id)?.unreadable ?? 0) === 0) logger.warn({ lipsyncId: bad.id, issues: bad.issues }, 'lipsync answer unreadable; counted towards poll.missingGraceCycles');
  }
  for (const id of plan.stalled) {
    if (appliedIds.has(id)) logger.warn({ lipsyncId: id, status: states.get(id)?.label, since: new Date(states.get(id)?.changedAtMs ?? now.getTime()).toISOString() }, 'lipsync stalled: no change of status or progress for longer than poll.stalledAfterSeconds allows');
  }
  if (plan.unexpected.length > 0) logger.warn({ count: plan.unexpected.length }, 'Creatify returned lipsyncs that were not asked for; ignored');
  for (const id of plan.missingExpired) {
    if (appliedIds.has(id)) logger.warn({ lipsyncId: id, cycles: deps.missingGraceCycles, reason: plan.unreadable.some((u) => u.id === id) ? 'unreadable' : 'absent' }, 'lipsync not followed for poll.missingGraceCycles answers; no longer polled');
  }
  return {
    asked: ids.length,
    answered: plan.seen.length,
    events: result.appended,
    changed: applied.filter((op) => op.events.length > 0).length,
    missing: plan.missing.length,
    unreadable: plan.unreadable.length,
    malformed: answer.malformed.length,
    stale: plan.stale.length,
    conflicts: result.outcomes.filter((o) => o === 'conflict').length,
  };
}

/** Every asked id's next due time, from its status and last change once this batch's ops are applied. */
function dueAfter(ids: readonly string[], ops: readonly ApplyOp[], states: ReadonlyMap<string, StoredState>, cadence: Cadence, baseMs: number, nowMs: number): Array<[string, number]> {
  const byId = new Map(ops.map((op) => [op.id, op]));
  return nextDueTimes(
    cadence,
    ids.map((id) => {
      const op = byId.get(id);
      const changedAt = op?.set[STATE_FIELDS.changedAt];
      return { id, status: op?.to ?? states.get(id)?.label ?? UNSEEN_STATUS, changedAtMs: changedAt === undefined ? (states.get(id)?.changedAtMs ?? null) : Number(changedAt) };
    }),
    baseMs,
    nowMs,
  );
}

function isRateLimited(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'LSYNC_ERR_RATE_LIMITED';
}
