/**
 * Dead letters, one class for every caller: the delivery worker writes them (through the FIFO's finish step),
 * and the pipeline, `POST /v1/dead-letters/replay` and `lipsync-sync replay-dead-letters` read and replay them
 * through this class. Invariants: a letter leaves its list only after its replay was handed off (so a crash
 * mid-replay neither loses nor doubles one), and only the `delivery.maxDeadLetters` cap drops letters.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Keys } from '../store/keys.js';
import { BREAKER_DEFAULTS, EndpointBreakers } from './breaker.js';
import { DeliveryFifo, replayToken } from './fifo.js';
import { RetryPolicy } from './retry-policy.js';

/** One delivery given up on; stored as JSON in the endpoint's dead-letter list, oldest first. */
export interface DeadLetter {
  /** Unique per dead-lettering; a replay's token derives from it, so replaying twice hands off once. */
  deadId: string;
  eventId: string;
  endpoint: string;
  lipsyncId: string;
  type: string;
  /** The event JSON exactly as it was (and will again be) signed and sent. */
  event: string;
  /** `HTTP 503`, `timeout after 15000 ms`, `endpoint disabled`, … */
  error: string;
  statusCode: number | null;
  /** HTTP attempts made (0 when none was made). */
  attempts: number;
  /** ISO 8601. */
  deadAt: string;
}

/** Why an endpoint stopped receiving deliveries (410 Gone, or `disableAfterSeconds` of failure); JSON in `disabledEndpoints`. */
export interface DisabledEndpoint {
  reason: string;
  statusCode: number | null;
  /** The event whose delivery got the 410 or was the last failure. */
  eventId: string;
  /** ISO 8601. */
  disabledAt: string;
}

export interface DeadLettersOptions {
  redis: Redis;
  keys: Keys;
  /** Configured endpoint names: only these are replayed. */
  endpoints: readonly string[];
  fifo: DeliveryFifo;
  breakers: EndpointBreakers;
  logger: Logger;
}

export interface ReplayResult {
  replayed: number;
  /** Endpoints with dead letters that are not configured any more; their letters stay. */
  skipped: string[];
}

const PAGE = 100;

export function newDeadId(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

export function parseDeadLetter(raw: string): DeadLetter | null {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return null;
    const v = value as Record<string, unknown>;
    const strings = ['deadId', 'eventId', 'endpoint', 'lipsyncId', 'type', 'event', 'error', 'deadAt'];
    if (!strings.every((k) => typeof v[k] === 'string')) return null;
    if (typeof v['attempts'] !== 'number' || (v['statusCode'] !== null && typeof v['statusCode'] !== 'number')) return null;
    return value as DeadLetter;
  } catch {
    return null;
  }
}

export class DeadLetters {
  readonly #options: DeadLettersOptions;

  constructor(options: DeadLettersOptions) {
    this.#options = options;
  }

  /**
   * For the CLI, without a running pipeline: replays go to the endpoints' queues on this connection, and
   * whichever replica's worker runs delivers them. Closes what it opened when `fn` settles.
   */
  static async using<T>(ctx: { config: Pick<Config, 'webhooks' | 'delivery'>; keys: Keys; redis: Redis; logger?: Logger }, fn: (letters: DeadLetters) => Promise<T>): Promise<T> {
    const { config, keys, redis } = ctx;
    const breakers = new EndpointBreakers(redis, keys, BREAKER_DEFAULTS);
    const fifo = new DeliveryFifo({
      redis,
      connection: redis,
      keys,
      policy: new RetryPolicy(config.webhooks, config.delivery.retryScheduleSeconds),
      breaker: breakers.settings,
      maxDeadLetters: config.delivery.maxDeadLetters,
      markerLifetimeMs: REPLAY_MARKER_LIFETIME_MS,
    });
    try {
      return await fn(new DeadLetters({ redis, keys, endpoints: config.webhooks.map((w) => w.name), fifo, breakers, logger: ctx.logger ?? pino({ level: 'silent' }) }));
    } finally {
      await fifo.close();
    }
  }

  /** Oldest first: of one endpoint, or of all (grouped by endpoint name), at most `limit`. */
  async list(endpoint?: string, limit = 100): Promise<DeadLetter[]> {
    const { redis, keys } = this.#options;
    const names = endpoint === undefined ? (await redis.smembers(keys.deadLetterEndpoints)).sort() : [endpoint];
    const out: DeadLetter[] = [];
    for (const name of names) {
      if (out.length >= limit) break;
      const raws = await redis.lrange(keys.deadLetters(name), 0, limit - out.length - 1);
      for (const raw of raws) {
        const letter = parseDeadLetter(raw);
        if (letter !== null) out.push(letter);
      }
    }
    return out;
  }

  /** Per endpoint that ever had one (0 once replayed, so the `webhook_dead_letters` gauge drops back instead of vanishing). */
  async count(): Promise<Record<string, number>> {
    const { redis, keys } = this.#options;
    const names = await redis.smembers(keys.deadLetterEndpoints);
    const counts: Record<string, number> = {};
    for (const name of names) counts[name] = await redis.llen(keys.deadLetters(name));
    return counts;
  }

  /** Endpoints disabled (410, or `disableAfterSeconds` of failure), with why and when. */
  async disabled(): Promise<Record<string, DisabledEndpoint>> {
    const raw = await this.#options.redis.hgetall(this.#options.keys.disabledEndpoints);
    const out: Record<string, DisabledEndpoint> = {};
    for (const [name, value] of Object.entries(raw)) {
      try {
        out[name] = JSON.parse(value) as DisabledEndpoint;
      } catch {
        out[name] = { reason: value, statusCode: null, eventId: '', disabledAt: '' };
      }
    }
    return out;
  }

  /**
   * Hands dead letters back to delivery through the same ordered FIFO, re-enabling a disabled endpoint (with
   * a closed breaker) first. Each letter is removed only after its hand-off succeeded, and its token is fixed
   * by its `deadId`, so a replay that crashes midway and is run again neither loses nor doubles a letter.
   */
  async replay(endpoint?: string): Promise<ReplayResult> {
    const { redis, keys, fifo, breakers, logger } = this.#options;
    const configured = new Set(this.#options.endpoints);
    const names = endpoint === undefined ? (await redis.smembers(keys.deadLetterEndpoints)).sort() : [endpoint];
    let replayed = 0;
    const skipped: string[] = [];
    for (const name of names) {
      if (!configured.has(name)) {
        if ((await redis.llen(keys.deadLetters(name))) > 0) skipped.push(name);
        continue;
      }
      await breakers.reset(name);
      if ((await redis.hdel(keys.disabledEndpoints, name)) > 0) logger.warn({ endpoint: name }, 'webhook endpoint re-enabled by dead-letter replay');
      const listKey = keys.deadLetters(name);
      // Bounded by the length at start: letters dead-lettered again during the replay wait for the next one.
      let remaining = await redis.llen(listKey);
      let kept = 0; // unreadable letters left in place at the front
      while (remaining > 0) {
        const raws = await redis.lrange(listKey, kept, kept + Math.min(PAGE, remaining) - 1);
        if (raws.length === 0) break;
        for (const raw of raws) {
          remaining -= 1;
          const letter = parseDeadLetter(raw);
          if (letter === null) {
            kept += 1;
            logger.error({ endpoint: name }, 'unreadable dead letter left in place');
            continue;
          }
          const { eventId, type, lipsyncId, event: body } = letter;
          await fifo.handOff(name, replayToken(eventId, letter.deadId), { eventId, type, lipsyncId, body }, REPLAY_MARKER_LIFETIME_MS);
          // 0 when a concurrent replay got there first: it counts that one.
          replayed += await redis.lrem(listKey, 1, raw);
        }
      }
    }
    if (replayed > 0) logger.info({ replayed, endpoint: endpoint ?? 'all' }, 'dead letters replayed');
    return { replayed, skipped };
  }
}

/** A replay's hand-off markers outlive any re-run of a crashed replay an operator would make soon after (ms). */
export const REPLAY_MARKER_LIFETIME_MS = 24 * 3600 * 1000;
