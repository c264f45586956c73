import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../store/keys.js';
import { replayToken, type DeliveryHandoff } from './handoff.js';

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
  /** `HTTP 503`, `timeout after 15000 ms`, `endpoint disabled`, `endpoint removed`, … */
  error: string;
  statusCode: number | null;
  /** HTTP attempts made (0 when none was made). */
  attempts: number;
  /** ISO 8601. */
  deadAt: string;
}

/** Why an endpoint stopped receiving deliveries (410 Gone); stored as JSON in `disabledEndpoints`. */
export interface DisabledEndpoint {
  reason: string;
  statusCode: number | null;
  /** The event whose delivery got the 410. */
  eventId: string;
  /** ISO 8601. */
  disabledAt: string;
}

export interface DeadLetterContext {
  redis: Redis;
  keys: Keys;
  /** Configured endpoint names: only these are replayed. */
  endpoints: readonly string[];
  handoff: DeliveryHandoff;
  logger: Logger;
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

/** Dead letters, oldest first: of one endpoint, or of all (grouped by endpoint name), at most `limit`. */
export async function listDeadLetters(ctx: Pick<DeadLetterContext, 'redis' | 'keys'>, endpoint?: string, limit = 100): Promise<DeadLetter[]> {
  const names = endpoint === undefined ? (await ctx.redis.smembers(ctx.keys.deadLetterEndpoints)).sort() : [endpoint];
  const out: DeadLetter[] = [];
  for (const name of names) {
    if (out.length >= limit) break;
    const raws = await ctx.redis.lrange(ctx.keys.deadLetters(name), 0, limit - out.length - 1);
    for (const raw of raws) {
      const letter = parseDeadLetter(raw);
      if (letter !== null) out.push(letter);
    }
  }
  return out;
}

/** Dead letters per endpoint that ever had one (0 once replayed, so a gauge drops back instead of vanishing). */
export async function countDeadLetters(ctx: Pick<DeadLetterContext, 'redis' | 'keys'>): Promise<Record<string, number>> {
  const names = await ctx.redis.smembers(ctx.keys.deadLetterEndpoints);
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = await ctx.redis.llen(ctx.keys.deadLetters(name));
  return counts;
}

export async function listDisabledEndpoints(ctx: Pick<DeadLetterContext, 'redis' | 'keys'>): Promise<Record<string, DisabledEndpoint>> {
  const raw = await ctx.redis.hgetall(ctx.keys.disabledEndpoints);
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

export interface ReplayResult {
  replayed: number;
  /** Endpoints with dead letters that are not configured any more; their letters stay. */
  skipped: string[];
}

/**
 * Hands dead letters back to delivery through the same ordered FIFO, re-enabling a disabled endpoint first.
 * Each letter is removed only after its hand-off succeeded, and its token is fixed by its `deadId`, so a
 * replay that crashes midway and is run again neither loses nor doubles a letter.
 */
export async function replayDeadLetters(ctx: DeadLetterContext, endpoint?: string): Promise<ReplayResult> {
  const { redis, keys, handoff, logger } = ctx;
  const configured = new Set(ctx.endpoints);
  const names = endpoint === undefined ? (await redis.smembers(keys.deadLetterEndpoints)).sort() : [endpoint];
  let replayed = 0;
  const skipped: string[] = [];
  for (const name of names) {
    if (!configured.has(name)) {
      if ((await redis.llen(keys.deadLetters(name))) > 0) skipped.push(name);
      continue;
    }
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
        await handoff.handOff(name, replayToken(eventId, letter.deadId), { eventId, type, lipsyncId, body });
        // 0 when a concurrent replay got there first: it counts that one.
        replayed += await redis.lrem(listKey, 1, raw);
      }
    }
  }
  if (replayed > 0) logger.info({ replayed, endpoint: endpoint ?? 'all' }, 'dead letters replayed');
  return { replayed, skipped };
}
