/**
 * The Creatify request rate (`creatify.maxRequestsPerSecond`), shared by every replica and partition through
 * one key (rateGate.lua): a poll job reserves the next request slot and waits for it while it holds its job.
 * It replaced BullMQ's queue limiter, whose admission checks cost ~14 Redis commands per 100-id batch (turned-away
 * fetches included; a reservation is 4), and which is per queue, so P partitions would have had P rates.
 */
import type { Redis } from '../store/redis.js';
import { runScript } from '../store/scripts.js';

/**
 * Slots are 5 % further apart than 1000 / rate ms. An upstream that counts a sliding second (Creatify's 429s and
 * the simulator's do) sees rate + 1 requests in one second as soon as the first of them left a few ms late
 * and the last on time; exact spacing drew dozens of 429s per 100,000-id cycle, each pausing the schedule for
 * its Retry-After. The slack gives any request 50 ms of lateness.
 */
const SPACING_SLACK = 1.05;

/** ms between two request slots for a rate. Below 1/s the spacing stretches rather than rounding the rate up. */
export function slotSpacingMs(requestsPerSecond: number): number {
  return Math.ceil((SPACING_SLACK * 1000) / requestsPerSecond);
}

export type Reservation = { kind: 'reserved'; waitMs: number } | { kind: 'full'; retryInMs: number };

export class RateGate {
  readonly #intervalMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    requestsPerSecond: number,
    /** The longest a caller waits for a slot while holding its job (below the job lock's renewal period). */
    private readonly maxWaitMs: number,
  ) {
    this.#intervalMs = slotSpacingMs(requestsPerSecond);
  }

  /** Reserves the next request slot: wait `waitMs`, then send one request. `full`: back off, nothing reserved. */
  async reserve(): Promise<Reservation> {
    const wait = Number(await runScript(this.redis, 'rateGate', [this.key], [this.#intervalMs, this.maxWaitMs, 0]));
    return wait < 0 ? { kind: 'full', retryInMs: -wait } : { kind: 'reserved', waitMs: wait };
  }

  /** Upstream said 429: no slot for anyone, in any replica or partition, for `ms`. */
  async holdOff(ms: number): Promise<void> {
    await runScript(this.redis, 'rateGate', [this.key], [this.#intervalMs, this.maxWaitMs, Math.max(1, Math.ceil(ms))]);
  }
}
