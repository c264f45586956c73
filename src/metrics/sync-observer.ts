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
    answerOddities: ({ malformed, unreadable, missing, unexpected, duplicated, stale }) => {
      metrics.malformedItems.inc(malformed);
      metrics.unreadableItems.inc(unreadable);
      metrics.missing.inc(missing);
      metrics.answerOddities.inc({ kind: 'unexpected' }, unexpected);
      metrics.answerOddities.inc({ kind: 'duplicated' }, duplicated);
      metrics.answerOddities.inc({ kind: 'stale' }, stale);
    },
    cycleCompleted: (seconds) => metrics.pollCycleDuration.observe(seconds),
  };
}
