import type { EventType } from '../events/types.js';
import type { Transition } from './plan.js';

/** One per poll batch; `polls_total{outcome}` starts each at 0. */
export const POLL_OUTCOMES = ['ok', 'error', 'rate_limited'] as const;
export type PollOutcome = (typeof POLL_OUTCOMES)[number];

/**
 * What the sync loop reports as it works. The daemon turns it into Prometheus metrics; tests can record it.
 * Keeping sync free of prom-client keeps the loop testable and the metric names in one module.
 */
export interface SyncObserver {
  batchPolled(outcome: PollOutcome): void;
  transitions(transitions: readonly Transition[]): void;
  eventsEmitted(types: readonly EventType[]): void;
  failures(reasons: ReadonlyArray<string | null>): void;
  malformedItems(count: number): void;
  missingItems(count: number): void;
  cycleCompleted(seconds: number): void;
}

export const NOOP_OBSERVER: SyncObserver = {
  batchPolled: () => undefined,
  transitions: () => undefined,
  eventsEmitted: () => undefined,
  failures: () => undefined,
  malformedItems: () => undefined,
  missingItems: () => undefined,
  cycleCompleted: () => undefined,
};
