/**
 * The daemon on a real 3-master Redis Cluster (loopback, started by the test): partitions spread over the shards,
 * every Lua step and pipeline stays in one slot, and the whole product works end to end. Skipped, with the
 * reason printed, only where redis-server / redis-cli are missing.
 */
import { Cluster } from 'ioredis';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import type { ChangeEvent } from '../../src/events/types.js';
import { partitionKeys } from '../../src/store/partitions.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { newClusterClient, redisClusterUnavailable, startRedisCluster, type RedisClusterHandle } from '../helpers/redis-cluster.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { uuid } from '../helpers/lipsync.js';
import { runCli } from '../helpers/cli.js';
import { waitUntil } from '../helpers/redis.js';
import { SECRET, silentLogger, testConfig } from './helpers.js';

const unavailable = redisClusterUnavailable();
if (unavailable !== null) console.warn(`cluster.test: skipped, ${unavailable}`);
const maybe = unavailable === null ? it : it.skip;

const PARTS = 6;
const sim = new CreatifySimulator();
const receiver = new WebhookReceiver();
const daemons: Daemon[] = [];
let cluster: RedisClusterHandle | null = null;
let client: Cluster | null = null;

beforeAll(async () => {
  if (unavailable !== null) return;
  const started = await startRedisCluster();
  if ('skipped' in started) throw new Error(started.skipped);
  cluster = started;
  client = newClusterClient(started);
  await Promise.all([sim.start(), receiver.start()]);
}, 60_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  if (unavailable === null) await Promise.all([sim.stop(), receiver.stop()]);
  client?.disconnect();
  await cluster?.stop();
});

/** The master port that owns a key's slot. */
async function ownerOf(key: string): Promise<number> {
  const slot = Number(await client!.cluster('KEYSLOT', key));
  const range = (await client!.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
  const master = range?.[2];
  if (master === undefined) throw new Error(`no node owns slot ${slot}`);
  return master[1];
}

describe('Redis Cluster, 3 masters', () => {
  maybe('runs 2 replicas over 6 partitions spread across the shards and delivers every change once', async () => {
    const [creatifyUrl, hookUrl] = [sim.baseUrl, receiver.url];
    const prefix = 'lsync';
    const config = testConfig(cluster!.urls.join(','), prefix, {
      redis: { url: cluster!.urls.join(','), prefix, partitions: PARTS, cluster: true },
      webhooks: [{ name: 'ops', url: hookUrl, secret: SECRET }],
    });
    daemons.push(...(await Promise.all([0, 1].map(() => startDaemon(config, silentLogger, { creatifyBaseUrl: creatifyUrl })))));
    const [first] = daemons as [Daemon];
    const owners = new Set(await Promise.all(partitionKeys(prefix, PARTS).map((keys) => ownerOf(keys.pending))));
    expect(owners.size).toBeGreaterThanOrEqual(2);

    const ids = Array.from({ length: 120 }, (_, i) => uuid(9000 + i));
    ids.forEach((id) => sim.set(id, { status: 'running', progress: '0.5' }));
    await first.store.track(ids);
    await receiver.waitFor(120, 20_000);
    ids.forEach((id, i) => sim.set(id, i % 2 === 0 ? { status: 'done', progress: '1' } : { status: 'failed', failed_reason: 'face not found' }));
    await waitUntil(async () => (await first.store.pendingCount()) === 0, 'all ids terminal', 20_000);
    await receiver.waitFor(360, 20_000);
    const events = receiver.requests.map((r) => JSON.parse(r.body) as ChangeEvent);
    expect(new Set(events.map((e) => e.id)).size).toBe(360);
    expect(events.filter((e) => e.type === 'lipsync.failed')).toHaveLength(60);

    // The read side works across shards too: one id, the counts, readiness, metrics.
    expect(await first.store.get(ids[1]!)).toMatchObject({ status: 'failed', failed_reason: 'face not found', pending: false });
    const ready = (await (await fetch(`${first.httpUrl}/readyz`)).json()) as { status: string };
    expect(ready.status).toBe('ready');
    const metrics = await (await fetch(`${first.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/lipsync_sync_redis_up 1/);
  }, 90_000);

  maybe('tags an untagged prefix for one partition, so its scripts stay in one slot', async () => {
    const creatifyUrl = sim.baseUrl;
    const config = testConfig(cluster!.urls[0]!, 'single', { redis: { url: cluster!.urls[0]!, prefix: 'single', cluster: true } });
    const daemon = await startDaemon(config, silentLogger, { creatifyBaseUrl: creatifyUrl });
    daemons.push(daemon);
    const id = uuid(12_345);
    sim.set(id, { status: 'done', progress: '1' });
    await daemon.store.track([id]);
    await waitUntil(async () => (await daemon.store.get(id))?.status === 'done', 'the id answered', 15_000);
    expect(await client!.exists('{single}:state:' + id)).toBe(1);
  }, 30_000);

  maybe('lets the CLI track and read ids on the partitioned Cluster with the same env as the daemon', async () => {
    const env = { REDIS_URL: cluster!.urls.join(','), REDIS_CLUSTER: 'true', REDIS_PARTITIONS: String(PARTS), LIPSYNC_SYNC_PREFIX: 'lsync' };
    const ids = [uuid(77_001), uuid(77_002), uuid(77_003)];
    const tracked = await runCli(['track', ...ids], env);
    expect([tracked.code, tracked.stderr]).toEqual([0, '']);
    const [first] = daemons as [Daemon];
    for (const id of ids) expect(await first.store.get(id)).toMatchObject({ id, pending: true });
    const status = await runCli(['status', ids[2]!], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(ids[2]);
  }, 30_000);
});
