import type { SyncObserver } from '../sync/observer.js';
import { classifyFailure, type FailureClassRule } from './failure-class.js';
import type { Metrics } from './metrics.js';

/** Turns what the sync loop reports into the SPEC metrics. */
export function metricsSyncObserver(metrics: Metrics, failureRules: readonly FailureClassRule[]): SyncObserver {
  return {
    batchPolled: (outcome) => metrics.polls.inc({ outcome }),
    transitions: (transitions) => transitions.forEach(({ from, to }) => metrics.transitions.inc({ from, to })),
    eventsEmitted: (types) => types.forEach((type) => metrics.events.inc({ type })),
    failures: (reasons) => reasons.forEach((reason) => metrics.failures.inc({ reason_class: classifyFailure(reason, failureRules) })),
    malformedItems: (count) => metrics.malformedItems.inc(count),
    missingItems: (count) => metrics.missing.inc(count),
    cycleCompleted: (seconds) => metrics.pollCycleDuration.observe(seconds),
  };
}
