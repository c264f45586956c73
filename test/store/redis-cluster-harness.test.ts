import { Queue, Worker } from 'bullmq';
import type { Cluster } from 'ioredis';
import { newClusterClient, redisClusterUnavailable, startRedisCluster, type RedisClusterHandle } from '../helpers/redis-cluster.js';

// Jest registers tests synchronously, so whether to skip is decided here, not in beforeAll.
const unavailable = redisClusterUnavailable();
if (unavailable !== null) console.warn(`skipping Redis Cluster harness tests: ${unavailable}`);
const maybe = unavailable === null ? test : test.skip;

const TAGS = Array.from({ length: 12 }, (_, i) => `{lsync:${i}}`);

describe('Redis Cluster test harness', () => {
  let handle: RedisClusterHandle | undefined;
  let cluster: Cluster | undefined;

  beforeAll(async () => {
    if (unavailable !== null) return;
    const started = await startRedisCluster();
    if ('skipped' in started) throw new Error(`binaries vanished between checks: ${started.skipped}`);
    handle = started;
    const client = newClusterClient(handle);
    cluster = client;
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', reject);
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.quit().catch(() => cluster?.disconnect());
    await handle?.stop();
  }, 30_000);

  /** Which master (host:port) owns each tag's slot, according to CLUSTER KEYSLOT and CLUSTER NODES. */
  async function ownerByTag(c: Cluster): Promise<Map<string, string>> {
    const ranges = parseMasterSlots(String(await c.call('CLUSTER', 'NODES')));
    const owners = new Map<string, string>();
    for (const tag of TAGS) {
      const slot = Number(await c.call('CLUSTER', 'KEYSLOT', `${tag}:x`));
      const owner = ranges.find((r) => slot >= r.from && slot <= r.to)?.address;
      if (owner === undefined) throw new Error(`no master owns slot ${slot} of ${tag}`);
      owners.set(tag, owner);
    }
    return owners;
  }

  maybe('spreads the 12 hash tags over at least 2 masters, and the keys really live there', async () => {
    const c = cluster!;
    const owners = await ownerByTag(c);
    expect(new Set(owners.values()).size).toBeGreaterThanOrEqual(2);

    // Cross-check against the nodes themselves: KEYS is node-local, so each key must show up on its owner only.
    for (const tag of TAGS) await c.set(`${tag}:owner`, tag);
    const found = new Map<string, string>();
    const masters = c.nodes('master');
    expect(masters).toHaveLength(handle!.nodes.length);
    for (const node of masters) {
      for (const key of await node.keys('{lsync:*}:owner')) {
        expect(found.has(key)).toBe(false);
        found.set(key, `${node.options.host}:${node.options.port}`);
      }
    }
    for (const tag of TAGS) expect(found.get(`${tag}:owner`)).toBe(owners.get(tag));
  });

  maybe('runs a two-key EVAL within one hash tag and refuses one across nodes with CROSSSLOT', async () => {
    const c = cluster!;
    const script = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return redis.call('MGET', KEYS[1], KEYS[2])";
    await expect(c.eval(script, 2, '{lsync:0}:a', '{lsync:0}:b', 'v')).resolves.toEqual(['v', 'v']);

    const owners = await ownerByTag(c);
    const first = TAGS[0]!;
    const other = TAGS.find((t) => owners.get(t) !== owners.get(first));
    expect(other).toBeDefined();
    await expect(c.eval(script, 2, `${first}:a`, `${other}:a`, 'v')).rejects.toThrow(/CROSSSLOT/);
  });

  maybe('runs a BullMQ queue and worker with a hash-tagged prefix on the Cluster client', async () => {
    const c = cluster!;
    const queue = new Queue('harness', { connection: c, prefix: '{bq-test}' });
    const worker = new Worker('harness', async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), { connection: c, prefix: '{bq-test}' });
    try {
      const completed = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('job not completed within 10000 ms')), 10_000);
        worker.once('completed', (_job, result) => {
          clearTimeout(timer);
          resolve(result);
        });
        worker.once('failed', (_job, err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      await queue.add('double', { n: 21 });
      await expect(completed).resolves.toEqual({ doubled: 42 });
    } finally {
      await worker.close();
      await queue.close();
    }
  }, 20_000);
});

/** Slot ranges of each master from CLUSTER NODES; `[slot->-id]` migration entries are not ownership. */
function parseMasterSlots(nodes: string): Array<{ address: string; from: number; to: number }> {
  const ranges: Array<{ address: string; from: number; to: number }> = [];
  for (const line of nodes.split('\n')) {
    const [, addressField, flags, , , , , , ...slots] = line.trim().split(' ');
    if (addressField === undefined || flags === undefined || !flags.split(',').includes('master')) continue;
    // ip:port@busport[,hostname]
    const address = addressField.split('@')[0]!;
    for (const slot of slots) {
      if (slot.startsWith('[')) continue;
      const [from, to] = slot.split('-');
      ranges.push({ address, from: Number(from), to: Number(to ?? from) });
    }
  }
  return ranges;
}
