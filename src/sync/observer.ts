import type { EventType } from '../events/types.js';
import type { Transition } from './plan.js';

/** One per poll batch; `polls_total{outcome}` starts each at 0. */
export const POLL_OUTCOMES = ['ok', 'error', 'rate_limited'] as const;
export type PollOutcome = (typeof POLL_OUTCOMES)[number];

/** Answer items that are ignored or skipped (`answer_oddities_total{kind}`). */
export const ANSWER_ODDITY_KINDS = ['unexpected', 'duplicated', 'stale'] as const;

/** Per answer: how many items or asked ids fell into each oddity (each has its own metric). */
export interface AnswerOddities {
  /** Items without a readable id. */
  malformed: number;
  /** Asked ids answered with an item whose read fields could not be read. */
  unreadable: number;
  /** Asked ids absent from the answer. */
  missing: number;
  /** Items for ids that were not asked for. */
  unexpected: number;
  /** Ids answered more than once. */
  duplicated: number;
  /** Answers older than the stored state, skipped. */
  stale: number;
}

/**
 * What the sync loop reports as it works. The daemon turns it into Prometheus metrics; tests can record it.
 * Keeping sync free of prom-client keeps the loop testable and the metric names in one module.
 */
export interface SyncObserver {
  batchPolled(outcome: PollOutcome): void;
  transitions(transitions: readonly Transition[]): void;
  eventsEmitted(types: readonly EventType[]): void;
  failures(reasons: ReadonlyArray<string | null>): void;
  answerOddities(counts: AnswerOddities): void;
  cycleCompleted(seconds: number): void;
}

export const NOOP_OBSERVER: SyncObserver = {
  batchPolled: () => undefined,
  transitions: () => undefined,
  eventsEmitted: () => undefined,
  failures: () => undefined,
  answerOddities: () => undefined,
  cycleCompleted: () => undefined,
};
