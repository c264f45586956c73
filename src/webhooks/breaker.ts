/**
 * The per-endpoint circuit breaker (SPEC "Decisions": endpoint fairness), its state in Redis shared by every
 * replica (`Keys.endpointBreaker`). Invariant: the breaker only ever delays deliveries, never drops one: an
 * open breaker holds its endpoint's FIFO heads (deliveryPosition.lua), half-open lets exactly one probe through
 * (a lease, so a dead prober is replaced), a success closes it (deliveryFinish.lua), and a failure is recorded
 * here (deliveryFailed.lua), which also disables an endpoint that has failed without a success for too long.
 */
import type { Redis } from 'ioredis';
import { DEFAULTS } from '../config/schema.js';
import type { Keys } from '../store/keys.js';
import { runScript } from '../store/scripts.js';
import { MAX_RETRY_AFTER_MS } from '../shared/retry-after.js';
import type { DeliveryResult } from './deliver.js';

export interface BreakerSettings {
  /** Consecutive failures (timeouts, connection errors, 5xx, 429) that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before a probe (ms). */
  openMs: number;
  /** How long a probe may run past the endpoint's timeout before another replica may probe instead (ms). */
  probeGraceMs: number;
}

/**
 * The longest quiet gap between two failures that still counts as one continuous failing period: twice the
 * longest wait a failing delivery can be told to take (the schedule's last delay or a capped Retry-After, +20 %).
 */
export function failingGapMs(scheduleSeconds: readonly number[]): number {
  return 2 * 1.2 * Math.max(MAX_RETRY_AFTER_MS, ...scheduleSeconds.map((s) => s * 1000));
}

export const BREAKER_DEFAULTS: BreakerSettings = {
  failureThreshold: DEFAULTS.breakerFailureThreshold,
  openMs: DEFAULTS.breakerOpenMs,
  probeGraceMs: DEFAULTS.breakerProbeGraceMs,
};

/** `lipsync_sync_webhook_endpoint_state`: 0 closed, 1 half-open, 2 open. */
export type BreakerState = 0 | 1 | 2;

/** Whether a failed attempt counts toward opening the breaker: no answer, a 5xx or a 429. */
export function countsTowardBreaker(result: Pick<DeliveryResult, 'statusCode'>): boolean {
  const status = result.statusCode;
  return status === null || status === 429 || status >= 500;
}

/** The state a stored breaker hash describes at `now`. */
export function breakerState(failures: number, openUntil: number, threshold: number, now: number): BreakerState {
  if (failures < threshold) return 0;
  return now < openUntil ? 2 : 1;
}

export interface FailureRecord {
  /** The breaker's state after this failure: 2 when it (re)opened. */
  state: BreakerState;
  /** True when this failure disabled the endpoint (`disableAfterSeconds` of failure reached). */
  disabled: boolean;
  /** How long the endpoint has been failing without a success (ms). */
  failingMs: number;
}

export class EndpointBreakers {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly settings: BreakerSettings;

  constructor(redis: Redis, keys: Keys, settings: BreakerSettings = BREAKER_DEFAULTS) {
    this.#redis = redis;
    this.#keys = keys;
    this.settings = settings;
  }

  /**
   * Records one failed attempt. `disable` is stored as the endpoint's disabled reason when this failure
   * completes `disableAfterSeconds` of failure; failures more than `gapMs` apart start a new failing period.
   */
  async recordFailure(endpoint: string, counts: boolean, disableAfterSeconds: number, gapMs: number, disable: object, now = Date.now()): Promise<FailureRecord> {
    const { failureThreshold, openMs } = this.settings;
    const reply = (await runScript(
      this.#redis,
      'deliveryFailed',
      [this.#keys.endpointBreaker(endpoint), this.#keys.disabledEndpoints],
      [endpoint, now, counts ? '1' : '', failureThreshold, openMs, disableAfterSeconds * 1000, JSON.stringify(disable), gapMs],
    )) as [number, number, number];
    return { state: reply[0] === 2 ? 2 : 0, disabled: reply[1] === 1, failingMs: reply[2] };
  }

  /** Forgets an endpoint's failures (a replay re-enabling it starts it with a closed breaker and a fresh clock). */
  async reset(endpoint: string): Promise<void> {
    await this.#redis.del(this.#keys.endpointBreaker(endpoint));
  }

  /** The state of each named endpoint, for the `webhook_endpoint_state` gauge. */
  async states(endpoints: readonly string[], now = Date.now()): Promise<Record<string, BreakerState>> {
    const pipeline = this.#redis.pipeline();
    for (const endpoint of endpoints) pipeline.hmget(this.#keys.endpointBreaker(endpoint), 'failures', 'openUntil');
    const replies = (await pipeline.exec()) ?? [];
    const out: Record<string, BreakerState> = {};
    endpoints.forEach((endpoint, i) => {
      const [err, value] = replies[i] ?? [null, null];
      if (err) throw err;
      const [failures, openUntil] = (value as Array<string | null> | null) ?? [null, null];
      out[endpoint] = breakerState(Number(failures ?? 0), Number(openUntil ?? 0), this.settings.failureThreshold, now);
    });
    return out;
  }
}
