import { pino } from 'pino';
import { cadenceSchema, DEFAULTS, type CadenceConfig } from '../../src/config/schema.js';
import { CreatifyClient } from '../../src/creatify/client.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { keysFor } from '../../src/store/keys.js';
import { TrackingStore } from '../../src/store/tracking.js';
import { cadenceFrom } from '../../src/sync/cadence.js';
import { NOOP_OBSERVER } from '../../src/sync/observer.js';
import { PollQueue } from '../../src/sync/poll-queue.js';
import { terminalSet } from '../../src/shared/status.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, newRedis, uniquePrefix, waitUntil } from '../helpers/redis.js';

const INTERVAL_MS = 500;
const redis = newRedis();
const bull = newRedis();
const logger = pino({ level: 'silent' });
const sim = new CreatifySimulator();
const prefixes: string[] = [];
let client: CreatifyClient;

/** A scheduled poll queue (real ticks every INTERVAL_MS) on its own prefix; cadence off when `cadence` is absent. */
async function startQueue(cadence?: Partial<CadenceConfig>): Promise<{ poll: PollQueue; store: TrackingStore }> {
  const prefix = uniquePrefix(`cadence${prefixes.length}`);
  prefixes.push(prefix);
  const keys = keysFor(prefix);
  const store = new TrackingStore(redis, keys, 600);
  const deps = { redis, keys, client, observer: NOOP_OBSERVER, logger, terminalStatuses: terminalSet(['done', 'failed']), missingGraceCycles: 3, retentionSeconds: 600, ...(cadence === undefined ? {} : { cadence: cadenceFrom(cadenceSchema.parse(cadence), INTERVAL_MS) }) };
  const poll = new PollQueue({ connection: bull, keys, store, intervalMs: INTERVAL_MS, batchSize: 100, concurrency: 4, maxRequestsPerSecond: 50, deps, logger });
  return { poll, store };
}

/** Ms between consecutive polls of `id`, from the simulator's record of what was asked. */
function gaps(id: string): number[] {
  const times = sim.requests.filter((r) => r.ids?.includes(id)).map((r) => r.at);
  return times.slice(1).map((t, i) => t - (times[i] ?? t));
}

function polls(id: string): number {
  return sim.requests.filter((r) => r.ids?.includes(id)).length;
}

async function runUntil(queue: { poll: PollQueue; store: TrackingStore }, ids: string[], done: () => boolean, what: string): Promise<void> {
  await queue.store.track(ids);
  await queue.poll.schedule();
  queue.poll.start();
  try {
    await waitUntil(done, what, 30_000);
  } finally {
    await queue.poll.queue.removeJobScheduler('poll-tick');
    await queue.poll.close(5000);
  }
}

beforeAll(async () => {
  client = new CreatifyClient({ baseUrl: await sim.start(), timeoutMs: 2000, retries: 2, maxResponseBytes: DEFAULTS.creatifyMaxResponseBytes });
});

beforeEach(() => sim.reset());

afterAll(async () => {
  client.close();
  await sim.stop();
  for (const prefix of prefixes) await cleanupPrefix(prefix);
  await Promise.all([redis.quit(), bull.quit()]);
});

describe('poll queue with poll.cadence (real Redis, real ticks, simulator)', () => {
  it('polls running ids every interval and in_queue/pending ids at their slower period', async () => {
    const running = [uuid(9100), uuid(9101)];
    const waiting = [uuid(9102), uuid(9103)];
    running.forEach((id) => sim.set(id, { status: 'running', progress: '0.3' }));
    sim.set(waiting[0] ?? '', { status: 'in_queue' });
    sim.set(waiting[1] ?? '', { status: 'pending' });
    const queue = await startQueue({ periodMs: { running: INTERVAL_MS, in_queue: 4 * INTERVAL_MS, pending: 4 * INTERVAL_MS, default: INTERVAL_MS }, idleAfterMs: 600_000, maxPeriodMs: 8 * INTERVAL_MS });
    await runUntil(queue, [...running, ...waiting], () => waiting.every((id) => polls(id) >= 4), 'each waiting id to be polled 4 times');

    for (const id of running) {
      // Goal: every interval; bound: the crash bound's 2 × interval, with the suite's 3× margin for a loaded machine.
      expect(Math.max(...gaps(id))).toBeLessThanOrEqual(3 * 2 * INTERVAL_MS);
      expect(polls(id)).toBeGreaterThanOrEqual(2 * polls(waiting[0] ?? ''));
    }
    for (const id of waiting) {
      // Never early: a tick picks an id due before the middle of the next interval, no sooner.
      expect(Math.min(...gaps(id))).toBeGreaterThanOrEqual(4 * INTERVAL_MS - INTERVAL_MS);
    }
  }, 40_000);

  it('backs idle ids off, but never past the ceiling', async () => {
    const ids = [uuid(9200), uuid(9201)];
    ids.forEach((id) => sim.set(id, { status: 'running', progress: '0.3' }));
    const ceiling = 6 * INTERVAL_MS;
    const queue = await startQueue({ periodMs: { default: INTERVAL_MS }, idleAfterMs: 1000, maxPeriodMs: ceiling });
    await runUntil(queue, ids, () => ids.every((id) => gaps(id).filter((g) => g >= ceiling / 2).length >= 3), 'three polls backed off to near the ceiling');

    for (const id of ids) {
      const seen = gaps(id);
      expect(seen[0]).toBeLessThan(2 * INTERVAL_MS); // fresh: every interval
      // Goal: never past the ceiling; bound with the suite's 3× margin for a loaded machine.
      expect(Math.max(...seen)).toBeLessThanOrEqual(3 * ceiling);
    }
  }, 40_000);

  it('without poll.cadence polls every pending id in every cycle, whatever its status', async () => {
    const ids = [uuid(9300), uuid(9301)];
    sim.set(ids[0] ?? '', { status: 'in_queue' });
    sim.set(ids[1] ?? '', { status: 'running' });
    const queue = await startQueue();
    await runUntil(queue, ids, () => ids.every((id) => polls(id) >= 4), 'four polls of each id');
    for (const id of ids) expect(Math.max(...gaps(id))).toBeLessThanOrEqual(3 * 2 * INTERVAL_MS);
    expect(Math.abs(polls(ids[0] ?? '') - polls(ids[1] ?? ''))).toBeLessThanOrEqual(1);
    for (const request of sim.requests) expect([...(request.ids ?? [])].sort()).toEqual([...ids].sort());
  }, 40_000);
});
