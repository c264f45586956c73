/**
 * Pure: when each id should next be polled under `poll.cadence`, and how many requests one tick may spend.
 * An id's period comes from its status and doubles per `idleAfterMs` it has gone without a change of status or
 * progress; it is capped at `maxPeriodMs` less the pickup slack (PICKUP_SLACK_INTERVALS), so while the budget
 * covers the due ids no id waits longer than `maxPeriodMs` between two polls. No clock and no I/O here: callers
 * pass every time.
 */
import type { CadenceConfig } from '../config/schema.js';
import { normalizeStatus } from '../shared/status.js';

export interface Cadence {
  /** Normalised status → ms between polls. */
  periodMs: ReadonlyMap<string, number>;
  defaultPeriodMs: number;
  idleAfterMs: number;
  /** The longest period: `maxPeriodMs` less the pickup slack, never under one interval. */
  capMs: number;
}

/**
 * After an id falls due, the tick that picks it comes up to ½ interval later (dueHorizon) and its request goes
 * out within the cycle, which the budget keeps under one interval: 1.5 intervals in all.
 */
export const PICKUP_SLACK_INTERVALS = 1.5;

/** The smallest `maxPeriodMs` that leaves a period of one interval after the pickup slack (checked by the schema). */
export function minCeilingMs(intervalMs: number): number {
  return (1 + PICKUP_SLACK_INTERVALS) * intervalMs;
}

/**
 * Share of the API budget one tick plans for: a cycle that used the whole interval would still run when the
 * next tick comes, and that tick (claim as today: never two cycles at once) would be skipped, halving the rate
 * at which running ids are polled. The rest absorbs request latency, retries, discovery and the tick itself.
 */
export const BUDGET_SHARE = 0.8;

export function cadenceFrom(config: CadenceConfig, intervalMs: number): Cadence {
  const periodMs = new Map<string, number>();
  let defaultPeriodMs = config.maxPeriodMs;
  for (const [status, ms] of Object.entries(config.periodMs)) {
    if (status === 'default') defaultPeriodMs = ms;
    else periodMs.set(normalizeStatus(status) ?? status, ms);
  }
  const capMs = Math.max(intervalMs, config.maxPeriodMs - PICKUP_SLACK_INTERVALS * intervalMs);
  return { periodMs, defaultPeriodMs, idleAfterMs: config.idleAfterMs, capMs };
}

/** Ms until the next poll of an id in `status` that has not moved for `unchangedForMs`. */
export function periodFor(cadence: Cadence, status: string, unchangedForMs: number): number {
  const base = cadence.periodMs.get(status) ?? cadence.defaultPeriodMs;
  const doublings = Math.max(0, Math.floor(unchangedForMs / cadence.idleAfterMs));
  // 2^31 ms is ~25 days: past any sane ceiling, and it keeps the power finite.
  return Math.min(cadence.capMs, base * 2 ** Math.min(doublings, 31));
}

export interface DueInput {
  id: string;
  /** Normalised status after this poll was applied (`new` when never answered). */
  status: string;
  /** Ms of the last change of status or progress; null when unknown (no idle backoff then). */
  changedAtMs: number | null;
}

/**
 * Next due time per id. `baseMs` is the time the polling cycle started, not the time the answer arrived: a tick
 * picks ids due before the middle of the coming interval (dueHorizon), so an id with a one-interval period is
 * picked by the very next tick however late in its cycle its request ran.
 */
export function nextDueTimes(cadence: Cadence, ids: readonly DueInput[], baseMs: number, nowMs: number): Array<[string, number]> {
  return ids.map(({ id, status, changedAtMs }) => [id, baseMs + periodFor(cadence, status, changedAtMs === null ? 0 : nowMs - changedAtMs)]);
}

/** A tick at `nowMs` polls the ids due at or before this: closer to this tick than to the next one. */
export function dueHorizon(nowMs: number, intervalMs: number): number {
  return nowMs + Math.floor(intervalMs / 2);
}

/**
 * Batches one tick may enqueue: BUDGET_SHARE of what the shared rate limit allows in one interval, less one
 * slot for discovery and retried batches, at least 1.
 */
export function batchBudget(maxRequestsPerSecond: number, intervalMs: number): number {
  return Math.max(1, Math.floor((BUDGET_SHARE * maxRequestsPerSecond * intervalMs) / 1000) - 1);
}
