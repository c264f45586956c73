/**
 * The latest applied transitions, for the status page: a Redis list `{prefix}:recent`, newest first, never longer
 * than RECENT_TRANSITIONS_LIMIT (LPUSH and LTRIM in one MULTI, so no reader sees it over the cap). Each entry
 * carries only an id, the two status labels, the failure reason and a time — never a field of the stored Creatify
 * object, so the list may be shown on the open page. Writers are replicas applying changes; an entry that does not
 * parse (an older or foreign format) is skipped on read, never shown half.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export const RECENT_TRANSITIONS_LIMIT = 100;

export interface RecentTransition {
  id: string;
  /** Status label before (`none` at first sighting), as in `transitions_total{from}`. */
  from: string;
  to: string;
  /** Creatify's failed_reason after the change, when there is one. */
  failedReason: string | null;
  /** ms when the change was applied. */
  at: number;
}

/** Records applied transitions (oldest first in `transitions`); keeps only the newest RECENT_TRANSITIONS_LIMIT. */
export async function recordRecentTransitions(redis: Redis, keys: Keys, transitions: readonly RecentTransition[]): Promise<void> {
  if (transitions.length === 0) return;
  const entries = transitions.slice(-RECENT_TRANSITIONS_LIMIT).map((t) => JSON.stringify([t.id, t.from, t.to, t.failedReason, t.at]));
  await redis.multi().lpush(keys.recent, ...entries).ltrim(keys.recent, 0, RECENT_TRANSITIONS_LIMIT - 1).exec();
}

/** The newest `limit` transitions, newest first. */
export async function recentTransitions(redis: Redis, keys: Keys, limit = RECENT_TRANSITIONS_LIMIT): Promise<RecentTransition[]> {
  const raws = await redis.lrange(keys.recent, 0, limit - 1);
  return raws.flatMap((raw) => {
    const entry = parseEntry(raw);
    return entry === null ? [] : [entry];
  });
}

function parseEntry(raw: string): RecentTransition | null {
  try {
    const value: unknown = JSON.parse(raw);
    if (!Array.isArray(value) || value.length !== 5) return null;
    const [id, from, to, failedReason, at] = value as unknown[];
    if (typeof id !== 'string' || typeof from !== 'string' || typeof to !== 'string' || typeof at !== 'number') return null;
    if (failedReason !== null && typeof failedReason !== 'string') return null;
    return { id, from, to, failedReason, at };
  } catch {
    return null;
  }
}
