import { startDaemon, type Daemon } from '../../src/daemon.js';
import type { ChangeEvent } from '../../src/events/types.js';
import { partitionOf } from '../../src/store/partitions.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { uuid } from '../helpers/lipsync.js';
import { cleanupPrefix, newRedis, REDIS_URL, uniquePrefix, waitUntil } from '../helpers/redis.js';
import { SECRET, silentLogger, testConfig } from './helpers.js';

const PARTS = 3;
const RATE = 10;
const prefix = uniquePrefix('partitions');
const sim = new CreatifySimulator();
const receiver = new WebhookReceiver();
const redis = newRedis();
const daemons: Daemon[] = [];

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await Promise.all([sim.stop(), receiver.stop()]);
  await cleanupPrefix(prefix, PARTS);
  redis.disconnect();
});

describe('redis.partitions: 3 partitions, 2 replicas, one Redis', () => {
  it('polls each partition in its own batches, shares one request rate, and delivers every change once', async () => {
    const [creatifyUrl, hookUrl] = await Promise.all([sim.start(), receiver.start()]);
    // 3 partitions each want a request every 200 ms (15/s); the shared limit allows 10/s.
    const config = testConfig(REDIS_URL, prefix, {
      creatify: { simulator: true, maxRequestsPerSecond: RATE },
      redis: { url: REDIS_URL, prefix, partitions: PARTS },
      webhooks: [{ name: 'ops', url: hookUrl, secret: SECRET }],
    });
    daemons.push(...(await Promise.all([0, 1].map(() => startDaemon(config, silentLogger, { creatifyBaseUrl: creatifyUrl })))));
    const [first] = daemons as [Daemon];
    expect(first.partitions.map((p) => p.poll.queue.name)).toEqual([`${prefix}-0-poll`, `${prefix}-1-poll`, `${prefix}-2-poll`]);

    const ids = Array.from({ length: 120 }, (_, i) => uuid(3000 + i));
    ids.forEach((id) => sim.set(id, { status: 'running', progress: '0.5' }));
    await first.store.track(ids);
    const perPartition = await Promise.all(first.partitions.map((p) => redis.zcard(p.keys.pending)));
    expect(perPartition.every((n) => n > 0)).toBe(true);
    expect(perPartition.reduce((a, b) => a + b, 0)).toBe(120);
    await receiver.waitFor(120, 20_000);
    await waitUntil(() => sim.requests.length >= 30, '30 list requests', 20_000);

    ids.forEach((id) => sim.set(id, { status: 'done', progress: '1' }));
    await waitUntil(async () => (await first.store.pendingCount()) === 0, 'all ids terminal', 20_000);
    // tracked + status_changed + completed per id; delivery queues of every partition drained.
    await receiver.waitFor(360, 20_000);
    await waitUntil(async () => (await Promise.all(first.webhooks.queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')))).every((c) => Object.values(c).every((n) => n === 0)), 'delivery queues drained', 15_000);
    const events = receiver.requests.map((r) => JSON.parse(r.body) as ChangeEvent);
    expect(events).toHaveLength(360);
    expect(new Set(events.map((e) => e.id)).size).toBe(360);

    const lists = sim.requests.filter((r) => r.ids !== null);
    // One batch comes from one partition.
    for (const request of lists) expect(new Set(request.ids!.map((id) => partitionOf(id, PARTS))).size).toBe(1);
    // One rate for every partition and replica: at most RATE requests in any second (+1 for network jitter;
    // three unshared limiters would allow 30).
    const times = lists.map((r) => r.at).sort((a, b) => a - b);
    const busiest = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    expect(busiest).toBeLessThanOrEqual(RATE + 1);
    expect(busiest).toBeGreaterThanOrEqual(RATE - 3);

    // Metrics and the status page add up the partitions.
    const metrics = await (await fetch(`${first.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`lipsync_sync_queue_jobs\\{queue="${prefix}-2-webhooks-ops"`));
    const page = await fetch(`${first.httpUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('running → done');
  });

  it('refuses to start with another partition count over the same data, naming the count to use', async () => {
    const config = testConfig(REDIS_URL, prefix, { redis: { url: REDIS_URL, prefix, partitions: 5 } });
    await expect(startDaemon(config, silentLogger)).rejects.toThrow(/redis\.partitions: .*written with 3 partition\(s\), not 5/);
  });
});
