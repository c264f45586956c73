/** `webhook_deliveries_total{outcome}` starts each at 0 per configured endpoint. */
export const DELIVERY_ATTEMPT_OUTCOMES = ['delivered', 'retry', 'gone', 'dead_lettered'] as const;
export type DeliveryAttemptOutcome = (typeof DELIVERY_ATTEMPT_OUTCOMES)[number];

/**
 * What webhook delivery reports as it works; the daemon turns it into `webhook_deliveries_total` and
 * `webhook_delivery_duration_seconds`. Keeps delivery free of prom-client (same pattern as SyncObserver).
 */
export interface DeliveryObserver {
  /**
   * One delivery step for `endpoint`. `seconds` is the HTTP request's duration, 0 when none was made
   * (dead-lettered because the endpoint was removed or disabled). The last failing attempt reports
   * `dead_lettered` instead of `retry`; a 410 reports `gone` (its event is dead-lettered too).
   */
  attempt(endpoint: string, outcome: DeliveryAttemptOutcome, seconds: number): void;
}

export const NOOP_DELIVERY_OBSERVER: DeliveryObserver = {
  attempt: () => undefined,
};
