import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { defaultLipsync } from '../src/simulator/timeline.js';
import { readItem, type AnswerItem, type Lipsync } from '../src/creatify/schema.js';
import { deleteKeys } from '../src/store/cleanup.js';
import { keysFor } from '../src/store/keys.js';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Every key this run writes lives under `bench-<pid>-<section>`. */
export const RUN_PREFIX = `bench-${process.pid}`;
/** Webhook secret for every endpoint in the bench (24 random-looking bytes, base64). */
export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export const logger: Logger = pino({ level: process.env['BENCH_LOG_LEVEL'] ?? 'silent' });

const usedPrefixes = new Set<string>();

/** A fresh key prefix for one measurement, remembered for cleanup. */
export function newPrefix(tag: string): string {
  const prefix = `${RUN_PREFIX}-${tag}`;
  usedPrefixes.add(prefix);
  return prefix;
}

/** Deletes our keys and BullMQ's under one prefix; returns how many keys went. */
export async function cleanupPrefix(prefix: string): Promise<number> {
  const deleted = await deleteKeys(REDIS_URL, [prefix, keysFor(prefix).bullPrefix]);
  usedPrefixes.delete(prefix);
  return deleted;
}

/** Deletes the keys of every prefix not cleaned up yet (end of run, or after a failure). */
export async function cleanupAll(): Promise<number> {
  let deleted = 0;
  for (const prefix of [...usedPrefixes]) deleted += await cleanupPrefix(prefix);
  return deleted;
}

export function newRedis(name: string): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null, connectionName: `lipsync-sync-bench-${name}` });
}

/**
 * Counts request flushes on an ioredis connection: one per single command, one per pipeline/MULTI (ioredis
 * writes a pipeline in one go), so the count is the client's round trips. Call after the connection is ready.
 */
export function countRoundTrips(redis: Redis): { readonly count: number; reset(): void } {
  const socket = redis.stream as Socket;
  const original = socket.write;
  let count = 0;
  socket.write = function write(this: Socket, ...args: unknown[]): boolean {
    count += 1;
    return Reflect.apply(original, this, args) as boolean;
  } as Socket['write'];
  return {
    get count() {
      return count;
    },
    reset() {
      count = 0;
    },
  };
}

function infoFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const lineText = raw.trim();
    const colon = lineText.indexOf(':');
    if (lineText === '' || lineText.startsWith('#') || colon < 0) continue;
    out.set(lineText.slice(0, colon), lineText.slice(colon + 1));
  }
  return out;
}

/** Server-wide calls per command (INFO commandstats); commands run inside Lua count too. */
export async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [key, value] of infoFields(await redis.info('commandstats'))) {
    const calls = /calls=(\d+)/.exec(value);
    if (key.startsWith('cmdstat_') && calls?.[1] !== undefined) out.set(key.slice('cmdstat_'.length), Number(calls[1]));
  }
  return out;
}

export function statsDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [cmd, calls] of after) {
    const delta = calls - (before.get(cmd) ?? 0);
    if (delta > 0) out.set(cmd, delta);
  }
  return out;
}

export function total(stats: Map<string, number>): number {
  let sum = 0;
  for (const v of stats.values()) sum += v;
  return sum;
}

/** `evalsha 3.0, hset 1.0, …` — the top `n` commands divided by `per`. */
export function topCommands(stats: Map<string, number>, per: number, n = 6, exclude: readonly string[] = ['info']): string {
  return [...stats]
    .filter(([cmd]) => !exclude.includes(cmd))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([cmd, calls]) => `${cmd} ${(calls / per).toFixed(2)}`)
    .join(', ');
}

/** Redis server CPU seconds (user + sys, all its threads). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = infoFields(await redis.info('cpu'));
  return Number(info.get('used_cpu_user') ?? 0) + Number(info.get('used_cpu_sys') ?? 0);
}

export async function redisInfo(redis: Redis, sectionName: string, field: string): Promise<string | undefined> {
  return infoFields(await redis.info(sectionName)).get(field);
}

/** Deterministic, valid UUIDs: `salt` (0..0xffffffff) keeps sets apart, `n` numbers them. */
export function uuidFor(n: number, salt = 0): string {
  return `${salt.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

const BENCH_EPOCH = Date.UTC(2026, 0, 1);

/** A valid lipsync object as the list endpoint documents it (the simulator's factory, fixed timestamps). */
export function lipsync(id: string, overrides: Partial<Lipsync> = {}): Lipsync {
  return { ...defaultLipsync(id, BENCH_EPOCH), ...overrides };
}

/** The same object as the poller reads it from an answer. */
export function answerItem(id: string, overrides: Partial<Lipsync> = {}): AnswerItem {
  const read = readItem(lipsync(id, overrides));
  if (read.kind !== 'item') throw new Error(`bench fixture is not readable: ${read.issues}`);
  return read.item;
}

let gcFn: (() => void) | null | undefined;
/** A full GC when the runtime lets us have one (exposed at run time via V8 flags), else nothing. */
export function collectGarbage(): boolean {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const fn: unknown = runInNewContext('gc');
      gcFn = typeof fn === 'function' ? (fn as () => void) : null;
    } catch {
      gcFn = null;
    }
  }
  if (gcFn === null) return false;
  gcFn();
  gcFn();
  return true;
}

/** Runs `body` with at most `concurrency` in flight over `items`, stopping early at `deadline` (performance.now ms). */
export async function forEachConcurrent<T>(items: readonly T[], concurrency: number, body: (item: T, index: number) => Promise<void>, deadline = Number.POSITIVE_INFINITY): Promise<number> {
  let next = 0;
  let done = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    for (;;) {
      if (performance.now() > deadline) return;
      const index = next++;
      const item = items[index];
      if (index >= items.length || item === undefined) return;
      await body(item, index);
      done += 1;
    }
  });
  await Promise.all(lanes);
  return done;
}
