import type { Redis } from 'ioredis';
import { chunk } from '../shared/chunk.js';
import { decodeOrigin, estimateCompletion, progressFraction } from '../shared/progress.js';
import { normalizeStatus, UNSEEN_STATUS } from '../shared/status.js';
import { optionalNumber } from './apply.js';
import { STATE_FIELDS, type Keys } from './keys.js';
import { runScript } from './scripts.js';

/** Ids per Lua call / pipeline: keeps each round trip small so tracking a million ids stays flat in memory. */
const WRITE_CHUNK = 1000;

export type TrackCode = 'tracked' | 'already' | 'terminal';
/** `known`: discovery listed this id before, so it is left alone (a team may have untracked it on purpose). */
export type DiscoverCode = TrackCode | 'known';
export type UntrackCode = 'untracked' | 'unknown';

/** What `status` / `GET /v1/lipsyncs/{id}` shows: the last seen fields and when we saw them. */
export interface LipsyncRecord {
  id: string;
  /** Last seen values; null before the first answer. */
  status: string | null;
  progress: string | null;
  failed_reason: string | null;
  /** Still in the pending set (polled each cycle). */
  pending: boolean;
  /** Reached a terminal status; no longer polled. */
  terminal: boolean;
  /** Creatify's `updated_at` of the last answer. */
  updated_at: string | null;
  tracked_at: string | null;
  first_seen_at: string | null;
  /** When the last answer containing this id arrived. */
  seen_at: string | null;
  /** Consecutive cycles the id was absent from answers. */
  missed_cycles: number;
  /** Consecutive answers whose item could not be read (null when the last answer was readable). */
  unreadable: { cycles: number; detail: string } | null;
  /** Applied changes so far: the `data.sequence` of its last event. */
  sequence: number;
  /** When it last moved (status, progress or failed_reason), if known. */
  changed_at: string | null;
  /** Since when it has been reported stalled (`lipsync.stalled`); null when it is not. */
  stalled_since: string | null;
  /** Estimated completion of a running lipsync from its progress over time; null when progress gives none. */
  eta: string | null;
  /** Change events emitted so far. */
  events: number;
  /** The last full object from Creatify, when one was seen. */
  lipsync: unknown;
}

export interface ListPage {
  /** Pending ids with their last seen status (`new` before the first answer). */
  items: Array<{ id: string; status: string }>;
  /** `'0'` when the listing is complete. */
  cursor: string;
}

/** Tracking operations on the pending set and the per-id state (SPEC "Redis"). Ids must already be normalised. */
export class TrackingStore {
  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
    private readonly retentionSeconds: number,
  ) {}

  async track(ids: readonly string[], now = Date.now()): Promise<Map<string, TrackCode>> {
    return this.#track(ids, 0, now) as Promise<Map<string, TrackCode>>;
  }

  /**
   * Discovery: tracks the ids not discovered before and remembers every one as discovered, in one atomic step
   * per chunk. At most `maxRemembered` ids are remembered; those the listing showed longest ago are forgotten.
   */
  async trackDiscovered(ids: readonly string[], maxRemembered: number, now = Date.now()): Promise<Map<string, DiscoverCode>> {
    return this.#track(ids, maxRemembered, now);
  }

  async discoveredCount(): Promise<number> {
    return this.redis.zcard(this.keys.discovered);
  }

  async #track(ids: readonly string[], discoveredCap: number, now: number): Promise<Map<string, DiscoverCode>> {
    const out = new Map<string, DiscoverCode>();
    for (const part of chunk(unique(ids), WRITE_CHUNK)) {
      const keys = [this.keys.pending, this.keys.statusCounts, this.keys.discovered, this.keys.due, ...part.map(this.keys.state)];
      const codes = (await runScript(this.redis, 'trackIds', keys, [now, new Date(now).toISOString(), discoveredCap, ...part])) as DiscoverCode[];
      part.forEach((id, i) => out.set(id, codes[i] ?? 'already'));
    }
    return out;
  }

  async untrack(ids: readonly string[]): Promise<Map<string, UntrackCode>> {
    const out = new Map<string, UntrackCode>();
    for (const part of chunk(unique(ids), WRITE_CHUNK)) {
      const codes = (await runScript(this.redis, 'untrackIds', [this.keys.pending, this.keys.statusCounts, this.keys.seen, this.keys.unreadable, this.keys.stalled, this.keys.stalledCounts, this.keys.due, ...part.map(this.keys.state)], [this.retentionSeconds, ...part])) as UntrackCode[];
      part.forEach((id, i) => out.set(id, codes[i] ?? 'unknown'));
    }
    return out;
  }

  /** Pending ids whose last answer could not be read. */
  async unreadableCount(): Promise<number> {
    return this.redis.scard(this.keys.unreadable);
  }

  async pendingCount(): Promise<number> {
    return this.redis.zcard(this.keys.pending);
  }

  /** Every pending id, oldest tracked first, read in pages so a huge set never lands in one reply. */
  async *pendingIds(pageSize = 10_000): AsyncGenerator<string[]> {
    for (let start = 0; ; start += pageSize) {
      const page = await this.redis.zrange(this.keys.pending, start, start + pageSize - 1);
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
    }
  }

  /** Up to `limit` pending ids due by `horizonMs` (poll.cadence), most overdue first, in pages. */
  async *dueIds(horizonMs: number, limit: number, pageSize = 10_000): AsyncGenerator<string[]> {
    for (let start = 0; start < limit; start += pageSize) {
      const size = Math.min(pageSize, limit - start);
      const page = await this.redis.zrangebyscore(this.keys.due, '-inf', horizonMs, 'LIMIT', start, size);
      if (page.length > 0) yield page;
      if (page.length < size) return;
    }
  }

  /**
   * Makes the due set hold exactly the pending ids, keeping their due times; ids it lacked (tracked before this
   * version, or while cadence was off on an older replica) become due at once. O(N), so run at start only.
   */
  async reconcileDue(): Promise<void> {
    await this.redis.zunionstore(this.keys.due, 2, this.keys.due, this.keys.pending, 'WEIGHTS', 1, 0, 'AGGREGATE', 'MAX');
    await this.redis.zinterstore(this.keys.due, 2, this.keys.due, this.keys.pending, 'WEIGHTS', 1, 0);
  }

  async get(id: string): Promise<LipsyncRecord | null> {
    const [hash, score, seen] = await Promise.all([this.redis.hgetall(this.keys.state(id)), this.redis.zscore(this.keys.pending, id), this.redis.zscore(this.keys.seen, id)]);
    if (score === null && Object.keys(hash).length === 0) return null;
    return toRecord(id, hash, score !== null, seen === null ? null : Number(seen));
  }

  /**
   * One page of pending ids, ZSCAN-style cursor (never KEYS); optionally only those whose last status
   * (case-insensitive) is `status`. A page may hold fewer than `count` ids when filtering.
   */
  async listPending(options: { cursor?: string; count?: number; status?: string } = {}): Promise<ListPage> {
    const [cursor, flat] = await this.redis.zscan(this.keys.pending, options.cursor ?? '0', 'COUNT', options.count ?? 100);
    const ids = flat.filter((_, i) => i % 2 === 0);
    const pipeline = this.redis.pipeline();
    ids.forEach((id) => pipeline.hget(this.keys.state(id), 'label'));
    const labels = ids.length === 0 ? [] : ((await pipeline.exec()) ?? []).map(([, label]) => (typeof label === 'string' ? label : UNSEEN_STATUS));
    const wanted = normalizeStatus(options.status);
    const items = ids.map((id, i) => ({ id, status: labels[i] ?? UNSEEN_STATUS })).filter((item) => wanted === null || item.status === wanted);
    return { items, cursor };
  }

  async statusCounts(): Promise<Record<string, number>> {
    return numericHash(await this.redis.hgetall(this.keys.statusCounts));
  }

  /** The longest-stalled pending ids first, at most `limit`, with the status they stalled in and since when. */
  async stalled(limit = 50): Promise<Array<{ id: string; status: string; since: string }>> {
    const flat = await this.redis.zrange(this.keys.stalled, 0, limit - 1, 'WITHSCORES');
    const entries: Array<{ id: string; since: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ id: flat[i] as string, since: Number(flat[i + 1]) });
    if (entries.length === 0) return [];
    const pipeline = this.redis.pipeline();
    entries.forEach(({ id }) => pipeline.hget(this.keys.state(id), STATE_FIELDS.label));
    const labels = (await pipeline.exec()) ?? [];
    return entries.map(({ id, since }, i) => {
      const label = labels[i]?.[1];
      return { id, status: typeof label === 'string' ? label : UNSEEN_STATUS, since: new Date(since).toISOString() };
    });
  }

  /** Stalled pending ids per status they stalled in. */
  async stalledCounts(): Promise<Record<string, number>> {
    return numericHash(await this.redis.hgetall(this.keys.stalledCounts));
  }

}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function toRecord(id: string, hash: Record<string, string>, pending: boolean, seenMs: number | null): LipsyncRecord {
  const raw = hash[STATE_FIELDS.lipsync];
  const written = hash[STATE_FIELDS.seenAt] ?? null;
  // Unchanged answers only touch the batch's seen mark; the later of the two is the last sighting.
  const seenAt = seenMs !== null && (written === null || seenMs > Date.parse(written)) ? new Date(seenMs).toISOString() : written;
  const unreadableCycles = Number(hash[STATE_FIELDS.unreadable] ?? 0);
  const changedAt = optionalNumber(hash[STATE_FIELDS.changedAt]);
  const stalledSince = optionalNumber(hash[STATE_FIELDS.stalledSince]);
  const progress = hash[STATE_FIELDS.progress] || null;
  const running = normalizeStatus(hash[STATE_FIELDS.status]) === 'running';
  const eta = running && changedAt !== null ? estimateCompletion(decodeOrigin(hash[STATE_FIELDS.progressOrigin]), progressFraction(progress), changedAt) : null;
  return {
    id,
    status: hash[STATE_FIELDS.status] ?? null,
    progress: hash[STATE_FIELDS.progress] ?? null,
    failed_reason: hash[STATE_FIELDS.failedReason] ?? null,
    pending,
    terminal: hash[STATE_FIELDS.terminal] === '1',
    updated_at: hash[STATE_FIELDS.updatedAt] ?? null,
    tracked_at: hash[STATE_FIELDS.trackedAt] ?? null,
    first_seen_at: hash[STATE_FIELDS.firstSeenAt] ?? null,
    seen_at: seenAt,
    missed_cycles: Number(hash[STATE_FIELDS.missed] ?? 0),
    unreadable: unreadableCycles > 0 ? { cycles: unreadableCycles, detail: hash[STATE_FIELDS.unreadableDetail] ?? '' } : null,
    sequence: Number(hash[STATE_FIELDS.sequence] ?? 0),
    changed_at: changedAt === null ? null : new Date(changedAt).toISOString(),
    stalled_since: stalledSince === null ? null : new Date(stalledSince).toISOString(),
    eta: eta === null ? null : new Date(eta).toISOString(),
    events: Number(hash[STATE_FIELDS.events] ?? 0),
    lipsync: raw === undefined ? null : (JSON.parse(raw) as unknown),
  };
}

function numericHash(raw: Record<string, string>): Record<string, number> {
  return Object.fromEntries(Object.entries(raw).map(([key, n]) => [key, Number(n)]));
}
