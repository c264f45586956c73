/**
 * The webhook retry policy, and its only home: how many attempts an endpoint gets, the delay after each
 * (`retryScheduleSeconds` ±20 % jitter), and how `Retry-After` bends it. Invariant: a delay is never shorter
 * than what the endpoint asked for with `Retry-After`; jitter only ever adds to that request, never takes off.
 */
import { DEFAULTS } from '../config/schema.js';
import type { WebhookEndpoint } from './deliver.js';

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

/**
 * The schedule's delay, or the endpoint's `Retry-After` plus up to 20 % more when that is longer: many
 * deliveries told "retry in 60 s" together then spread over 60–72 s instead of retrying in the same millisecond.
 */
export function nextDelayMs(
  attemptsMade: number,
  scheduleSeconds: readonly number[] = DEFAULT_RETRY_SCHEDULE_SECONDS,
  retryAfterMs: number | null = null,
  random: () => number = Math.random,
): number {
  const scheduled = retryDelayMs(attemptsMade, scheduleSeconds, random);
  if (retryAfterMs === null || retryAfterMs <= scheduled) return scheduled;
  return Math.round(retryAfterMs * (1 + JITTER_RATIO * random()));
}

/** The policy for a set of configured endpoints: each one's own schedule/attempts, else the delivery defaults. */
export class RetryPolicy {
  readonly #endpoints: ReadonlyMap<string, WebhookEndpoint>;
  readonly #defaultSchedule: readonly number[];

  constructor(endpoints: readonly WebhookEndpoint[], retryScheduleSeconds: readonly number[] = DEFAULT_RETRY_SCHEDULE_SECONDS) {
    this.#endpoints = new Map(endpoints.map((e) => [e.name, e]));
    this.#defaultSchedule = retryScheduleSeconds;
  }

  /** Attempts for one delivery: the endpoint's `maxAttempts`, else one more than its retry schedule. */
  attemptsFor(endpoint: string): number {
    return this.#endpoints.get(endpoint)?.maxAttempts ?? this.scheduleFor(endpoint).length + 1;
  }

  /** Retry delays for one endpoint: its own `retryScheduleSeconds`, else `delivery.retryScheduleSeconds`. */
  scheduleFor(endpoint: string): readonly number[] {
    return this.#endpoints.get(endpoint)?.retryScheduleSeconds ?? this.#defaultSchedule;
  }

  /** Delay before attempt `attemptsMade + 1` of a delivery to `endpoint`. */
  delayMs(endpoint: string, attemptsMade: number, retryAfterMs: number | null, random: () => number = Math.random): number {
    return nextDelayMs(attemptsMade, this.scheduleFor(endpoint), retryAfterMs, random);
  }
}
