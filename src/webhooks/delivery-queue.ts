import { DelayedError, Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../store/keys.js';
import { runScript } from '../store/scripts.js';
import { closeWorker } from '../shared/bullmq.js';
import { nextDelayMs } from './backoff.js';
import { newDeadId, type DeadLetter, type DisabledEndpoint } from './dead-letters.js';
import { createDeliverer, type Deliverer, type DeliveryResult, type WebhookEndpoint } from './deliver.js';
import { DELIVERY_JOB, DeliveryHandoff, deliveryJobId, decodeElement, type DeliveryJobData } from './handoff.js';
import { NOOP_DELIVERY_OBSERVER, type DeliveryObserver } from './observer.js';

const SECOND = 1000;

/** Defaults, with units. */
export const DELIVERY_QUEUE_DEFAULTS = {
  /** BullMQ's default; a crashed replica's in-flight deliveries restart after about this long. */
  lockDurationMs: 30 * SECOND,
  stalledIntervalMs: 30 * SECOND,
  /** BullMQ fails a job that stalls more often; generous so crash loops do not strand a delivery. */
  maxStalledCount: 20,
  /** A non-head job re-checks its turn after this, growing with its age up to `maxTurnWaitMs`. */
  minTurnWaitMs: 200,
  maxTurnWaitMs: 2 * SECOND,
  /** How often failed jobs (stalled too often, Redis errors on the last attempt) are dead-lettered. */
  sweepIntervalMs: 60 * SECOND,
} as const;

export interface DeliveryQueueOptions {
  /** BullMQ connection (options, or an ioredis instance created with `maxRetriesPerRequest: null`). */
  connection: ConnectionOptions;
  /** Commands and Lua scripts. */
  redis: Redis;
  keys: Keys;
  endpoints: readonly WebhookEndpoint[];
  retryScheduleSeconds: readonly number[];
  concurrency: number;
  logger: Logger;
  observer?: DeliveryObserver;
  /** Default: createDeliverer(); closed by close() only when created here. */
  deliverer?: Deliverer;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  sweepIntervalMs?: number;
}

/** What a delivery job returns (kept in the completed event; the job itself is removed). */
export interface DeliveryJobResult {
  outcome: 'delivered' | 'dead_lettered' | 'stale';
  statusCode?: number | null;
  error?: string;
}

/** Carries `Retry-After` to the backoff strategy. */
export class DeliveryRetryError extends Error {
  override readonly name = 'DeliveryRetryError';
  readonly retryAfterMs: number | null;
  readonly statusCode: number | null;

  constructor(result: Pick<DeliveryResult, 'error' | 'retryAfterMs' | 'statusCode'>) {
    super(result.error ?? 'delivery failed');
    this.retryAfterMs = result.retryAfterMs;
    this.statusCode = result.statusCode;
  }
}

interface Finish {
  dead?: { error: string; statusCode: number | null; attempts: number };
  disable?: DisabledEndpoint;
}

/**
 * The `{prefix}-webhooks` queue: one job per (event, endpoint), but only for the head of its
 * (endpoint, lipsync) FIFO. A job delivers, then "advances": enqueues the next element's job and pops itself.
 * Every end of a delivery (delivered, dead-lettered, 410) completes the job normally; nothing depends on a
 * `failed` handler, which would not run if the process died.
 */
export class DeliveryQueue {
  readonly queue: Queue<DeliveryJobData>;
  readonly worker: Worker<DeliveryJobData, DeliveryJobResult>;
  readonly handoff: DeliveryHandoff;
  readonly #options: DeliveryQueueOptions;
  readonly #endpoints: ReadonlyMap<string, WebhookEndpoint>;
  readonly #deliverer: Deliverer;
  readonly #ownsDeliverer: boolean;
  readonly #observer: DeliveryObserver;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(options: DeliveryQueueOptions) {
    this.#options = options;
    const { keys, connection, logger } = options;
    this.#endpoints = new Map(options.endpoints.map((e) => [e.name, e]));
    this.#deliverer = options.deliverer ?? createDeliverer();
    this.#ownsDeliverer = options.deliverer === undefined;
    this.#observer = options.observer ?? NOOP_DELIVERY_OBSERVER;
    this.queue = new Queue<DeliveryJobData>(keys.webhookQueue, { connection, prefix: keys.bullPrefix });
    this.queue.on('error', (err) => logger.debug({ err }, 'webhook queue redis error'));
    this.handoff = new DeliveryHandoff({ redis: options.redis, keys, queue: this.queue, endpoints: options.endpoints, retryScheduleSeconds: options.retryScheduleSeconds });
    this.worker = new Worker<DeliveryJobData, DeliveryJobResult>(keys.webhookQueue, (job, token) => this.#process(job, token), {
      connection,
      prefix: keys.bullPrefix,
      concurrency: options.concurrency,
      autorun: false,
      lockDuration: options.lockDurationMs ?? DELIVERY_QUEUE_DEFAULTS.lockDurationMs,
      stalledInterval: options.stalledIntervalMs ?? DELIVERY_QUEUE_DEFAULTS.stalledIntervalMs,
      maxStalledCount: options.maxStalledCount ?? DELIVERY_QUEUE_DEFAULTS.maxStalledCount,
      settings: {
        backoffStrategy: (attemptsMade, _type, err, job) =>
          nextDelayMs(attemptsMade, this.handoff.scheduleFor(isJobData(job?.data) ? job.data.endpoint : ''), err instanceof DeliveryRetryError ? err.retryAfterMs : null),
      },
    });
    this.worker.on('error', (err) => logger.error({ err }, 'webhook worker error'));
  }

  start(): void {
    void this.worker.run();
    const interval = this.#options.sweepIntervalMs ?? DELIVERY_QUEUE_DEFAULTS.sweepIntervalMs;
    const sweep = (): void => {
      this.#sweeping = this.sweepFailed()
        .then(() => undefined)
        .catch((err: unknown) => this.#options.logger.error({ err: errorMessage(err) }, 'sweeping failed webhook jobs failed'));
    };
    sweep();
    this.#sweepTimer = setInterval(sweep, interval);
    this.#sweepTimer.unref();
  }

  async close(timeoutMs: number): Promise<void> {
    clearInterval(this.#sweepTimer);
    await this.#sweeping;
    await closeWorker(this.worker, timeoutMs, this.#options.logger);
    await this.queue.close();
    if (this.#ownsDeliverer) this.#deliverer.close();
  }

  /**
   * Dead-letters deliveries whose job ended in BullMQ's failed set (stalled more than `maxStalledCount`
   * times, or Redis failing during the last attempt), so their FIFO moves on. Returns how many.
   */
  async sweepFailed(limit = 100): Promise<number> {
    const jobs = await this.queue.getFailed(0, limit - 1);
    let swept = 0;
    for (const job of jobs) {
      if (job.name !== DELIVERY_JOB || !isJobData(job.data)) continue;
      const position = await this.#position(job.data);
      if (position.kind === 'head') {
        await this.#advance(job.data, position.next, { dead: { error: `job failed: ${job.failedReason}`, statusCode: null, attempts: job.attemptsMade } });
        this.#observer.attempt(job.data.endpoint, 'dead_lettered', 0);
        swept += 1;
      } else if (position.kind === 'waiting') {
        // Not its turn yet: back to waiting, or advancing would later find its id taken and add nothing.
        await job.retry('failed');
        continue;
      }
      await job.remove();
    }
    if (swept > 0) this.#options.logger.warn({ swept }, 'dead-lettered webhook jobs BullMQ had failed');
    return swept;
  }

  async #process(job: Job<DeliveryJobData, DeliveryJobResult>, token: string | undefined): Promise<DeliveryJobResult> {
    const data = job.data;
    const position = await this.#position(data);
    if (position.kind === 'done') {
      // A stalled re-run after this delivery finished: make sure the FIFO's current head is not left without a job.
      if (position.head !== null) await this.handoff.ensureJob(data.endpoint, position.head);
      return { outcome: 'stale' };
    }
    if (position.kind === 'waiting') {
      const age = Date.now() - job.timestamp;
      const wait = Math.min(DELIVERY_QUEUE_DEFAULTS.maxTurnWaitMs, Math.max(DELIVERY_QUEUE_DEFAULTS.minTurnWaitMs, Math.round(age / 5)));
      await job.moveToDelayed(Date.now() + wait, token);
      throw new DelayedError(); // not an attempt
    }

    const { logger } = this.#options;
    const endpoint = this.#endpoints.get(data.endpoint);
    const { next } = position;
    if (endpoint === undefined) return this.#deadLetterWithoutAttempt(data, next, 'endpoint removed');
    if (position.disabled) return this.#deadLetterWithoutAttempt(data, next, 'endpoint disabled');

    let result: DeliveryResult;
    try {
      result = await this.#deliverer.deliver(endpoint, data.eventId, data.body);
    } catch (err) {
      // Only an invalid endpoint throws (config is validated at start, so this is rare): count it as an attempt.
      result = { outcome: 'retry', statusCode: null, error: errorMessage(err), retryAfterMs: null, durationMs: 0, responseBody: '' };
    }
    const seconds = result.durationMs / 1000;
    const attempts = job.attemptsMade + 1;
    const log = { endpoint: data.endpoint, eventId: data.eventId, type: data.type, attempt: attempts, statusCode: result.statusCode, ms: result.durationMs };

    if (result.outcome === 'delivered') {
      this.#observer.attempt(data.endpoint, 'delivered', seconds);
      await this.#advance(data, next, {});
      logger.debug(log, 'webhook delivered');
      return { outcome: 'delivered', statusCode: result.statusCode };
    }
    if (result.outcome === 'gone') {
      this.#observer.attempt(data.endpoint, 'gone', seconds);
      const error = result.error ?? 'HTTP 410';
      const disable: DisabledEndpoint = { reason: `${error} (Gone)`, statusCode: result.statusCode, eventId: data.eventId, disabledAt: new Date().toISOString() };
      await this.#advance(data, next, { dead: { error, statusCode: result.statusCode, attempts }, disable });
      logger.error(log, 'webhook endpoint answered 410 Gone: endpoint disabled, its deliveries are dead-lettered until a replay re-enables it');
      return { outcome: 'dead_lettered', statusCode: result.statusCode, error };
    }
    const error = result.error ?? 'delivery failed';
    if (attempts < (job.opts.attempts ?? 1)) {
      this.#observer.attempt(data.endpoint, 'retry', seconds);
      logger.info({ ...log, err: error }, 'webhook delivery failed; will retry');
      throw new DeliveryRetryError(result);
    }
    this.#observer.attempt(data.endpoint, 'dead_lettered', seconds);
    await this.#advance(data, next, { dead: { error, statusCode: result.statusCode, attempts } });
    logger.warn({ ...log, err: error }, 'webhook delivery dead-lettered after its last attempt');
    return { outcome: 'dead_lettered', statusCode: result.statusCode, error };
  }

  async #deadLetterWithoutAttempt(data: DeliveryJobData, next: string | null, error: string): Promise<DeliveryJobResult> {
    this.#observer.attempt(data.endpoint, 'dead_lettered', 0);
    await this.#advance(data, next, { dead: { error, statusCode: null, attempts: 0 } });
    this.#options.logger.warn({ endpoint: data.endpoint, eventId: data.eventId, type: data.type, err: error }, 'webhook delivery dead-lettered');
    return { outcome: 'dead_lettered', statusCode: null, error };
  }

  async #position(data: DeliveryJobData): Promise<Position> {
    const { redis, keys } = this.#options;
    const reply = (await runScript(redis, 'deliveryPosition', [this.#fifo(data), keys.disabledEndpoints], [data.token, data.endpoint])) as [string, (string | number | null)?, (string | null)?];
    const kind = reply[0];
    if (kind === 'head') return { kind, disabled: reply[1] === 1, next: reply[2] ?? null };
    if (kind === 'waiting') return { kind };
    return { kind: 'done', head: typeof reply[1] === 'string' ? reply[1] : null };
  }

  /**
   * Enqueue the next element's job first, then pop (with the dead letter / disable in the same Lua step):
   * a crash in between re-runs this job as stalled, and the next job just waits because it is not head yet.
   */
  async #advance(data: DeliveryJobData, next: string | null, finish: Finish): Promise<void> {
    const { redis, keys } = this.#options;
    const fifo = this.#fifo(data);
    // `next` was read with the head check; one appended since then is handled after the pop below.
    if (next !== null) await this.handoff.ensureJob(data.endpoint, next);
    const dead: DeadLetter | null =
      finish.dead === undefined
        ? null
        : {
            deadId: newDeadId(),
            eventId: data.eventId,
            endpoint: data.endpoint,
            lipsyncId: data.lipsyncId,
            type: data.type,
            event: data.body,
            error: finish.dead.error,
            statusCode: finish.dead.statusCode,
            attempts: finish.dead.attempts,
            deadAt: new Date().toISOString(),
          };
    const reply = (await runScript(
      redis,
      'deliveryFinish',
      [fifo, keys.deadLetters(data.endpoint), keys.deadLetterEndpoints, keys.disabledEndpoints],
      [data.token, data.endpoint, dead === null ? '' : JSON.stringify(dead), finish.disable === undefined ? '' : JSON.stringify(finish.disable)],
    )) as [number, string?];
    const head = reply[1];
    if (reply[0] !== 1 || head === undefined) return;
    // An element pushed between LINDEX 1 and the pop was not head when handed off, so it has no job yet.
    const headJobId = head === next ? deliveryJobId(decodeElement(head).token, data.endpoint) : await this.handoff.ensureJob(data.endpoint, head);
    // The next job most likely checked its turn before the pop and is parked for a moment: run it now.
    await this.handoff.promote(headJobId);
  }

  #fifo(data: DeliveryJobData): string {
    return this.#options.keys.deliveryFifo(data.endpoint, data.lipsyncId);
  }
}

/** Where a delivery stands in its FIFO; the head also learns what its delivery needs next. */
type Position = { kind: 'head'; disabled: boolean; next: string | null } | { kind: 'waiting' } | { kind: 'done'; head: string | null };

function isJobData(value: unknown): value is DeliveryJobData {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['endpoint', 'token', 'eventId', 'type', 'lipsyncId', 'body'].every((k) => typeof v[k] === 'string');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
