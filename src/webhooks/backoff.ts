import { DEFAULTS } from '../config/schema.js';

/** Seconds to wait after attempt 1, 2, … (SPEC "Webhook delivery"); one attempt more than entries. Set in config DEFAULTS. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = DEFAULTS.retryScheduleSeconds;
export const DEFAULT_MAX_ATTEMPTS = DEFAULT_RETRY_SCHEDULE_SECONDS.length + 1;
/** ±20 % so endpoints that failed together do not get retried in lockstep. */
export const JITTER_RATIO = 0.2;

/**
 * Delay before the next attempt after `attemptsMade` attempts, with jitter.
 * `random` in [0, 1]: 0 gives −20 %, 0.5 the plain value, 1 gives +20 %. Past the schedule's end the last entry repeats.
 */
export function retryDelayMs(attemptsMade: number, scheduleSeconds: readonly number[] = DEFAULT_RETRY_SCHEDULE_SECONDS, random: () => number = Math.random): number {
  if (scheduleSeconds.length === 0) return 0;
  const index = Math.min(Math.max(Math.floor(attemptsMade), 1), scheduleSeconds.length) - 1;
  const baseMs = (scheduleSeconds[index] ?? 0) * 1000;
  const factor = 1 + JITTER_RATIO * (2 * random() - 1);
  return Math.max(0, Math.round(baseMs * factor));
}


/** The schedule's delay or the endpoint's `Retry-After`, whichever is longer. */
export function nextDelayMs(
  attemptsMade: number,
  scheduleSeconds: readonly number[] = DEFAULT_RETRY_SCHEDULE_SECONDS,
  retryAfterMs: number | null = null,
  random: () => number = Math.random,
): number {
  return Math.max(retryDelayMs(attemptsMade, scheduleSeconds, random), retryAfterMs ?? 0);
}
