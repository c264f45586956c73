/**
 * The per-(endpoint, lipsync) delivery FIFO and every Lua step on it (deliveryHandoff, deliveryPosition,
 * deliveryFinish). Invariants: elements leave a FIFO only from its head, one delivery at a time, so one
 * lipsync's events reach an endpoint in the order they were handed off; the head always has a BullMQ job in
 * its endpoint's queue, and at most the element after it has one too (added just before the head is popped,
 * so a crash between the two cannot leave the new head without a job; until it is head, that job only waits).
 */
import { Job, Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys.js';
import { queueScript, runScript, scriptPipeline } from '../store/scripts.js';
import type { BreakerSettings } from './breaker.js';
import type { DeadLetter, DisabledEndpoint } from './dead-letters.js';
import type { RetryPolicy } from './retry-policy.js';

/** BullMQ job name of one delivery. */
export const DELIVERY_JOB = 'deliver';
/** Name of the custom backoff strategy the delivery worker registers. */
export const DELIVERY_BACKOFF = 'webhook';
/**
 * How long a parked mark (deliveryPosition.lua) lasts, ms. A parked job re-checks its turn at least every
 * DELIVERY_WORKER_DEFAULTS.maxTurnWaitMs and renews its mark then; this only bounds marks nobody clears.
 */
const PARKED_MARK_MS = 60_000;

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

/** The token of a FIFO element, without parsing its payload. */
export function tokenOf(element: string): string {
  const space = element.indexOf(' ');
  if (space <= 0) throw new Error('malformed delivery fifo element: no token');
  return element.slice(0, space);
}

function isPayload(value: unknown): value is DeliveryPayload {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['eventId'] === 'string' && typeof v['type'] === 'string' && typeof v['lipsyncId'] === 'string' && typeof v['body'] === 'string';
}

export function isJobData(value: unknown): value is DeliveryJobData {
  return isPayload(value) && typeof (value as unknown as Record<string, unknown>)['endpoint'] === 'string' && typeof (value as unknown as Record<string, unknown>)['token'] === 'string';
}

export interface HandoffResult {
  /** False when this token had been handed off before (stream redelivery, concurrent replay). */
  pushed: boolean;
  /** The token is first in its FIFO: it has (now) a job. */
  head: boolean;
}

/** One delivery for DeliveryFifo.handOffMany(). */
export interface HandoffItem {
  endpoint: string;
  token: string;
  payload: DeliveryPayload;
}

/**
 * Where a delivery stands in its FIFO. The head learns what its delivery needs next (disabled endpoint, the
 * next element, breaker state 0 closed / 1 this is the half-open probe); `held` is a head the open breaker
 * keeps waiting `waitMs`.
 */
export type Position =
  | { kind: 'head'; disabled: boolean; next: string | null; breaker: 0 | 1 }
  | { kind: 'held'; waitMs: number; breaker: 1 | 2 }
  | { kind: 'waiting' }
  | { kind: 'done'; head: string | null };

/** How a head delivery ended; recorded with its pop in one Lua step. */
export interface Finish {
  delivered?: boolean;
  dead?: DeadLetter;
  disable?: DisabledEndpoint;
}

export interface DeliveryFifoOptions {
  redis: Redis;
  /** BullMQ connection for the per-endpoint queues. */
  connection: ConnectionOptions;
  keys: Keys;
  policy: RetryPolicy;
  breaker: BreakerSettings;
  /** Per endpoint; the oldest dead letters past it are dropped. */
  maxDeadLetters: number;
  /** How long a hand-off marker lasts by default: as long as a reclaim can redeliver a stream entry (ms). */
  markerLifetimeMs: number;
}

/**
 * The ordered hand-off shared by the dispatcher, the delivery worker (advancing) and dead-letter replay.
 * Jobs go to the endpoint's own queue, `{prefix}-webhooks-<endpoint>`.
 */
export class DeliveryFifo {
  readonly #options: DeliveryFifoOptions;
  readonly #queues = new Map<string, Queue<DeliveryJobData>>();

  constructor(options: DeliveryFifoOptions) {
    this.#options = options;
  }

  /** The endpoint's delivery queue (made on first use; closed by close()). */
  queueFor(endpoint: string): Queue<DeliveryJobData> {
    let queue = this.#queues.get(endpoint);
    if (queue === undefined) {
      const { keys, connection } = this.#options;
      queue = new Queue<DeliveryJobData>(keys.webhookEndpointQueue(endpoint), { connection, prefix: keys.bullPrefix });
      // Connection trouble is reported by the shared connection's own listener; without one BullMQ would throw.
      queue.on('error', () => undefined);
      this.#queues.set(endpoint, queue);
    }
    return queue;
  }

  /** Queues opened so far (configured endpoints open theirs at start). */
  get queues(): Array<Queue<DeliveryJobData>> {
    return [...this.#queues.values()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }

  /** Appends the delivery to its FIFO once (per token, while its marker lasts) and adds the job if it is the head. */
  async handOff(endpoint: string, token: string, payload: DeliveryPayload, markerLifetimeMs = this.#options.markerLifetimeMs): Promise<HandoffResult> {
    const [result] = await this.handOffMany([{ endpoint, token, payload }], markerLifetimeMs);
    if (result === undefined || result instanceof Error) throw result ?? new Error('no hand-off result');
    return result;
  }

  /**
   * Hands many deliveries off in one round trip: their hand-off scripts go in one pipeline, then
   * the jobs of those that are head are added. For different FIFOs only (the calls do not wait for each other).
   * Each answer is the delivery's HandoffResult, or the error its hand-off (or its job) failed with.
   */
  async handOffMany(items: readonly HandoffItem[], markerLifetimeMs = this.#options.markerLifetimeMs): Promise<Array<HandoffResult | Error>> {
    if (items.length === 0) return [];
    const { redis, keys } = this.#options;
    const now = Date.now();
    const pipeline = scriptPipeline(redis);
    for (const { endpoint, token, payload } of items) {
      queueScript(pipeline, 'deliveryHandoff', [keys.deliveryHandedOff(endpoint), keys.deliveryFifo(endpoint, payload.lipsyncId), keys.deliveryQueued], [token, encodeElement(token, payload), now, markerLifetimeMs, endpoint]);
    }
    const replies = (await pipeline.exec()) ?? [];
    return Promise.all(
      items.map(async ({ endpoint, token, payload }, i): Promise<HandoffResult | Error> => {
        const [err, reply] = replies[i] ?? [new Error('no reply to a pipelined hand-off'), null];
        if (err) return err;
        const [pushed, head] = reply as [number, number];
        if (head === 1) {
          try {
            await this.addJob(endpoint, token, payload);
          } catch (addErr) {
            return addErr instanceof Error ? addErr : new Error(String(addErr));
          }
        }
        return { pushed: pushed === 1, head: head === 1 };
      }),
    );
  }

  /** Where `data` stands; a head also passes the endpoint's breaker here (and may take the probe lease). */
  async position(data: DeliveryJobData, probeLeaseMs: number, now = Date.now()): Promise<Position> {
    const { redis, keys, breaker } = this.#options;
    const reply = (await runScript(
      redis,
      'deliveryPosition',
      [keys.deliveryFifo(data.endpoint, data.lipsyncId), keys.disabledEndpoints, keys.endpointBreaker(data.endpoint), keys.deliveryParked(data.endpoint)],
      [data.token, data.endpoint, now, breaker.failureThreshold, probeLeaseMs, PARKED_MARK_MS],
    )) as [string, (string | number | null)?, (string | number | null)?, number?];
    const kind = reply[0];
    if (kind === 'head') return { kind, disabled: reply[1] === 1, next: typeof reply[2] === 'string' ? reply[2] : null, breaker: reply[3] === 1 ? 1 : 0 };
    if (kind === 'held') return { kind, waitMs: Number(reply[1]), breaker: reply[2] === 1 ? 1 : 2 };
    if (kind === 'waiting') return { kind };
    return { kind: 'done', head: typeof reply[1] === 'string' ? reply[1] : null };
  }

  /**
   * Enqueue the next element's job first, then pop (with the dead letter / disable / breaker close in the same
   * Lua step): a crash in between re-runs this job as stalled, and the next job just waits because it is not
   * head yet. Returns how many old dead letters the cap dropped.
   */
  async finish(data: DeliveryJobData, next: string | null, finish: Finish): Promise<number> {
    const { redis, keys, maxDeadLetters } = this.#options;
    // `next` was read with the head check; one appended since then is handled after the pop below.
    if (next !== null) await this.ensureJob(data.endpoint, next);
    const reply = (await runScript(
      redis,
      'deliveryFinish',
      [
        keys.deliveryFifo(data.endpoint, data.lipsyncId),
        keys.deadLetters(data.endpoint),
        keys.deadLetterEndpoints,
        keys.disabledEndpoints,
        keys.endpointBreaker(data.endpoint),
        keys.deliveryQueued,
        keys.deliveryParked(data.endpoint),
      ],
      [
        data.token,
        data.endpoint,
        finish.dead === undefined ? '' : JSON.stringify(finish.dead),
        finish.disable === undefined ? '' : JSON.stringify(finish.disable),
        finish.delivered === true ? '1' : '',
        maxDeadLetters,
      ],
    )) as [number, number, string?, number?];
    const [popped, dropped, head, parked] = reply;
    if (popped !== 1 || head === undefined) return dropped;
    // An element pushed between LINDEX 1 and the pop was not head when handed off, so it has no job yet.
    const headJobId = head === next ? deliveryJobId(tokenOf(head), data.endpoint) : await this.ensureJob(data.endpoint, head);
    // Its job checked its turn before the pop and was parked (delayed) for a moment: run it now. Otherwise it is
    // waiting or active already, and a promote would only fail: under load that is nearly every delivery, and a
    // failed promote costs a round trip and BullMQ's error object.
    if (parked === 1) await this.promote(data.endpoint, headJobId);
    return dropped;
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
  async promote(endpoint: string, jobId: string): Promise<void> {
    try {
      await new Job(this.queueFor(endpoint), DELIVERY_JOB, {}, {}, jobId).promote();
    } catch {
      // Not delayed (already waiting or active, or promoted by another replica): nothing to do.
    }
  }

  async addJob(endpoint: string, token: string, payload: DeliveryPayload): Promise<void> {
    const opts: JobsOptions = {
      jobId: deliveryJobId(token, endpoint),
      attempts: this.#options.policy.attemptsFor(endpoint),
      backoff: { type: DELIVERY_BACKOFF },
      // Removed on completion so a replay (new token) or re-hand-off never meets a kept job with the same id.
      removeOnComplete: true,
      removeOnFail: KEEP_FAILED,
    };
    await this.queueFor(endpoint).add(DELIVERY_JOB, { ...payload, endpoint, token }, opts);
  }
}
