/**
 * 13. Section 12's 100,000-id cycle (3 worker processes, 50 req/s) on a local 3-master Redis Cluster with 12
 * partitions: the cycle against the API bound, Redis commands per unchanged id summed over the shards, and how
 * evenly the shards share them (the point of partitions). The cluster is started on loopback ports by the same
 * helper the tests use; skipped, with the reason, where redis-server or redis-cli is missing.
 */
import { Redis as IORedis } from 'ioredis';
import { storeOver } from '../src/store/partitioned-store.js';
import { partitionKeys } from '../src/store/partitions.js';
import { connectRedis, createRedis } from '../src/store/redis.js';
import { TrackingStore } from '../src/store/tracking.js';
import { startRedisCluster } from '../test/helpers/redis-cluster.js';
import { commandStats, SECRET, statsDelta, topCommands, total, uuidFor } from './env.js';
import { BenchReceiver } from './receiver.js';
import { record } from './results.js';
import { BenchSimulator } from './simulator.js';
import { fmt, line, note, section } from './stats.js';
import { CYCLE_LIMIT_MS, ceilingLine, PREFIX, SCALE_EVENTS, SCALE_IDS, SCALE_RATE, SCALE_REPLICAS, sumCodes, waitCycles, workerConfig } from './worker-bench.js';
import { stopAllWorkers, WorkerProcess } from './worker-process.js';

const PARTITIONS = 12;
/** Steady rounds measured after the warm-up round; a round is one cycle line per partition. */
const ROUNDS = 2;

export async function benchCluster(): Promise<void> {
  section(`13. ${fmt(SCALE_IDS)} ids, ${SCALE_REPLICAS} worker processes, ${PARTITIONS} partitions on a local 3-master Redis Cluster, ${SCALE_RATE} req/s`);
  const cluster = await startRedisCluster();
  if ('skipped' in cluster) {
    line('skipped', '', cluster.skipped);
    return;
  }
  const seeds = cluster.urls.join(',');
  const nodes = cluster.urls.map((url) => new IORedis(url, { maxRetriesPerRequest: null }));
  const client = createRedis(seeds, { cluster: true, maxRetriesPerRequest: null });
  const simulator = await BenchSimulator.start(13, SCALE_RATE);
  const receiver = await BenchReceiver.start({ secret: SECRET, parseBodies: false, verifyEvery: 97, keepRecords: false });
  try {
    await connectRedis(client, seeds);
    const ids = Array.from({ length: SCALE_IDS }, (_, i) => uuidFor(i, 0xc000));
    await simulator.set(ids, { status: 'running', progress: '0.5' });
    const store = storeOver(partitionKeys(PREFIX, PARTITIONS, true).map((keys) => new TrackingStore(client, keys, 3600)));
    const started = Date.now();
    await store.track(ids);
    line(`tracked ${fmt(SCALE_IDS)} ids over ${PARTITIONS} partitions`, `${fmt((Date.now() - started) / 1000, 1)} s`, `${cluster.urls.length} masters on loopback`);

    const config = workerConfig({ redisUrl: seeds, simulatorUrl: simulator.baseUrl, receiverUrl: receiver.url, intervalMs: 2000, rate: SCALE_RATE, events: SCALE_EVENTS, partitions: PARTITIONS, cluster: true });
    const workers = Array.from({ length: SCALE_REPLICAS }, (_, i) => WorkerProcess.start(`cluster-${i}`, config));
    await Promise.all(workers.map((w) => w.waitRunning()));
    // Warm-up round: every partition's first cycle (first sightings).
    await waitCycles(workers, PARTITIONS, CYCLE_LIMIT_MS * 2);
    const before = await Promise.all(nodes.map((n) => commandStats(n)));
    const codesBefore = sumCodes(await Promise.all(workers.map((w) => w.creatifyRequests())));
    const lines = await waitCycles(workers, PARTITIONS * (1 + ROUNDS), CYCLE_LIMIT_MS * ROUNDS);
    const after = await Promise.all(nodes.map((n) => commandStats(n)));
    const codesAfter = sumCodes(await Promise.all(workers.map((w) => w.creatifyRequests())));
    const codes = Object.fromEntries(Object.entries(codesAfter).map(([c, n]) => [c, n - (codesBefore[c] ?? 0)]));

    const perNode = after.map((stats, i) => {
      const delta = statsDelta(before[i] ?? new Map(), stats);
      delta.delete('info');
      return delta;
    });
    const all = new Map<string, number>();
    for (const delta of perNode) for (const [cmd, n] of delta) all.set(cmd, (all.get(cmd) ?? 0) + n);
    const steady = lines.slice(PARTITIONS, PARTITIONS * (1 + ROUNDS));
    const polled = steady.reduce((n, c) => n + c.ids, 0);
    const seconds = steady.map((c) => c.seconds);
    const mean = seconds.reduce((a, b) => a + b, 0) / Math.max(1, seconds.length);
    const bound = Math.ceil(SCALE_IDS / 100) / SCALE_RATE;
    ceilingLine(`cycle time, ${SCALE_REPLICAS} replicas, ${PARTITIONS} partitions`, mean, 1.3 * bound, 's');
    line('    cycle / API bound ceil(N/100)/rate', `${fmt(mean / bound, 2)}×`, `partition cycles ${fmt(Math.min(...seconds), 1)}–${fmt(Math.max(...seconds), 1)} s (each spans the whole cycle: they share one rate); Creatify answers ${JSON.stringify(codes)}`);
    const perId = total(all) / Math.max(1, polled);
    ceilingLine('Redis commands per unchanged id, all shards', perId, 1.5, 'cmd/id', 2);
    line('    by command, per id', '', topCommands(all, Math.max(1, polled), 8));
    const shares = perNode.map((d) => total(d) / Math.max(1, total(all)));
    line('    share of commands per master', shares.map((s) => `${fmt(100 * s, 0)} %`).join(' / '), `largest ${fmt(Math.max(...shares) * cluster.urls.length, 2)}× an even share (1.00 = perfectly even)`);
    line('    peak RSS per replica (VmHWM)', workers.map((w) => fmt(w.peakRssMb(), 0)).join(' / ') + ' MB');
    record('cluster_cycle_vs_api_bound_100k', Number((mean / bound).toFixed(3)));
    record('cluster_redis_commands_per_unchanged_id', Number(perId.toFixed(3)));
    record('cluster_max_shard_share_vs_even', Number((Math.max(...shares) * cluster.urls.length).toFixed(3)));
    note('commands are INFO commandstats deltas on every master between the warm-up round and two more rounds (a round = one cycle line per partition)');
  } finally {
    await stopAllWorkers();
    client.disconnect();
    nodes.forEach((n) => n.disconnect());
    await Promise.allSettled([simulator.stop(), receiver.stop()]);
    await cluster.stop();
  }
}
