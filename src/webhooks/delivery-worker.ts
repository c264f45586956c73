/**
 * The delivery worker: one BullMQ Worker per configured endpoint on that endpoint's own queue, with
 * `maxInFlight` as its concurrency, so a slow, hanging or failing endpoint only ever occupies its own slots.
 * Invariant: a job delivers only when it is the head of its FIFO and the endpoint's breaker lets it through;
 * otherwise it waits (delayed, not an attempt). Every end of a delivery (delivered, dead-lettered, 410,
 * disabled) completes the job normally through the FIFO's finish step; nothing depends on a `failed` handler,
 * which would not run if the process died.
 */
import { logRedisFailure } from '../store/redis.js';
import { DelayedError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { DEFAULTS } from '../config/schema.js';
import { messageOf } from '../errors.js';
import { closeWorker } from '../shared/bullmq.js';
import { countsTowardBreaker, failingGapMs, type EndpointBreakers } from './breaker.js';
import { newDeadId, type DeadLetter } from './dead-letters.js';
import { createDeliverer, type Deliverer, type DeliveryResult, type WebhookEndpoint } from './deliver.js';
import { DELIVERY_JOB, isJobData, type DeliveryFifo, type DeliveryJobData, type Finish } from './fifo.js';
import { NOOP_DELIVERY_OBSERVER, type DeliveryObserver } from './observer.js';
import type { RetryPolicy } from './retry-policy.js';

const SECOND = 1000;

/** Defaults, with units. */
export const DELIVERY_WORKER_DEFAULTS = {
  /** BullMQ's default; a crashed replica's in-flight deliveries restart after about this long. */
  lockDurationMs: 30 * SECOND,
  stalledIntervalMs: 30 * SECOND,
  /** BullMQ fails a job that stalls more often; generous so crash loops do not strand a delivery. */
  maxStalledCount: 20,
  /** A non-head job re-checks its turn after this, growing with its age up to `maxTurnWaitMs`. */
  minTurnWaitMs: 200,
  maxTurnWaitMs: 2 * SECOND,
  /** A head held by a half-open breaker re-checks at least this often, so it follows a successful probe soon. */
  maxHeldWaitMs: 1 * SECOND,
  /** Spread added to a held head's wait, so held heads do not all re-check in the same millisecond. */
  heldJitterMs: 250,
  /** How often failed jobs (stalled too often, Redis errors on the last attempt) are dead-lettered. */
  sweepIntervalMs: 60 * SECOND,
} as const;

/** Per replica, each endpoint's share of `delivery.concurrency` unless it sets `maxInFlight` (idle shares are not lent). */
export function maxInFlightFor(endpoint: Pick<WebhookEndpoint, 'maxInFlight'>, concurrency: number, endpointCount: number): number {
  return endpoint.maxInFlight ?? Math.max(1, Math.floor(concurrency / Math.max(1, endpointCount)));
}

export interface DeliveryWorkersOptions {
  /** BullMQ connection (options, or an ioredis instance created with `maxRetriesPerRequest: null`). */
  connection: ConnectionOptions;
  endpoints: readonly WebhookEndpoint[];
  fifo: DeliveryFifo;
  policy: RetryPolicy;
  breakers: EndpointBreakers;
  /** `delivery.concurrency`, shared out as each endpoint's default `maxInFlight`. */
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

export class DeliveryWorkers {
  readonly workers: ReadonlyMap<string, Worker<DeliveryJobData, DeliveryJobResult>>;
  readonly #options: DeliveryWorkersOptions;
  readonly #deliverer: Deliverer;
  readonly #ownsDeliverer: boolean;
  readonly #observer: DeliveryObserver;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(options: DeliveryWorkersOptions) {
    this.#options = options;
    const { connection, logger, fifo, policy, endpoints } = options;
    this.#deliverer = options.deliverer ?? createDeliverer();
    this.#ownsDeliverer = options.deliverer === undefined;
    this.#observer = options.observer ?? NOOP_DELIVERY_OBSERVER;
    const workers = new Map<string, Worker<DeliveryJobData, DeliveryJobResult>>();
    for (const endpoint of endpoints) {
      const queue = fifo.queueFor(endpoint.name);
      const worker = new Worker<DeliveryJobData, DeliveryJobResult>(queue.name, (job, token) => this.#process(endpoint, job, token), {
        connection,
        prefix: queue.opts.prefix ?? '',
        concurrency: maxInFlightFor(endpoint, options.concurrency, endpoints.length),
        autorun: false,
        lockDuration: options.lockDurationMs ?? DELIVERY_WORKER_DEFAULTS.lockDurationMs,
        stalledInterval: options.stalledIntervalMs ?? DELIVERY_WORKER_DEFAULTS.stalledIntervalMs,
        maxStalledCount: options.maxStalledCount ?? DELIVERY_WORKER_DEFAULTS.maxStalledCount,
        settings: {
          backoffStrategy: (attemptsMade, _type, err) => policy.delayMs(endpoint.name, attemptsMade, err instanceof DeliveryRetryError ? err.retryAfterMs : null),
        },
      });
      worker.on('error', (err) => logRedisFailure(logger, err, { endpoint: endpoint.name }, 'webhook worker error'));
      workers.set(endpoint.name, worker);
    }
    this.workers = workers;
  }

  start(): void {
    for (const worker of this.workers.values()) void worker.run();
    const interval = this.#options.sweepIntervalMs ?? DELIVERY_WORKER_DEFAULTS.sweepIntervalMs;
    const sweep = (): void => {
      this.#sweeping = this.sweepFailed()
        .then(() => undefined)
        .catch((err: unknown) => logRedisFailure(this.#options.logger, err, {}, 'sweeping failed webhook jobs failed'));
    };
    sweep();
    this.#sweepTimer = setInterval(sweep, interval);
    this.#sweepTimer.unref();
  }

  async close(timeoutMs: number): Promise<void> {
    clearInterval(this.#sweepTimer);
    await this.#sweeping;
    await Promise.all([...this.workers.values()].map((w) => closeWorker(w, timeoutMs, this.#options.logger)));
    if (this.#ownsDeliverer) this.#deliverer.close();
  }

  /**
   * Dead-letters deliveries whose job ended in BullMQ's failed set (stalled more than `maxStalledCount`
   * times, or Redis failing during the last attempt), so their FIFO moves on. Returns how many.
   */
  async sweepFailed(limit = 100): Promise<number> {
    let swept = 0;
    for (const name of this.workers.keys()) {
      const jobs = await this.#options.fifo.queueFor(name).getFailed(0, limit - 1);
      for (const job of jobs) {
        if (job.name !== DELIVERY_JOB || !isJobData(job.data)) continue;
        const position = await this.#options.fifo.position(job.data, 0);
        if (position.kind === 'head' || position.kind === 'held') {
          const next = position.kind === 'head' ? position.next : null;
          await this.#finish(job.data, next, { dead: this.#deadLetter(job.data, `job failed: ${job.failedReason}`, null, job.attemptsMade) });
          this.#observer.attempt(job.data.endpoint, 'dead_lettered', 0);
          swept += 1;
        } else if (position.kind === 'waiting') {
          // Not its turn yet: back to waiting, or advancing would later find its id taken and add nothing.
          await job.retry('failed');
          continue;
        }
        await job.remove();
      }
    }
    if (swept > 0) this.#options.logger.warn({ swept }, 'dead-lettered webhook jobs BullMQ had failed');
    return swept;
  }

  async #process(endpoint: WebhookEndpoint, job: Job<DeliveryJobData, DeliveryJobResult>, token: string | undefined): Promise<DeliveryJobResult> {
    const { fifo, breakers, policy, logger } = this.#options;
    const data = job.data;
    const timeoutMs = endpoint.timeoutMs ?? DEFAULTS.webhookTimeoutMs;
    const position = await fifo.position(data, timeoutMs + breakers.settings.probeGraceMs);
    if (position.kind === 'done') {
      // A stalled re-run after this delivery finished: make sure the FIFO's current head is not left without a job.
      if (position.head !== null) await fifo.ensureJob(data.endpoint, position.head);
      return { outcome: 'stale' };
    }
    if (position.kind === 'waiting' || position.kind === 'held') {
      const age = Date.now() - job.timestamp;
      const wait =
        position.kind === 'waiting'
          ? Math.min(DELIVERY_WORKER_DEFAULTS.maxTurnWaitMs, Math.max(DELIVERY_WORKER_DEFAULTS.minTurnWaitMs, Math.round(age / 5)))
          : (position.breaker === 1 ? Math.min(position.waitMs, DELIVERY_WORKER_DEFAULTS.maxHeldWaitMs) : position.waitMs) + Math.round(Math.random() * DELIVERY_WORKER_DEFAULTS.heldJitterMs);
      await job.moveToDelayed(Date.now() + wait, token);
      throw new DelayedError(); // not an attempt
    }

    const { next } = position;
    if (position.disabled) return this.#deadLetterWithoutAttempt(data, next, 'endpoint disabled');

    let result: DeliveryResult;
    try {
      result = await this.#deliverer.deliver(endpoint, data.eventId, data.body);
    } catch (err) {
      // Only an invalid endpoint throws (config is validated at start, so this is rare): count it as an attempt.
      result = { outcome: 'retry', statusCode: null, error: messageOf(err), retryAfterMs: null, durationMs: 0, responseBody: '' };
    }
    const seconds = result.durationMs / 1000;
    const attempts = job.attemptsMade + 1;
    const log = { endpoint: data.endpoint, eventId: data.eventId, type: data.type, attempt: attempts, statusCode: result.statusCode, ms: result.durationMs, probe: position.breaker === 1 };

    if (result.outcome === 'delivered') {
      this.#observer.attempt(data.endpoint, 'delivered', seconds);
      await this.#finish(data, next, { delivered: true });
      if (position.breaker === 1) logger.info(log, 'webhook endpoint answered the half-open probe: circuit breaker closed');
      else logger.debug(log, 'webhook delivered');
      return { outcome: 'delivered', statusCode: result.statusCode };
    }
    if (result.outcome === 'gone') {
      this.#observer.attempt(data.endpoint, 'gone', seconds);
      const error = result.error ?? 'HTTP 410';
      const disable = { reason: `${error} (Gone)`, statusCode: result.statusCode, eventId: data.eventId, disabledAt: new Date().toISOString() };
      await this.#finish(data, next, { dead: this.#deadLetter(data, error, result.statusCode, attempts), disable });
      logger.error(log, 'webhook endpoint answered 410 Gone: endpoint disabled, its deliveries are dead-lettered until a replay re-enables it');
      return { outcome: 'dead_lettered', statusCode: result.statusCode, error };
    }

    const error = result.error ?? 'delivery failed';
    const disableAfterSeconds = endpoint.disableAfterSeconds ?? DEFAULTS.disableAfterSeconds;
    const failure = await breakers.recordFailure(data.endpoint, countsTowardBreaker(result), disableAfterSeconds, failingGapMs(policy.scheduleFor(data.endpoint)), {
      reason: `failing without a success for ${disableAfterSeconds} s (last: ${error})`,
      statusCode: result.statusCode,
      eventId: data.eventId,
      disabledAt: new Date().toISOString(),
    });
    if (failure.state === 2) logger.warn({ ...log, err: error }, `webhook endpoint circuit breaker open: its deliveries wait ${breakers.settings.openMs} ms, then one probe`);
    if (failure.disabled) {
      this.#observer.attempt(data.endpoint, 'dead_lettered', seconds);
      await this.#finish(data, next, { dead: this.#deadLetter(data, error, result.statusCode, attempts) });
      logger.error({ ...log, err: error, failingMs: failure.failingMs }, 'webhook endpoint disabled after failing for disableAfterSeconds: its deliveries are dead-lettered until a replay re-enables it');
      return { outcome: 'dead_lettered', statusCode: result.statusCode, error };
    }
    if (attempts < (job.opts.attempts ?? policy.attemptsFor(data.endpoint))) {
      this.#observer.attempt(data.endpoint, 'retry', seconds);
      logger.info({ ...log, err: error }, 'webhook delivery failed; will retry');
      throw new DeliveryRetryError(result);
    }
    this.#observer.attempt(data.endpoint, 'dead_lettered', seconds);
    await this.#finish(data, next, { dead: this.#deadLetter(data, error, result.statusCode, attempts) });
    logger.warn({ ...log, err: error }, 'webhook delivery dead-lettered after its last attempt');
    return { outcome: 'dead_lettered', statusCode: result.statusCode, error };
  }

  async #deadLetterWithoutAttempt(data: DeliveryJobData, next: string | null, error: string): Promise<DeliveryJobResult> {
    this.#observer.attempt(data.endpoint, 'dead_lettered', 0);
    await this.#finish(data, next, { dead: this.#deadLetter(data, error, null, 0) });
    this.#options.logger.warn({ endpoint: data.endpoint, eventId: data.eventId, type: data.type, err: error }, 'webhook delivery dead-lettered');
    return { outcome: 'dead_lettered', statusCode: null, error };
  }

  /** The FIFO's finish step; reports dead letters the cap dropped (the only place anything is dropped). */
  async #finish(data: DeliveryJobData, next: string | null, finish: Finish): Promise<void> {
    const dropped = await this.#options.fifo.finish(data, next, finish);
    if (dropped > 0) {
      this.#observer.deadLettersDropped(data.endpoint, dropped);
      this.#options.logger.error({ endpoint: data.endpoint, dropped }, 'dead-letter cap (delivery.maxDeadLetters) reached: the oldest dead letters were dropped');
    }
  }

  #deadLetter(data: DeliveryJobData, error: string, statusCode: number | null, attempts: number): DeadLetter {
    return {
      deadId: newDeadId(),
      eventId: data.eventId,
      endpoint: data.endpoint,
      lipsyncId: data.lipsyncId,
      type: data.type,
      event: data.body,
      error,
      statusCode,
      attempts,
      deadAt: new Date().toISOString(),
    };
  }
}
