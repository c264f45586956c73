import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.js';
import { runScript } from '../store/scripts.js';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from './backoff.js';
import type { WebhookEndpoint } from './deliver.js';

/** BullMQ job name of one delivery. */
export const DELIVERY_JOB = 'deliver';
/** Name of the custom backoff strategy the delivery worker registers. */
export const DELIVERY_BACKOFF = 'webhook';
/** How long the "already handed off" marker outlives the hand-off: longer than any stream redelivery. */
export const HANDED_OFF_TTL_SECONDS = 7 * 24 * 3600;
/** Failed jobs kept for inspection (only stalls or Redis errors end there; the sweeper dead-letters them). */
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 10_000 };

/** What one delivery carries; the FIFO element and the job data both hold it. */
export interface DeliveryPayload {
  /** Event id: the `webhook-id`, also for replays and duplicates. */
  eventId: string;
  type: string;
  lipsyncId: string;
  /** The event JSON exactly as appended to the stream: the signed body. */
  body: string;
}

export interface DeliveryJobData extends DeliveryPayload {
  endpoint: string;
  /**
   * Identifies this delivery in its FIFO: the event id for the first hand-off, `<event id>.r<dead letter id>`
   * for a replay, so a replay never collides with the original's job id or hand-off marker.
   */
  token: string;
}

/**
 * BullMQ job id. SPEC says `{event id}:{endpoint}`, but BullMQ rejects `:` in custom ids, so `__` joins them;
 * the first `__` is the separator because tokens (`evt_<hex>`, `evt_<hex>.r<id>`) never contain one.
 */
export function deliveryJobId(token: string, endpoint: string): string {
  return `${token}__${endpoint}`;
}

/** The token of a replayed dead letter. */
export function replayToken(eventId: string, deadId: string): string {
  return `${eventId}.r${deadId}`;
}

/**
 * FIFO elements are `<token> <payload json>`: the body must live somewhere after the stream entry is deleted,
 * and keeping it in the element lets advancing build the next job from the list alone. Tokens have no spaces.
 */
export function encodeElement(token: string, payload: DeliveryPayload): string {
  return `${token} ${JSON.stringify(payload)}`;
}

export function decodeElement(element: string): { token: string; payload: DeliveryPayload } {
  const space = element.indexOf(' ');
  if (space <= 0) throw new Error('malformed delivery fifo element: no token');
  const parsed: unknown = JSON.parse(element.slice(space + 1));
  if (!isPayload(parsed)) throw new Error('malformed delivery fifo element: payload fields missing');
  return { token: element.slice(0, space), payload: parsed };
}

function isPayload(value: unknown): value is DeliveryPayload {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['eventId'] === 'string' && typeof v['type'] === 'string' && typeof v['lipsyncId'] === 'string' && typeof v['body'] === 'string';
}

export interface HandoffResult {
  /** False when this token had been handed off before (stream redelivery, concurrent replay). */
  pushed: boolean;
  /** The token is first in its FIFO: it has (now) a job. */
  head: boolean;
}

/**
 * The ordered hand-off shared by the dispatcher, the worker (advancing) and replay: one FIFO per
 * (endpoint, lipsync), and only its head has a BullMQ job, so deliveries for one lipsync leave in order
 * while other lipsyncs go on in parallel.
 */
export class DeliveryHandoff {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #queue: Queue<DeliveryJobData>;
  readonly #endpoints: ReadonlyMap<string, WebhookEndpoint>;
  readonly #defaultSchedule: readonly number[];

  constructor(options: { redis: Redis; keys: Keys; queue: Queue<DeliveryJobData>; endpoints: readonly WebhookEndpoint[]; retryScheduleSeconds?: readonly number[] }) {
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#queue = options.queue;
    this.#endpoints = new Map(options.endpoints.map((e) => [e.name, e]));
    this.#defaultSchedule = options.retryScheduleSeconds ?? DEFAULT_RETRY_SCHEDULE_SECONDS;
  }

  /** Attempts for one delivery: the endpoint's `maxAttempts`, else one more than the retry schedule. */
  attemptsFor(endpoint: string): number {
    return this.#endpoints.get(endpoint)?.maxAttempts ?? this.scheduleFor(endpoint).length + 1;
  }

  /** Retry delays for one endpoint: its own `retryScheduleSeconds`, else `delivery.retryScheduleSeconds`. */
  scheduleFor(endpoint: string): readonly number[] {
    return this.#endpoints.get(endpoint)?.retryScheduleSeconds ?? this.#defaultSchedule;
  }


  /** Appends the delivery to its FIFO once (per token) and adds the job if it is the head. */
  async handOff(endpoint: string, token: string, payload: DeliveryPayload): Promise<HandoffResult> {
    const reply = await runScript(
      this.#redis,
      'deliveryHandoff',
      [this.#keys.deliveryHandedOff(endpoint, token), this.#keys.deliveryFifo(endpoint, payload.lipsyncId)],
      [token, encodeElement(token, payload), HANDED_OFF_TTL_SECONDS],
    );
    const [pushed, head] = reply as [number, number];
    if (head === 1) await this.addJob(endpoint, token, payload);
    return { pushed: pushed === 1, head: head === 1 };
  }

  /** Adds the job of a FIFO element; a no-op when a job with its id exists (BullMQ ignores the duplicate). */
  async ensureJob(endpoint: string, element: string): Promise<string> {
    const { token, payload } = decodeElement(element);
    await this.addJob(endpoint, token, payload);
    return deliveryJobId(token, endpoint);
  }

  /**
   * Runs a delayed job (a former non-head waiting for its turn) now; best effort. Addressed by id without
   * fetching the job first: one round trip instead of three on every ordered delivery.
   */
  async promote(jobId: string): Promise<void> {
    try {
      await new Job(this.#queue, DELIVERY_JOB, {}, {}, jobId).promote();
    } catch {
      // Not delayed (already waiting or active, or promoted by another replica): nothing to do.
    }
  }

  async addJob(endpoint: string, token: string, payload: DeliveryPayload): Promise<void> {
    const opts: JobsOptions = {
      jobId: deliveryJobId(token, endpoint),
      attempts: this.attemptsFor(endpoint),
      backoff: { type: DELIVERY_BACKOFF },
      // Removed on completion so a replay (new token) or re-hand-off never meets a kept job with the same id.
      removeOnComplete: true,
      removeOnFail: KEEP_FAILED,
    };
    await this.#queue.add(DELIVERY_JOB, { ...payload, endpoint, token }, opts);
  }
}
