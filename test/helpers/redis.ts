import { Redis } from 'ioredis';
import { deleteKeys } from '../../src/store/cleanup.js';
import { keysFor } from '../../src/store/keys.js';
import { partitionPrefixes } from '../../src/store/partitions.js';

/** The machine's Redis (CI and sessions start one on 6379); REDIS_URL overrides. */
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test file or run shares. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export function newRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** Removes our keys and BullMQ's under a prefix (and under each partition's, when there are several). */
export async function cleanupPrefix(prefix: string, partitions = 1): Promise<void> {
  await deleteKeys(REDIS_URL, [prefix, keysFor(prefix).bullPrefix, ...(partitions > 1 ? partitionPrefixes(prefix, partitions) : [])]);
}

/** Polls `check` until it is truthy, at most `timeoutMs`; fails with `what` otherwise. */
export async function waitUntil<T>(check: () => Promise<T | false | null | undefined> | T | false | null | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
