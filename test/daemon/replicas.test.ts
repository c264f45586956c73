import { startDaemon, type Daemon } from '../../src/daemon.js';
import type { ChangeEvent } from '../../src/events/types.js';
import { CreatifySimulator, type RecordedRequest } from '../../src/simulator/server.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix, waitUntil } from '../helpers/redis.js';
import { SECRET, silentLogger, testConfig } from './helpers.js';

const prefix = uniquePrefix('replicas');
const sim = new CreatifySimulator();
const receiver = new WebhookReceiver();
const daemons: Daemon[] = [];

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await Promise.all([sim.stop(), receiver.stop()]);
  await cleanupPrefix(prefix);
});

describe('several replicas on one Redis', () => {
  it('start concurrently with one scheduler, never ask an id twice in one cycle, and deliver each event once', async () => {
    const [creatifyUrl, hookUrl] = await Promise.all([sim.start(), receiver.start()]);
    const config = testConfig(REDIS_URL, prefix, { webhooks: [{ name: 'ops', url: hookUrl, secret: SECRET }] });
    daemons.push(...(await Promise.all([0, 1, 2].map(() => startDaemon(config, silentLogger, { creatifyBaseUrl: creatifyUrl })))));
    const [first] = daemons as [Daemon];
    expect(await first.partitions[0]!.poll.queue.getJobSchedulers()).toHaveLength(1);

    const ids = Array.from({ length: 150 }, (_, i) => uuid(500 + i));
    ids.forEach((id) => sim.set(id, { status: 'running', progress: '0.5' }));
    await first.store.track(ids);
    await receiver.waitFor(150, 15_000);
    // Let at least three full cycles over the unchanged set happen before anything turns terminal.
    await waitUntil(() => asked(sim.requests) >= 3 * ids.length, 'three poll cycles over 150 ids', 15_000);
    const steady = sim.requests.slice();
    ids.forEach((id, i) => sim.set(id, i % 2 === 0 ? { status: 'done', progress: '1' } : { status: 'failed', failed_reason: 'audio too long' }));
    await waitUntil(async () => (await first.store.pendingCount()) === 0, 'all ids terminal', 15_000);
    // tracked + (status_changed + completed|failed) per id.
    await receiver.waitFor(450, 15_000);
    // Every delivery job has finished, so a duplicate would already have arrived.
    await waitUntil(async () => (await Promise.all(first.webhooks.queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')))).every((c) => Object.values(c).every((n) => n === 0)), 'delivery queue drained', 15_000);
    const events = receiver.requests.map((r) => JSON.parse(r.body) as ChangeEvent);
    expect(events).toHaveLength(450);
    expect(new Set(events.map((e) => e.id)).size).toBe(450);
    expect(events.filter((e) => e.type === 'lipsync.failed')).toHaveLength(75);

    // No id asked twice in one cycle. While the pending set does not change, each cycle asks every id once, and
    // the next cycle's requests all come after it (a cycle starts only when every batch of the previous one
    // finished): so the steady-state requests split into consecutive windows of exactly the 150 ids.
    const cycles = splitIntoCycles(steady, ids.length);
    expect(cycles.length).toBeGreaterThanOrEqual(3);
    cycles.forEach((cycle, i) => {
      expect([i, sim.idsAskedTwice(cycle)]).toEqual([i, []]);
      if (i < cycles.length - 1) expect([i, asked(cycle)]).toEqual([i, ids.length]);
    });
  });
});

function asked(requests: readonly RecordedRequest[]): number {
  return requests.reduce((n, r) => n + (r.ids?.length ?? 0), 0);
}

/** Consecutive list requests (discovery excluded), cut each time `size` distinct ids have been asked. */
function splitIntoCycles(requests: readonly RecordedRequest[], size: number): RecordedRequest[][] {
  const cycles: RecordedRequest[][] = [];
  let current: RecordedRequest[] = [];
  let covered = new Set<string>();
  for (const request of requests) {
    if (request.ids === null) continue;
    if (covered.size >= size) {
      cycles.push(current);
      current = [];
      covered = new Set();
    }
    current.push(request);
    request.ids.forEach((id) => covered.add(id));
  }
  if (current.length > 0) cycles.push(current);
  return cycles;
}
