/**
 * Redis bytes per tracked id and per queued delivery, measured with MEMORY USAGE (SAMPLES 0: every element
 * counted) on the keys the real code paths write — TrackingStore.track, pollBatch, and the webhook dispatcher's
 * hand-off — rather than estimated from field sizes. The README's "Redis requirements" figures come from here.
 */
import type { Redis } from 'ioredis';
import { DEFAULTS } from '../src/config/schema.js';
import { CreatifyClient } from '../src/creatify/client.js';
import { CreatifySimulator } from '../src/simulator/server.js';
import { keysFor, type Keys } from '../src/store/keys.js';
import { TrackingStore } from '../src/store/tracking.js';
import { chunk } from '../src/shared/chunk.js';
import { terminalSet } from '../src/shared/status.js';
import { NOOP_OBSERVER } from '../src/sync/observer.js';
import { pollBatch } from '../src/sync/poll-batch.js';
import { createWebhookPipeline } from '../src/webhooks/pipeline.js';
import { cleanupPrefix, logger, newPrefix, newRedis, SECRET, uuidFor } from './env.js';
import { appendEvents, makeEvents } from './pipeline-bench.js';
import { fmt, line, note, section } from './stats.js';

const TRACKED = 2_000;
const SETTLE_LIMIT_MS = 30_000;

interface Usage {
  keys: number;
  bytes: number;
}

/** Sum of MEMORY USAGE over every key matching `{prefix}:*`, except those `skip` names. */
async function usage(redis: Redis, prefix: string, skip: ReadonlySet<string> = new Set()): Promise<Usage> {
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    const wanted = found.filter((k) => !skip.has(k));
    const pipeline = redis.pipeline();
    wanted.forEach((k) => pipeline.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
    for (const [, value] of (await pipeline.exec()) ?? []) bytes += Number(value ?? 0);
    keys += wanted.length;
  } while (cursor !== '0');
  return { keys, bytes };
}

async function ourKeys(redis: Redis, keys: Keys, skip?: ReadonlySet<string>): Promise<Usage> {
  const [own, bull] = await Promise.all([usage(redis, keys.prefix, skip), usage(redis, keys.bullPrefix)]);
  return { keys: own.keys + bull.keys, bytes: own.bytes + bull.bytes };
}

export async function benchMemory(): Promise<void> {
  section('8. Redis memory per tracked id and per queued delivery (MEMORY USAGE on the keys the code writes)');
  await trackedIdBytes();
  for (const [lipsyncs, perLipsync] of [[2_000, 1], [200, 10]] as const) await queuedDeliveryBytes(lipsyncs, perLipsync);
  note('a tracked id costs its state hash plus its pending-set entry; the stored Creatify object dominates once answered');
  note('a queued delivery is its BullMQ job (the head of its lipsync\'s FIFO) or a FIFO element, plus its hand-off marker');
}

async function trackedIdBytes(): Promise<void> {
  const prefix = newPrefix('mem-track');
  const keys = keysFor(prefix);
  const redis = newRedis('mem-track');
  const sim = new CreatifySimulator();
  const client = new CreatifyClient({ baseUrl: await sim.start(), timeoutMs: 10_000, retries: 0, maxResponseBytes: DEFAULTS.creatifyMaxResponseBytes });
  try {
    const ids = Array.from({ length: TRACKED }, (_, i) => uuidFor(i, 0x8000));
    ids.forEach((id) => sim.set(id, { status: 'running', progress: '0.42' }));
    const store = new TrackingStore(redis, keys, 3600);
    await store.track(ids);
    const tracked = await ourKeys(redis, keys);
    line(`tracked, not answered yet (${fmt(TRACKED)} ids)`, `${fmt(tracked.bytes / TRACKED)} B/id`, `${fmt(tracked.keys)} keys, ${fmt(tracked.bytes / 1024, 1)} KiB`);

    const deps = { redis, keys, client, observer: NOOP_OBSERVER, logger, terminalStatuses: terminalSet(DEFAULTS.terminalStatuses), missingGraceCycles: 3, retentionSeconds: 3600 };
    for (const batch of chunk(ids, 100)) await pollBatch(batch, deps);
    // The first answer also appends a lipsync.tracked event per id; that is delivery's cost, measured below.
    const answered = await ourKeys(redis, keys, new Set([keys.events]));
    const sample = await redis.call('MEMORY', 'USAGE', keys.state(ids[0] as string), 'SAMPLES', '0');
    line(`tracked and answered (state holds the Creatify object)`, `${fmt(answered.bytes / TRACKED)} B/id`, `${fmt(answered.keys)} keys; one state hash ${fmt(Number(sample))} B`);
  } finally {
    client.close();
    await sim.stop();
    await cleanupPrefix(prefix);
    await redis.quit();
  }
}

async function queuedDeliveryBytes(lipsyncs: number, perLipsync: number): Promise<void> {
  const prefix = newPrefix(`mem-deliv-${perLipsync}`);
  const keys = keysFor(prefix);
  const [redis, bull] = [newRedis('mem-deliv'), newRedis('mem-deliv-bull')];
  // The worker is never started: every handed-off delivery stays queued, which is what is measured.
  const pipeline = createWebhookPipeline({
    redis,
    connection: bull,
    keys,
    endpoints: [{ name: 'ops', url: 'http://127.0.0.1:9/never-called', secret: SECRET }],
    delivery: { retryScheduleSeconds: DEFAULTS.retryScheduleSeconds, concurrency: 1 },
    logger,
  });
  try {
    await Promise.all(pipeline.queues.map((q) => q.waitUntilReady()));
    pipeline.dispatcher.start();
    const before = await ourKeys(redis, keys);
    const appended = await appendEvents(redis, keys, makeEvents(lipsyncs, perLipsync, 0x8100 + perLipsync));
    const deadline = Date.now() + SETTLE_LIMIT_MS;
    while ((await redis.xlen(keys.events)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const left = await redis.xlen(keys.events);
    const after = await ourKeys(redis, keys);
    const queued = appended - left;
    const partial = left > 0 ? ` PARTIAL: ${fmt(left)} events not handed off in ${SETTLE_LIMIT_MS / 1000} s` : '';
    line(`queued delivery, ${fmt(lipsyncs)} lipsyncs × ${perLipsync} event${perLipsync > 1 ? 's' : ''}`, `${fmt((after.bytes - before.bytes) / Math.max(1, queued))} B/delivery`, `${fmt(queued)} deliveries, ${fmt(after.keys - before.keys)} keys added, ${fmt((after.bytes - before.bytes) / 1024, 1)} KiB${partial}`);
  } finally {
    await pipeline.close(0);
    await cleanupPrefix(prefix);
    await Promise.all([redis.quit(), bull.quit()]);
  }
}
