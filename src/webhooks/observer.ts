/**
 * What webhook delivery reports to metrics, as an interface, so delivery never imports prom-client.
 */
/** `webhook_deliveries_total{outcome}` starts each at 0 per configured endpoint. */
export const DELIVERY_ATTEMPT_OUTCOMES = ['delivered', 'retry', 'gone', 'dead_lettered'] as const;
export type DeliveryAttemptOutcome = (typeof DELIVERY_ATTEMPT_OUTCOMES)[number];

/**
 * What webhook delivery reports as it works; the daemon turns it into `webhook_deliveries_total`,
 * `webhook_delivery_duration_seconds` and `webhook_dead_letters_dropped_total`. Keeps delivery free of
 * prom-client (same pattern as SyncObserver). Shared state (dead letters waiting, breaker states, hand-off
 * markers) is read at scrape time instead, through WebhookPipeline.snapshot().
 */
export interface DeliveryObserver {
  /**
   * One delivery step for `endpoint`. `seconds` is the HTTP request's duration, 0 when none was made
   * (dead-lettered because the endpoint is disabled). The last failing attempt reports
   * `dead_lettered` instead of `retry`; a 410 reports `gone` (its event is dead-lettered too).
   */
  attempt(endpoint: string, outcome: DeliveryAttemptOutcome, seconds: number): void;
  /** `count` of the endpoint's oldest dead letters were dropped by the `delivery.maxDeadLetters` cap. */
  deadLettersDropped(endpoint: string, count: number): void;
}

export const NOOP_DELIVERY_OBSERVER: DeliveryObserver = {
  attempt: () => undefined,
  deadLettersDropped: () => undefined,
};
