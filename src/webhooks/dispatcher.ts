/**
 * The events stream's consumer: turns stream entries into per-endpoint FIFO hand-offs, in stream order per
 * lipsync across replicas, acknowledging an entry only once it is handed off (see the class comment).
 */
import { duplicateRedis, logRedisFailure } from '../store/redis.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../store/keys.js';
import type { WebhookEndpoint } from './deliver.js';
import type { DeliveryFifo, HandoffItem, HandoffResult } from './fifo.js';
import { runScript } from '../store/scripts.js';
import { STREAM_FIELDS } from '../events/stream.js';

const SECOND = 1000;

/** Defaults, with units. */
export const DISPATCHER_DEFAULTS = {
  /** Consumer group on the events stream shared by all replicas. */
  group: 'webhooks',
  /** XREADGROUP BLOCK: also bounds how long close() waits for the loop. */
  blockMs: 1 * SECOND,
  count: 200,
  /** Entries a consumer read but did not acknowledge for this long are taken over (its replica died). */
  claimIdleMs: 30 * SECOND,
  claimIntervalMs: 10 * SECOND,
  /** Consumers with nothing pending and idle this long are removed from the group (restarted replicas). */
  forgetConsumerAfterMs: 60 * 60 * SECOND,
  /** Pause after an error before reading again. */
  errorPauseMs: 1 * SECOND,
  /** While own entries wait for an earlier entry of their lipsync held elsewhere, re-check this often. */
  orderRecheckMs: 50,
  /** Pending entries the order gate inspects per batch: far more than replicas × `count`. */
  orderGateScan: 10_000,
} as const;

/** How long a hand-off marker must last: a stream entry is redelivered by a reclaim within about this long. */
export function markerLifetimeMs(claimIdleMs: number, claimIntervalMs: number): number {
  return 2 * (claimIdleMs + claimIntervalMs) + 60 * SECOND;
}

export interface DispatcherOptions {
  /** Commands; a blocking duplicate is made from it for XREADGROUP. */
  redis: Redis;
  keys: Keys;
  endpoints: readonly WebhookEndpoint[];
  fifo: DeliveryFifo;
  logger: Logger;
  group?: string;
  /** Default: `<hostname>-<pid>-<random>`, unique per process. */
  consumer?: string;
  blockMs?: number;
  count?: number;
  claimIdleMs?: number;
  claimIntervalMs?: number;
}

/** One stream entry as written by applyBatch.lua. */
export interface StreamEntry {
  streamId: string;
  fields: Record<string, string>;
}

type RawEntry = [id: string, fields: string[] | null];

/**
 * Reads the events stream with a consumer group and turns each entry into durable per-endpoint deliveries.
 * Invariants: an entry is acknowledged and deleted only after every hand-off succeeded (at-least-once);
 * entries of a replica that died before acknowledging are claimed after `claimIdleMs` and handed off again
 * (the hand-off marker makes that idempotent); and an entry is handed off only once no earlier entry of its
 * lipsync is still pending anywhere in the group (deliveryOrderGate.lua), so one lipsync's events enter their
 * FIFOs in stream order — that is, `data.sequence` order — whichever replicas read them, after a reclaim, and
 * after a failed hand-off. An entry that has to wait stays pending here and is re-checked every `orderRecheckMs`.
 */
export class Dispatcher {
  readonly consumer: string;
  readonly group: string;
  readonly #options: DispatcherOptions;
  readonly #blocking: Redis;
  #running: Promise<void> | undefined;
  #stopping = false;
  #groupReady = false;
  /** Own entries read but not acknowledged (a hand-off failed): re-read from the PEL before new ones. */
  #retryOwnPending = true;
  #lastClaimAt = 0;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.group = options.group ?? DISPATCHER_DEFAULTS.group;
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    // A blocked XREADGROUP holds its connection; commands and Lua must not queue behind it.
    this.#blocking = duplicateRedis(options.redis, 'lipsync-sync-dispatch');
    // Every connection needs a listener, or ioredis prints "Unhandled error event" stacks outside the logs.
    this.#blocking.on('error', (err: Error) => options.logger.debug({ err }, 'dispatcher redis connection error'));
  }

  start(): void {
    if (this.#running !== undefined) return;
    this.#stopping = false;
    this.#running = this.#loop();
  }

  /** Stops reading; resolves once the current batch is handed off (within about `blockMs`). */
  async close(): Promise<void> {
    this.#stopping = true;
    // Ends a blocked XREADGROUP now rather than after blockMs.
    this.#blocking.disconnect();
    await this.#running;
    this.#running = undefined;
  }

  /** Creates the group at `0`, so events appended before the first start are delivered too. */
  async ensureGroup(): Promise<void> {
    if (this.#groupReady) return;
    try {
      await this.#options.redis.xgroup('CREATE', this.#options.keys.events, this.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
    }
    this.#groupReady = true;
  }

  /**
   * Own unacknowledged entries first (after a failed hand-off, or waiting for an earlier entry of their
   * lipsync), then new ones, waiting up to `blockMs` for them (0: no wait; shorter while own entries wait, so
   * they are re-checked soon). Returns how many entries were acknowledged.
   */
  async dispatchOnce(blockMs = this.#options.blockMs ?? DISPATCHER_DEFAULTS.blockMs): Promise<number> {
    await this.ensureGroup();
    const count = this.#options.count ?? DISPATCHER_DEFAULTS.count;
    const { events } = this.#options.keys;
    let handled = 0;
    if (this.#retryOwnPending) {
      this.#retryOwnPending = false;
      handled += await this.#process(streamEntries(await this.#blocking.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'STREAMS', events, '0')));
    }
    // New entries too: entries waiting on another consumer's must not hold up every other lipsync.
    const wait = this.#retryOwnPending ? Math.min(blockMs, DISPATCHER_DEFAULTS.orderRecheckMs) : blockMs;
    const reply =
      wait > 0
        ? await this.#blocking.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'BLOCK', wait, 'STREAMS', events, '>')
        : await this.#blocking.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'STREAMS', events, '>');
    return handled + (await this.#process(streamEntries(reply)));
  }

  /**
   * Takes over entries other consumers read but left unacknowledged for `minIdleMs`, and hands them off.
   * Bounded to a few pages per call so one call cannot run for long.
   */
  async claimStale(minIdleMs = this.#options.claimIdleMs ?? DISPATCHER_DEFAULTS.claimIdleMs, maxPages = 10): Promise<number> {
    await this.ensureGroup();
    const { redis, keys } = this.#options;
    const count = this.#options.count ?? DISPATCHER_DEFAULTS.count;
    let cursor = '0-0';
    let handled = 0;
    for (let page = 0; page < maxPages; page += 1) {
      const reply = (await redis.xautoclaim(keys.events, this.group, this.consumer, minIdleMs, cursor, 'COUNT', count)) as unknown[];
      cursor = typeof reply[0] === 'string' ? reply[0] : '0-0';
      handled += await this.#process(Array.isArray(reply[1]) ? (reply[1] as RawEntry[]) : []);
      // Entries deleted from the stream while pending (Redis 7 lists them here): nothing left to deliver.
      const deleted = Array.isArray(reply[2]) ? (reply[2] as string[]) : [];
      if (deleted.length > 0) await redis.xack(keys.events, this.group, ...deleted);
      if (cursor === '0-0') break;
    }
    return handled;
  }

  /**
   * Hands entries off without acknowledging them. Hand-offs for one (endpoint, lipsync) run in stream order;
   * different FIFOs go together, one pipeline per round (the k-th hand-off of every FIFO in round k: one round
   * trip instead of one per entry). Entries whose lipsync has an earlier entry pending outside `entries` are
   * left alone. Returns the stream ids whose every hand-off succeeded (or that are not deliverable at all).
   */
  async handOff(entries: readonly StreamEntry[]): Promise<string[]> {
    const { endpoints, fifo, logger } = this.#options;
    const ok: string[] = [];
    const mustWait = await this.#orderGate(entries);
    const chains = new Map<string, Array<HandoffItem & { streamId: string }>>();
    for (const entry of entries) {
      if (mustWait.has(entry.streamId)) continue;
      ok.push(entry.streamId);
      const { [STREAM_FIELDS.id]: eventId, [STREAM_FIELDS.type]: type, [STREAM_FIELDS.lipsyncId]: lipsyncId, [STREAM_FIELDS.event]: body } = entry.fields;
      if (eventId === undefined || type === undefined || lipsyncId === undefined || body === undefined) {
        // Not deliverable, and retrying cannot fix it: acknowledge and move on.
        logger.error({ streamId: entry.streamId, fields: Object.keys(entry.fields) }, 'malformed event stream entry skipped');
        continue;
      }
      const payload = { eventId, type, lipsyncId, body };
      // Disabled endpoints get their hand-offs too: the worker dead-letters them, so a replay recovers them in order.
      for (const endpoint of endpoints) {
        if (endpoint.events !== undefined && !(endpoint.events as readonly string[]).includes(type)) continue;
        const chainKey = `${endpoint.name}\n${lipsyncId}`;
        const chain = chains.get(chainKey) ?? [];
        chain.push({ streamId: entry.streamId, endpoint: endpoint.name, token: eventId, payload });
        chains.set(chainKey, chain);
      }
    }
    const failed = new Set<string>();
    let live = [...chains.values()];
    for (let round = 0; live.length > 0; round += 1) {
      const steps = live.map((chain) => chain[round] as HandoffItem & { streamId: string });
      let results: Array<HandoffResult | Error>;
      try {
        results = await fifo.handOffMany(steps);
      } catch (err) {
        results = steps.map(() => (err instanceof Error ? err : new Error(String(err))));
      }
      const next: typeof live = [];
      live.forEach((chain, i) => {
        const result = results[i];
        if (result === undefined || result instanceof Error) {
          logRedisFailure(logger, result ?? new Error('no hand-off result'), { streamId: chain[round]?.streamId }, 'webhook hand-off failed; the entry stays pending and is retried');
          // The rest of this FIFO's chain waits too: a later event of the lipsync must not overtake this one.
          for (const later of chain.slice(round)) failed.add(later.streamId);
        } else if (chain.length > round + 1) {
          next.push(chain);
        }
      });
      live = next;
    }
    return ok.filter((id) => !failed.has(id));
  }

  /** Stream ids of `entries` that must wait for an earlier entry of their lipsync pending elsewhere. */
  async #orderGate(entries: readonly StreamEntry[]): Promise<Set<string>> {
    const pairs: string[] = [];
    let last = '';
    for (const entry of entries) {
      const lipsyncId = entry.fields[STREAM_FIELDS.lipsyncId];
      if (lipsyncId === undefined) continue;
      pairs.push(entry.streamId, lipsyncId);
      last = entry.streamId; // entries come in stream order
    }
    if (pairs.length === 0) return new Set();
    const { redis, keys } = this.#options;
    const wait = (await runScript(redis, 'deliveryOrderGate', [keys.events], [this.group, last, STREAM_FIELDS.lipsyncId, DISPATCHER_DEFAULTS.orderGateScan, ...pairs])) as string[];
    return new Set(wait);
  }

  async #process(raw: readonly RawEntry[]): Promise<number> {
    if (raw.length === 0) return 0;
    const { redis, keys } = this.#options;
    const present: StreamEntry[] = [];
    const vanished: string[] = [];
    for (const [streamId, fields] of raw) {
      if (fields === null) vanished.push(streamId);
      else present.push({ streamId, fields: fieldsOf(fields) });
    }
    const done = [...vanished, ...(await this.handOff(present))];
    if (done.length < raw.length) this.#retryOwnPending = true;
    if (done.length > 0) {
      // Acknowledged entries are durable jobs / FIFO elements now; deleting them keeps the stream bounded.
      await redis.multi().xack(keys.events, this.group, ...done).xdel(keys.events, ...done).exec();
    }
    return done.length;
  }

  async #loop(): Promise<void> {
    const { logger } = this.#options;
    const claimInterval = this.#options.claimIntervalMs ?? DISPATCHER_DEFAULTS.claimIntervalMs;
    while (!this.#stopping) {
      try {
        if (Date.now() - this.#lastClaimAt >= claimInterval) {
          this.#lastClaimAt = Date.now();
          await this.claimStale();
          await this.#forgetIdleConsumers();
        }
        await this.dispatchOnce();
      } catch (err) {
        if (this.#stopping) break;
        // The stream (and with it the group) was deleted: recreate both on the next round.
        if (err instanceof Error && err.message.startsWith('NOGROUP')) this.#groupReady = false;
        logRedisFailure(logger, err, {}, 'webhook dispatcher error; retrying');
        this.#retryOwnPending = true;
        await sleep(DISPATCHER_DEFAULTS.errorPauseMs);
      }
    }
  }

  async #forgetIdleConsumers(): Promise<void> {
    const { redis, keys } = this.#options;
    const consumers = (await redis.xinfo('CONSUMERS', keys.events, this.group)) as unknown[];
    for (const raw of consumers) {
      if (!Array.isArray(raw)) continue;
      const info = fieldsOf(raw.map(String));
      const name = info['name'];
      if (name === undefined || name === this.consumer) continue;
      if (Number(info['pending']) === 0 && Number(info['idle']) > DISPATCHER_DEFAULTS.forgetConsumerAfterMs) {
        await redis.xgroup('DELCONSUMER', keys.events, this.group, name);
      }
    }
  }
}

function fieldsOf(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

function streamEntries(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply)) return [];
  const stream: unknown = reply[0];
  if (!Array.isArray(stream) || !Array.isArray(stream[1])) return [];
  return stream[1] as RawEntry[];
}
