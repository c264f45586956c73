import { pino } from 'pino';
import { DEFAULTS } from '../../src/config/schema.js';
import { CreatifyClient } from '../../src/creatify/client.js';
import type { ChangeEvent } from '../../src/events/types.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { keysFor } from '../../src/store/keys.js';
import { recentTransitions } from '../../src/store/recent.js';
import { TrackingStore } from '../../src/store/tracking.js';
import { NOOP_OBSERVER, type PollOutcome, type SyncObserver } from '../../src/sync/observer.js';
import { pollBatch, type PollBatchDeps } from '../../src/sync/poll-batch.js';
import { PollQueue } from '../../src/sync/poll-queue.js';
import { batchJobId, finishBatch, startCycle } from '../../src/sync/cycle.js';
import { terminalSet } from '../../src/shared/status.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, newRedis, uniquePrefix, waitUntil } from '../helpers/redis.js';

const prefix = uniquePrefix('poll');
const keys = keysFor(prefix);
const redis = newRedis();
const bull = newRedis();
const logger = pino({ level: 'silent' });
const sim = new CreatifySimulator();
const outcomes: PollOutcome[] = [];
const observer: SyncObserver = { ...NOOP_OBSERVER, batchPolled: (o) => outcomes.push(o) };
let client: CreatifyClient;
let store: TrackingStore;
let poll: PollQueue;

function deps(overrides: Partial<PollBatchDeps> = {}): PollBatchDeps {
  return { redis, keys, client, observer, logger, terminalStatuses: terminalSet(['done', 'failed']), missingGraceCycles: 2, retentionSeconds: 600, ...overrides };
}

async function events(): Promise<ChangeEvent[]> {
  const entries = await redis.xrange(keys.events, '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1] ?? '{}') as ChangeEvent);
}

/** Enqueues one scheduler-style tick and waits until its cycle has no batch outstanding. */
async function runCycle(): Promise<void> {
  const before = await redis.hget(keys.meta, 'cycle_id');
  await poll.queue.add('tick', {});
  await waitUntil(async () => {
    const [current, outstanding, counts] = await Promise.all([redis.hget(keys.meta, 'cycle_id'), redis.scard(keys.cycleBatches), poll.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')]);
    const idle = Object.values(counts).every((n) => n === 0);
    return idle && outstanding === 0 && (current !== before || (await store.pendingCount()) === 0);
  }, 'the poll cycle to finish');
}

beforeAll(async () => {
  const baseUrl = await sim.start();
  client = new CreatifyClient({ baseUrl, timeoutMs: 2000, retries: 2, maxResponseBytes: DEFAULTS.creatifyMaxResponseBytes });
  store = new TrackingStore(redis, keys, 600);
  poll = new PollQueue({ connection: bull, keys, store, intervalMs: 60_000, batchSize: 100, concurrency: 4, maxRequestsPerSecond: 50, deps: deps(), logger });
  poll.start();
});

beforeEach(async () => {
  sim.reset();
  outcomes.length = 0;
  await redis.del(keys.events, keys.pending, keys.statusCounts, keys.stalled, keys.stalledCounts);
});

afterAll(async () => {
  await poll.close(5000);
  client.close();
  await sim.stop();
  await cleanupPrefix(prefix);
  await Promise.all([redis.quit(), bull.quit()]);
});

describe('poll cycle (real Redis + simulator)', () => {
  it('polls 250 tracked ids with exactly 3 requests of at most 100 ids', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => uuid(1000 + i));
    ids.forEach((id) => sim.set(id, { status: 'running', progress: '0.1' }));
    await store.track(ids);
    await runCycle();
    expect(sim.requests).toHaveLength(3);
    expect(sim.requests.map((r) => r.ids?.length).sort()).toEqual([100, 100, 50]);
    expect(new Set(sim.requests.flatMap((r) => r.ids ?? [])).size).toBe(250);
    expect((await events()).filter((e) => e.type === 'lipsync.tracked')).toHaveLength(250);
    expect(await store.statusCounts()).toEqual({ running: 250 });
  });

  it('emits running→done once, then stops polling the terminal id', async () => {
    const id = uuid(2000);
    sim.set(id, { status: 'running', progress: '0.5' });
    await store.track([id]);
    await runCycle();
    sim.set(id, { status: 'done', progress: '1', output: 'https://cdn.example/out.mp4' });
    await runCycle();
    await runCycle(); // no longer pending: this cycle asks nothing
    const types = (await events()).map((e) => e.type);
    expect(types).toEqual(['lipsync.tracked', 'lipsync.status_changed', 'lipsync.completed']);
    const done = (await events())[1];
    expect(done?.data.previous).toEqual({ status: 'running', progress: '0.5', failed_reason: null });
    expect(done?.data.current.status).toBe('done');
    expect(done?.data.lipsync?.output).toBe('https://cdn.example/out.mp4');
    expect(sim.requests).toHaveLength(2);
    expect(await store.pendingCount()).toBe(0);
    expect((await store.get(id))?.terminal).toBe(true);
    expect((await store.track([id])).get(id)).toBe('terminal');
  });

  it('honours 429 Retry-After queue-wide and then completes the batch', async () => {
    const id = uuid(3000);
    sim.set(id, { status: 'running' });
    await store.track([id]);
    sim.enqueueResponse({ status: 429, headers: { 'retry-after': '1' }, body: '{"detail":"slow down"}' });
    await runCycle();
    expect(sim.requests.map((r) => r.status)).toEqual([429, 200]);
    const [first, second] = sim.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(outcomes).toEqual(['rate_limited', 'ok']);
    expect((await events()).map((e) => e.type)).toEqual(['lipsync.tracked']);
  });

  it('recovers from a 500 followed by a 200 inside one request', async () => {
    const id = uuid(4000);
    sim.set(id, { status: 'in_queue' });
    await store.track([id]);
    sim.enqueueResponse({ status: 500, body: 'oops' });
    await runCycle();
    expect(sim.requests.map((r) => r.status)).toEqual([500, 200]);
    expect(outcomes).toEqual(['ok']);
    expect((await store.get(id))?.status).toBe('in_queue');
  });

  it('keeps the other items of a batch when one is unreadable, shows it by status, and after the grace cycles emits missing', async () => {
    const [good, bad] = [uuid(5000), uuid(5001)];
    sim.set(good, { status: 'running' });
    sim.set(bad, { status: 'running' });
    sim.setMalformed(bad, (obj) => {
      delete obj['status'];
    });
    await store.track([good, bad]);
    await runCycle();
    expect((await events()).map((e) => e.data.lipsync_id)).toEqual([good]);
    expect(await store.get(bad)).toMatchObject({ pending: true, missed_cycles: 0, unreadable: { cycles: 1, detail: expect.stringMatching(/status/) } });
    expect(await redis.sismember(keys.unreadable, bad)).toBe(1);
    await runCycle();
    const missing = (await events()).filter((e) => e.type === 'lipsync.missing');
    expect(missing.map((e) => [e.data.lipsync_id, e.data.reason])).toEqual([[bad, 'unreadable']]);
    expect(await store.get(bad)).toMatchObject({ pending: false });
    expect(await redis.sismember(keys.unreadable, bad)).toBe(0);
  });

  it('follows a lipsync to its final status through loose types on fields it does not read', async () => {
    const id = uuid(5100);
    sim.set(id, { status: 'running', progress: '0.1' });
    sim.setMalformed(id, (obj) => {
      obj['progress'] = 0.4;
      obj['video_thumbnail'] = null;
      obj['duration'] = null;
      obj['credits_used'] = 2.5;
    });
    await store.track([id]);
    await runCycle();
    sim.set(id, { status: 'done', progress: '1' });
    await runCycle();
    const all = await events();
    expect(all.map((e) => [e.type, e.data.sequence])).toEqual([['lipsync.tracked', 1], ['lipsync.status_changed', 2], ['lipsync.completed', 2]]);
    expect(all[0]?.data.current.progress).toBe('0.4');
    expect(await store.pendingCount()).toBe(0);
  });

  it('delivers a transition that happens twice (a requeued job) as two events with different ids', async () => {
    const id = uuid(5200);
    await store.track([id]);
    for (const status of ['running', 'in_queue', 'running']) {
      sim.set(id, { status, progress: '0' });
      await pollBatch([id], deps());
    }
    const changes = (await events()).filter((e) => e.type === 'lipsync.status_changed');
    expect(changes.map((e) => [e.data.current.status, e.data.sequence])).toEqual([['in_queue', 2], ['running', 3]]);
    // The status page's recent list has each applied transition, newest first.
    expect((await recentTransitions(redis, keys)).filter((t) => t.id === id).map((t) => [t.from, t.to])).toEqual([['in_queue', 'running'], ['running', 'in_queue'], ['none', 'running']]);
    const all = await events();
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });

  it('reports a lipsync that stops moving as stalled once, counts it per status, and recovers it when it moves', async () => {
    const id = uuid(5400);
    const stalledAfterMs = new Map([['running', 60_000]]);
    let clock = Date.now();
    const at = deps({ stalledAfterMs, now: () => new Date(clock) });
    sim.set(id, { status: 'running', progress: '0.2' });
    await store.track([id]);
    await pollBatch([id], at);
    clock += 61_000;
    await pollBatch([id], at);
    clock += 61_000;
    await pollBatch([id], at); // still stalled: reported once
    expect(await store.stalledCounts()).toEqual({ running: 1 });
    expect((await store.get(id))?.stalled_since).not.toBeNull();
    expect(await store.stalled()).toEqual([{ id, status: 'running', since: (await store.get(id))?.stalled_since }]);
    sim.set(id, { status: 'running', progress: '0.6' });
    clock += 1000;
    await pollBatch([id], at);
    const types = (await events()).map((e) => [e.type, e.data.sequence]);
    expect(types).toEqual([['lipsync.tracked', 1], ['lipsync.stalled', 2], ['lipsync.progress_changed', 3], ['lipsync.recovered', 3]]);
    expect(await store.stalledCounts()).toEqual({});
    const record = await store.get(id);
    expect(record?.stalled_since).toBeNull();
    // 0.2 → 0.6 over 123 s: the remaining 0.4 takes about as long again.
    expect(Date.parse(record?.eta ?? '')).toBe(clock + 123_000);
  });

  it('stops counting a stalled lipsync when it is untracked', async () => {
    const id = uuid(5500);
    let clock = Date.now();
    const at = deps({ stalledAfterMs: new Map([['in_queue', 1000]]), now: () => new Date(clock) });
    sim.set(id, { status: 'in_queue', progress: '0' });
    await store.track([id]);
    await pollBatch([id], at);
    clock += 2000;
    await pollBatch([id], at);
    expect(await store.stalledCounts()).toEqual({ in_queue: 1 });
    await store.untrack([id]);
    expect(await store.stalledCounts()).toEqual({});
    expect(await redis.zscore(keys.stalled, id)).toBeNull();
  });

  it('writes nothing for an id whose answer did not change, beyond the batch seen mark', async () => {
    const id = uuid(5300);
    sim.set(id, { status: 'running', progress: '0.3' });
    await store.track([id]);
    await pollBatch([id], deps());
    const before = await redis.hgetall(keys.state(id));
    await pollBatch([id], deps({ now: () => new Date(Date.now() + 5000) }));
    expect(await redis.hgetall(keys.state(id))).toEqual(before);
    expect(Number(await redis.zscore(keys.seen, id))).toBeGreaterThan(Date.parse(before['seen_at'] ?? ''));
    expect(Date.parse((await store.get(id))?.seen_at ?? '')).toBeGreaterThan(Date.parse(before['seen_at'] ?? ''));
  });

  it('emits lipsync.missing after the grace cycles and stops polling the id', async () => {
    const id = uuid(6000);
    await store.track([id]);
    await runCycle();
    expect(await events()).toEqual([]);
    await runCycle();
    expect((await events()).map((e) => e.type)).toEqual(['lipsync.missing']);
    expect(await store.pendingCount()).toBe(0);
  });

  it('a non-JSON answer fails the batch without touching state', async () => {
    const id = uuid(7000);
    sim.set(id, { status: 'running' });
    await store.track([id]);
    await pollBatch([id], deps());
    sim.enqueueResponse({ status: 200, body: '<html>' });
    await expect(pollBatch([id], deps())).rejects.toThrow(/not JSON/);
    expect((await events()).map((e) => e.type)).toEqual(['lipsync.tracked']);
    expect(await store.pendingCount()).toBe(1);
  });

  it('skips a tick that comes while the previous cycle is still polling, so no id is polled twice at once', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => uuid(9000 + i));
    ids.forEach((id) => sim.set(id, { status: 'running' }));
    await store.track(ids);
    const slow = new CreatifySimulator({ latencyMs: 600 });
    const slowClient = new CreatifyClient({ baseUrl: await slow.start(), timeoutMs: 5000, retries: 0, maxResponseBytes: DEFAULTS.creatifyMaxResponseBytes });
    ids.forEach((id) => slow.set(id, { status: 'running' }));
    const slowPoll = new PollQueue({ connection: bull, keys, store, intervalMs: 60_000, batchSize: 10, concurrency: 4, maxRequestsPerSecond: 50, deps: deps({ client: slowClient }), logger });
    try {
      await poll.close(5000); // only the slow worker may take jobs in this test
      slowPoll.start();
      const first = await slowPoll.queue.add('tick', {});
      await waitUntil(() => slow.requests.length > 0, 'the first cycle to start polling');
      const second = await slowPoll.queue.add('tick', {});
      const skipped = await waitUntil(async () => (await slowPoll.queue.getJob(second.id ?? ''))?.returnvalue as unknown, 'the second tick');
      expect(skipped).toMatchObject({ kind: 'busy', outstanding: 3 });
      await waitUntil(async () => (await redis.scard(keys.cycleBatches)) === 0, 'the first cycle to finish');
      expect(await first.isCompleted()).toBe(true);
      expect(slow.requests).toHaveLength(3);
      expect(new Set(slow.requests.flatMap((r) => r.ids ?? [])).size).toBe(30);
    } finally {
      await slowPoll.close(5000);
      slowClient.close();
      await slow.stop();
      poll = new PollQueue({ connection: bull, keys, store, intervalMs: 60_000, batchSize: 100, concurrency: 4, maxRequestsPerSecond: 50, deps: deps(), logger });
      poll.start();
    }
  });

  it('lets only one of several concurrent ticks start a cycle, and only one finishing batch end it', async () => {
    await redis.del(keys.cycleBatches, keys.meta);
    await store.track(Array.from({ length: 25 }, (_, i) => uuid(9500 + i)));
    const now = Date.now();
    const starts = await Promise.all(['cA', 'cB', 'cC', 'cD'].map((tickId) => startCycle(redis, keys, { tickId, tickJobId: `job-${tickId}`, batchSize: 10, now })));
    const started = starts.filter((s) => s.kind === 'started');
    expect(started).toHaveLength(1);
    expect(starts.filter((s) => s.kind === 'busy')).toHaveLength(3);
    const cycleId = started[0]?.kind === 'started' ? started[0].cycleId : '';
    const ends = await Promise.all([0, 1, 2].map((i) => finishBatch(redis, keys, batchJobId(cycleId, i), { ids: 10, events: 1, failed: i === 2 }, now + 1000)));
    expect(ends.filter((e) => e !== null)).toEqual([{ seconds: 1, batches: 3, ids: 30, events: 3, failedBatches: 1 }]);
    expect(await finishBatch(redis, keys, batchJobId(cycleId, 0), { ids: 10, events: 1, failed: false }, now)).toBeNull();
  });

  it('two workers applying the same answer emit each event once', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => uuid(8000 + i));
    ids.forEach((id) => sim.set(id, { status: 'running', progress: '0.2' }));
    await store.track(ids);
    const otherRedis = newRedis();
    try {
      const results = await Promise.all([pollBatch(ids, deps()), pollBatch(ids, deps({ redis: otherRedis }))]);
      ids.forEach((id) => sim.set(id, { status: 'failed', failed_reason: 'face not detected' }));
      await Promise.all([pollBatch(ids, deps()), pollBatch(ids, deps({ redis: otherRedis }))]);
      expect(results[0].events + results[1].events).toBe(40);
    } finally {
      otherRedis.disconnect();
    }
    const all = await events();
    expect(all.filter((e) => e.type === 'lipsync.tracked')).toHaveLength(40);
    expect(all.filter((e) => e.type === 'lipsync.failed')).toHaveLength(40);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(await store.pendingCount()).toBe(0);
  });
});
