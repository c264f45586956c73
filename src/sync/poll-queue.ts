import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { isLsyncError } from '../errors.js';
import { logRedisFailure } from '../store/redis.js';
import { sharedKeys, type Keys } from '../store/keys.js';
import type { TrackingStore } from '../store/tracking.js';
import { chunk } from '../shared/chunk.js';
import { closeWorker } from '../shared/bullmq.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { batchBudget, dueHorizon } from './cadence.js';
import { batchJobId, currentTickJob, finishBatch, outstandingBatches, startCycle, type DueSelection } from './cycle.js';
import { anyJobAlive } from './job-liveness.js';
import { pollBatch, type PollBatchDeps } from './poll-batch.js';
import { RateGate } from './rate-gate.js';

export const SCHEDULER_ID = 'poll-tick';
export const DISCOVERY_SCHEDULER_ID = 'discover-tick';
const BATCH_ATTEMPTS = 3;
const TICK_ATTEMPTS = 3;
/**
 * BullMQ lock on a running poll job, renewed every half of it by the live worker. A killed replica's lock
 * expires within this, and the next tick then sees its cycle dead: small enough that a crash delays the next
 * poll of an id by about interval + 5 s, large enough that a busy event loop does not miss a renewal.
 */
export const POLL_LOCK_MS = 5000;
/** Batch jobs asked about per round trip when a tick checks whether the running cycle is alive. */
const LIVENESS_CHUNK = 4;
/** 429s a batch job waits out (each holds every replica off for its Retry-After) before it spends an attempt. */
const RATE_LIMITED_RETRIES = 10;
/** Hold-offs longer than this are waited out in steps, re-reserving after each. */
const MAX_SLOT_WAIT_MS = POLL_LOCK_MS / 2;
/** Bounds one job's wait for a slot (at 2.5 s a step, about 40 minutes). */
const MAX_SLOT_STEPS = 1000;
/**
 * Jobs per addBulk call, and so ids per page of the pending-set read (× batch size): a tick over 100,000 ids holds
 * 5,000 ids and 50 job payloads at a time, never the whole set.
 */
const ENQUEUE_CHUNK = 50;

export interface PollQueueOptions {
  connection: ConnectionOptions;
  keys: Keys;
  intervalMs: number;
  batchSize: number;
  concurrency: number;
  maxRequestsPerSecond: number;
  deps: PollBatchDeps;
  store: TrackingStore;
  logger: Logger;
  /** The key of the request-rate gate; default `{prefix}:rate` (partitions pass the one they share). */
  rateGateKey?: string;
  /** Extra job handlers by name (e.g. discovery), run in the same queue, each in a request slot. */
  extraHandlers?: Record<string, (job: Job) => Promise<unknown>>;
}

/** `startedAt`: the cycle's start (ms), from which cadence counts the next due times. */
type BatchData = { ids: string[]; cycleId: string; startedAt?: number };

/**
 * The `{prefix}-poll` queue: one job scheduler ticks every interval (one tick per interval across all
 * replicas), a tick enqueues one job per batch, and each batch job sends its request in a slot of the rate
 * gate (sync/rate-gate.ts), which lives in Redis and so bounds Creatify requests across every replica.
 */
export class PollQueue {
  readonly queue: Queue;
  readonly worker: Worker;
  readonly #options: PollQueueOptions;
  readonly #gate: RateGate;

  constructor(options: PollQueueOptions) {
    this.#options = options;
    const { keys, connection } = options;
    this.#gate = new RateGate(options.deps.redis, options.rateGateKey ?? sharedKeys(keys.prefix).rate, options.maxRequestsPerSecond, MAX_SLOT_WAIT_MS);
    this.queue = new Queue(keys.pollQueue, { connection, prefix: keys.bullPrefix });
    // Without a listener BullMQ prints every reconnect error to the console; readiness reports the outage.
    this.queue.on('error', (err) => options.logger.debug({ err }, 'poll queue redis error'));
    this.worker = new Worker(keys.pollQueue, (job) => this.#process(job), {
      connection,
      prefix: keys.bullPrefix,
      concurrency: options.concurrency,
      lockDuration: POLL_LOCK_MS,
      // A dead replica's batch job is handed back (and so finished) soon after its lock expires.
      stalledInterval: POLL_LOCK_MS,
      autorun: false,
    });
    this.worker.on('failed', (job, err) => {
      options.logger.warn({ job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err }, 'poll job failed');
    });
    this.worker.on('error', (err) => logRedisFailure(options.logger, err, {}, 'poll worker error'));
  }

  /** Idempotent: every replica upserts the same scheduler id, so there is one tick per interval. */
  async schedule(): Promise<void> {
    if (this.#options.deps.cadence !== undefined) await this.#options.store.reconcileDue();
    await this.queue.upsertJobScheduler(SCHEDULER_ID, { every: this.#options.intervalMs }, { name: 'tick', data: {}, opts: { removeOnComplete: true, removeOnFail: 100, attempts: TICK_ATTEMPTS, backoff: { type: 'fixed', delay: 250 } } });
  }

  /** Discovery runs as its own scheduled job in this queue, so it shares the Creatify rate limit. */
  async scheduleDiscovery(everyMs: number): Promise<void> {
    await this.queue.upsertJobScheduler(DISCOVERY_SCHEDULER_ID, { every: everyMs }, { name: 'discover', data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } });
  }

  start(): void {
    void this.worker.run();
  }

  async close(timeoutMs: number): Promise<void> {
    await closeWorker(this.worker, timeoutMs, this.#options.logger);
    await this.queue.close();
  }

  async #process(job: Job): Promise<unknown> {
    if (job.name === 'tick') return this.#tick(job);
    if (job.name === 'batch') return this.#batch(job as Job<BatchData>);
    const handler = this.#options.extraHandlers?.[job.name];
    if (!handler) throw new Error(`unknown poll job ${job.name}`);
    // Every other job sends one Creatify request, in its slot.
    await this.#slot();
    return handler(job);
  }

  /**
   * Waits for this job's request slot. The job keeps its lock meanwhile (BullMQ renews it on a timer), so a
   * replica that dies while waiting has its job handed back like any other; one that is shutting down hands a
   * job still held off by a 429 back to waiting itself (no attempt spent) rather than sit out the Retry-After.
   */
  async #slot(): Promise<void> {
    for (let step = 0; step < MAX_SLOT_STEPS; step += 1) {
      const slot = await this.#gate.reserve();
      if (slot.kind === 'reserved') {
        if (slot.waitMs > 0) await sleep(slot.waitMs);
        return;
      }
      if (this.worker.closing !== undefined) throw Worker.RateLimitError();
      await sleep(Math.min(slot.retryInMs, MAX_SLOT_WAIT_MS));
    }
    throw new Error(`no Creatify request slot within ${(MAX_SLOT_STEPS * MAX_SLOT_WAIT_MS) / 1000} s`);
  }

  async #tick(job: Job): Promise<unknown> {
    const { deps, keys, batchSize, logger } = this.#options;
    // A retried tick (it failed halfway through enqueueing) keeps its job timestamp, so its cycle id and batch ids.
    const now = Date.now();
    const due = this.#dueSelection(now);
    const tick = { tickId: `c${job.timestamp}`, tickJobId: job.id ?? '', batchSize, now, ...(due === undefined ? {} : { due }) };
    let start = await startCycle(deps.redis, keys, tick);
    if (start.kind === 'busy') {
      if (await this.#cycleAlive()) {
        logger.info({ outstanding: start.outstanding }, 'previous poll cycle still running; tick skipped');
        return start;
      }
      // Its last batch may simply have finished since the claim said busy: only a cycle with batches left is dead.
      const left = await deps.redis.scard(keys.cycleBatches);
      if (left > 0) logger.warn({ cycle: start.cycleId, outstanding: left }, 'previous poll cycle abandoned (none of its jobs holds a lock or waits: its replica died); starting a new one');
      start = await startCycle(deps.redis, keys, { ...tick, deadCycleId: start.cycleId });
      if (start.kind === 'busy') return start;
    }
    if (start.kind === 'started') {
      let index = 0;
      const pages = due === undefined ? this.#options.store.pendingIds(batchSize * ENQUEUE_CHUNK) : this.#distinct(this.#options.store.dueIds(due.horizonMs, start.batchCount * batchSize, batchSize * ENQUEUE_CHUNK));
      const startedAt = due === undefined ? {} : { startedAt: now };
      for await (const page of pages) {
        const batches = chunk(page, batchSize).slice(0, start.batchCount - index);
        await this.queue.addBulk(
          batches.map((ids, i) => ({
            name: 'batch',
            data: { ids, cycleId: start.cycleId, ...startedAt } satisfies BatchData,
            opts: { jobId: batchJobId(start.cycleId, index + i), attempts: BATCH_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 },
          })),
        );
        index += batches.length;
        if (index >= start.batchCount) break;
      }
      // The set shrank since it was counted (ids finished or were untracked): close the batches never enqueued.
      for (; index < start.batchCount; index += 1) await this.#finish(batchJobId(start.cycleId, index), start.cycleId, { ids: 0, events: 0, failed: false });
    }
    return { kind: start.kind };
  }

  /** With `poll.cadence`: the ids due by the middle of the coming interval, as many as the API budget allows. */
  #dueSelection(now: number): DueSelection | undefined {
    const { deps, intervalMs, maxRequestsPerSecond } = this.#options;
    if (deps.cadence === undefined) return undefined;
    return { horizonMs: dueHorizon(now, intervalMs), maxBatches: batchBudget(maxRequestsPerSecond, intervalMs) };
  }

  /** Due times move while the tick pages the due set: an id that moved between pages is enqueued once. */
  async *#distinct(pages: AsyncIterable<string[]>): AsyncGenerator<string[]> {
    const seen = new Set<string>();
    for await (const page of pages) {
      const fresh = page.filter((id) => !seen.has(id));
      fresh.forEach((id) => seen.add(id));
      if (fresh.length > 0) yield fresh;
    }
  }

  /** The current cycle can still finish: its tick job is enqueueing, or one of its batch jobs waits or runs. */
  async #cycleAlive(): Promise<boolean> {
    const { deps, keys } = this.#options;
    const tickJob = await currentTickJob(deps.redis, keys);
    if (tickJob && (await anyJobAlive(deps.redis, this.queue, [tickJob]))) return true;
    for await (const page of outstandingBatches(deps.redis, keys)) {
      // SSCAN returns a small set whole whatever its COUNT: ask a few at a time, since a live cycle usually shows
      // a waiting job among the first few (each id asked costs 3 commands, on every skipped tick).
      for (const few of chunk(page, LIVENESS_CHUNK)) if (await anyJobAlive(deps.redis, this.queue, few)) return true;
    }
    return false;
  }

  async #batch(job: Job<BatchData>): Promise<unknown> {
    try {
      const summary = await this.#pollInSlot(job.data);
      await this.#finish(job.id ?? '', job.data.cycleId, { ids: summary.asked, events: summary.events, failed: false });
      return summary;
    } catch (err) {
      // The ids stay pending: a failed batch is simply polled again next cycle.
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) await this.#finish(job.id ?? '', job.data.cycleId, { ids: job.data.ids.length, events: 0, failed: true });
      throw err;
    }
  }

  /** One request in its slot; a 429 holds every replica and partition off for its Retry-After, then tries again. */
  async #pollInSlot(data: BatchData): Promise<Awaited<ReturnType<typeof pollBatch>>> {
    for (let retry = 0; ; retry += 1) {
      await this.#slot();
      try {
        return await pollBatch(data.ids, this.#options.deps, data.startedAt);
      } catch (err) {
        if (!(isLsyncError(err) && err.code === 'LSYNC_ERR_RATE_LIMITED') || retry >= RATE_LIMITED_RETRIES) throw err;
        await this.#gate.holdOff(Number(err.context?.['retryAfterMs'] ?? 1000));
      }
    }
  }

  async #finish(jobId: string, cycleId: string, batch: { ids: number; events: number; failed: boolean }): Promise<void> {
    const { deps, keys, logger } = this.#options;
    const totals = await finishBatch(deps.redis, keys, jobId, batch, Date.now());
    if (totals === null) return;
    deps.observer.cycleCompleted(totals.seconds);
    // One line per cycle, never one per id.
    logger.info({ cycle: cycleId, ids: totals.ids, requests: totals.batches, failedRequests: totals.failedBatches, events: totals.events, seconds: totals.seconds }, 'poll cycle complete');
  }
}
